"""Question files: parsing, validation and rendering of the posts (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from chatbot.errors import Problem, QuestionFileError
from chatbot.questionfile import frontmatter
from chatbot.questionfile.body import Body, parse_body
from chatbot.questionfile.fields import read_settings
from chatbot.questionfile.images import RawImage, check_images
from chatbot.questionfile.model import (
    NETWORKS,
    EventPlan,
    Image,
    PlannedPost,
    PostKind,
    Question,
)
from chatbot.questionfile.reader import Settings
from chatbot.questionfile.render import check_templates, draft_posts, render
from chatbot.questionfile.report import Report
from chatbot.questionfile.timing import MAX_DURATION, format_duration, resolve_local
from chatbot.text.length import MASTODON_DEFAULT_LIMIT

__all__ = [
    "NETWORKS",
    "EventPlan",
    "Image",
    "PlannedPost",
    "PostKind",
    "Question",
    "check_file",
    "check_text",
    "load_plan",
    "parse_text",
    "summary",
]


def load_plan(
    path: str | Path,
    *,
    allow_past: bool = False,
    now: datetime | None = None,
    mastodon_limit: int = MASTODON_DEFAULT_LIMIT,
    data: bytes | None = None,
) -> EventPlan:
    """Read and check a question file; raise QuestionFileError listing all its problems.

    ``data``, when given, is the file's content (standard input, say), ``path`` its name.
    """
    plan, problems = check_file(
        path, allow_past=allow_past, now=now, mastodon_limit=mastodon_limit, data=data
    )
    if plan is None:
        raise QuestionFileError(problems)
    return plan


def parse_text(
    text: str,
    *,
    path: str = "<string>",
    allow_past: bool = False,
    now: datetime | None = None,
    mastodon_limit: int = MASTODON_DEFAULT_LIMIT,
) -> EventPlan:
    """Like :func:`load_plan` for text already in memory."""
    plan, problems = check_text(
        text, path=path, allow_past=allow_past, now=now, mastodon_limit=mastodon_limit
    )
    if plan is None:
        raise QuestionFileError(problems)
    return plan


def check_file(
    path: str | Path,
    *,
    allow_past: bool = False,
    now: datetime | None = None,
    mastodon_limit: int = MASTODON_DEFAULT_LIMIT,
    data: bytes | None = None,
) -> tuple[EventPlan | None, list[Problem]]:
    """Check a file: the plan (None if any error) and every problem, notes included.

    ``data``, when given, is the file's content and ``path`` only its name
    (images are then read relative to the current folder, ``path``'s).
    """
    name = str(path)
    try:
        if data is None:
            data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        return None, [
            Problem(
                name,
                1,
                1,
                f"cannot read the file: {reason}",
                "check the path and that the file is readable",
            )
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        byte = data[error.start : error.start + 1].hex().upper()
        return None, [
            Problem(
                name,
                line,
                column,
                f"the file is not UTF-8 text (byte 0x{byte})",
                "save it as plain text in UTF-8 (not a word-processor document)",
            )
        ]
    return check_text(
        text,
        path=name,
        allow_past=allow_past,
        now=now,
        mastodon_limit=mastodon_limit,
        base_dir=Path(path).parent,
    )


def check_text(
    text: str,
    *,
    path: str = "<string>",
    allow_past: bool = False,
    now: datetime | None = None,
    mastodon_limit: int = MASTODON_DEFAULT_LIMIT,
    base_dir: Path | None = None,
) -> tuple[EventPlan | None, list[Problem]]:
    """Check question-file text: the plan (None if any error) and every problem.

    Images are read relative to ``base_dir`` (default: the folder of ``path``).
    """
    report = Report(path)
    base = base_dir if base_dir is not None else Path(path).parent
    try:
        plan = _check(text.removeprefix("\ufeff"), report, allow_past, now, mastodon_limit, base)
    except Exception as error:  # the user must get a message, never a traceback
        report.error(
            1,
            1,
            f"internal error while checking this file ({type(error).__name__}: {error})",
            "please report this as a bug, with the file",
        )
        plan = None
    problems = report.sorted()
    return (None if report.has_errors else plan), problems


def _check(
    text: str,
    report: Report,
    allow_past: bool,
    now: datetime | None,
    mastodon_limit: int,
    base: Path,
) -> EventPlan | None:
    part = frontmatter.split(text, report)
    if part.yaml_text is None:
        return None
    root, loader = frontmatter.load_yaml(part, report)
    settings = read_settings(part, root, loader, report)
    body = parse_body(part.body, part.fence_line, report)
    templates = check_templates(settings, report)
    media = _media(body, settings, base, report)
    drafts = draft_posts(settings, body, templates, report)
    late = next((d for d in drafts if d.offset > MAX_DURATION), None)
    if late is not None:
        report.error(
            late.line,
            1,
            f"{late.label} would be {late.offset.days} days after the start",
            "a chat's posts must all be within 7 days of its start; use a shorter interval",
        )
        return None
    start = _resolve_start(settings, report, allow_past, now)
    limit = settings.mastodon_limit or mastodon_limit
    # Rendered even without a usable start, so that length errors are reported too.
    placeholder = datetime(2000, 1, 1, tzinfo=UTC)
    posts = render(
        drafts, settings, templates, (start or placeholder).astimezone(UTC), limit, report, media
    )
    if start is None or settings.hashtag is None or settings.title is None:
        return None
    offsets = {d.line: d.offset for d in drafts if d.kind == "question"}
    questions = tuple(
        Question(q.number, q.suffix, q.text, offsets[q.line], q.line) for q in body.questions
    )
    notes = tuple(p.format() for p in report.problems if p.severity == "note")
    return EventPlan(
        path=report.path,
        hashtag=settings.hashtag,
        title=settings.title,
        moderators=settings.moderators,
        start=start,
        timezone=settings.zone.key if settings.zone else "UTC",
        networks=settings.networks,
        accounts=dict(settings.accounts),
        welcome=body.welcome.text if body.welcome else None,
        questions=questions,
        wrapup=body.wrapup.text if body.wrapup else None,
        posts=tuple(posts),
        settings={
            "interval": format_duration(settings.interval),
            "reminder": format_duration(settings.reminder) if settings.reminder else None,
            "language": settings.language,
            "late_joiners": settings.late_joiners,
            "mastodon_limit": limit,
            "templates": dict(templates),
            "cohosts": list(settings.cohosts),
            "mastodon_instances": list(settings.mastodon_instances),
        },
        notes=notes,
    )


def _media(
    body: Body, settings: Settings, base: Path, report: Report
) -> dict[int, tuple[Image, ...]]:
    """Each post's checked images, by the line its text starts on."""
    owners: list[tuple[str, int, list[RawImage]]] = [
        (f"Q{q.number}{q.suffix}", q.line, q.images) for q in body.questions
    ]
    for name, section in (("the welcome", body.welcome), ("the wrap-up", body.wrapup)):
        if section is not None:
            owners.append((name, section.line, section.images))
    limits = {"mastodon": settings.mastodon_image_limit} if settings.mastodon_image_limit else {}
    return {
        line: check_images(label, images, base, settings.networks, report, limits)
        for label, line, images in owners
        if images
    }


def _resolve_start(
    settings: Settings, report: Report, allow_past: bool, now: datetime | None
) -> datetime | None:
    """The start as an aware local time; a DST gap or (unless allowed) the past is an error."""
    if settings.start_local is None or settings.zone is None:
        return None
    line, column = settings.where.get("start", (1, 1))
    start, error, extra = resolve_local(settings.start_local, settings.zone)
    if start is None:
        report.error(line, column, error, extra)
        return None
    if extra:
        report.note(line, column, extra, "write another time if you meant the second one")
    moment = now or datetime.now(UTC)
    if not allow_past and start < moment:
        report.error(
            line,
            column,
            f"the start, {start:%Y-%m-%d %H:%M %Z}, is in the past (now it "
            f"is {moment.astimezone(settings.zone):%Y-%m-%d %H:%M %Z})",
            "move the chat to a future date, or pass --allow-past to check an old file",
        )
        return None
    return start


def summary(plan: EventPlan) -> str:
    """``path: OK, 3 questions, 5 posts, starts 2026-12-01 12:00 EST (17:00 UTC)``."""
    utc = plan.start.astimezone(UTC)
    shown = f"{utc:%H:%M}" if utc.date() == plan.start.date() else f"{utc:%Y-%m-%d %H:%M}"
    count = len(plan.questions)
    return (
        f"{plan.path}: OK, {count} question{'s' * (count != 1)}, {len(plan.posts)} posts, "
        f"starts {plan.start:%Y-%m-%d %H:%M %Z} ({shown} UTC)"
    )
