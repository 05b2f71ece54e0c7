"""Building EventPlan objects for tests without a question file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chatbot.questionfile.model import EventPlan, PlannedPost, Question

START = datetime(2030, 12, 3, 12, 0, tzinfo=ZoneInfo("America/New_York"))


def make_plan(
    *,
    hashtag: str = "sm35",
    title: str = "Social media in 2035",
    start: datetime = START,
    questions: int | list[str] = 3,
    spacing: timedelta = timedelta(minutes=10),
    networks: tuple[str, ...] = ("bluesky",),
    welcome: str | None = "Welcome to the chat!",
    wrapup: str | None = "Thanks for joining!",
    path: str = "questions/sm35.md",
    offsets: list[timedelta] | None = None,
    settings: dict[str, object] | None = None,
    accounts: dict[str, str] | None = None,
) -> EventPlan:
    """A plan: optional welcome at the start, questions every ``spacing``, then a wrap-up."""
    texts = (
        questions
        if isinstance(questions, list)
        else [f"Question {n}?" for n in range(1, questions + 1)]
    )
    if offsets is None:
        offsets = [spacing * (n + 1) for n in range(len(texts))]
    tag = f" #{hashtag}"
    question_rows = tuple(
        Question(number=n, suffix="", text=body, offset=offset, line=10 + n)
        for n, (body, offset) in enumerate(zip(texts, offsets, strict=True), start=1)
    )
    posts: list[PlannedPost] = []

    def add(
        kind: str, label: str, number: int | None, offset: timedelta, body: str, line: int
    ) -> None:
        posts.append(
            PlannedPost(
                kind=kind,  # type: ignore[arg-type]
                label=label,
                number=number,
                suffix="",
                due_at=start.astimezone(UTC) + offset,
                texts={network: body + tag for network in networks},
                line=line,
            )
        )

    if welcome is not None:
        add("welcome", "welcome", None, timedelta(0), welcome, 5)
    for question in question_rows:
        add(
            "question",
            question.label,
            question.number,
            question.offset,
            f"{question.label} {question.text}",
            question.line,
        )
    last = max(offsets, default=timedelta(0))
    if wrapup is not None:
        add("wrapup", "wrapup", None, last + spacing, wrapup, 99)
    return EventPlan(
        path=path,
        hashtag=hashtag,
        title=title,
        moderators=("@mod.example.com",),
        start=start,
        timezone=str(start.tzinfo),
        networks=networks,
        accounts=dict(accounts or {}),
        welcome=welcome,
        questions=question_rows,
        wrapup=wrapup,
        posts=tuple(posts),
        settings=dict(settings or {}),
    )
