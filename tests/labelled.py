"""Hand-labelled real chats (tests/fixtures/labels): loading, importing, and scoring the transcript.

The #PSTweetChat sheet is an open-format chat: the host asks in plain words,
with no "Q1". It is imported as ``chatbot import --question`` imports such a
chat: the sheet's rows of one day become the plain CSV import format, and the
tweets the labels mark as the host's questions are named as the questions.
Reply parents are not in the sheet, so none is given.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from chatbot.export import build_document
from chatbot.imports import import_file
from chatbot.models import Event

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LABELS = FIXTURES / "labels"
SHEET = FIXTURES / "real" / "tweetchats" / "pstweetchat" / "pstweetchat.csv"
EASTERN = ZoneInfo("America/New_York")  # the sheet's Date column is US Eastern local time
HOST = "JeffHicks"
HASHTAG = "PSTweetChat"
BUCKETS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0))


@dataclass(frozen=True)
class Label:
    """One tweet's hand label: its question (None for none) and whether it asks that question."""

    tweet_id: str
    question: str | None
    asks: bool
    note: str


@dataclass(frozen=True)
class LabelledChat:
    """A chat day of the sheet and its labels (file ``pstweetchat-YYYY-MM-DD.csv``)."""

    name: str
    day: str  # YYYY-MM-DD, Eastern
    labels: dict[str, Label]


@dataclass
class Outcome:
    """One labelled post: the label, and what the transcript says."""

    tweet_id: str
    label: str | None
    question: str | None
    method: str  # the attribution's evidence kind, or "left out" / "none"
    confidence: float

    @property
    def right(self) -> bool:
        return self.label == self.question


@dataclass
class Score:
    """Accuracy of one chat's transcript against its labels."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return _ratio(self.outcomes)

    def by_method(self) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            groups[outcome.method].append(outcome)
        return dict(sorted(groups.items()))

    def calibration(self) -> list[tuple[tuple[float, float], list[Outcome]]]:
        table: list[tuple[tuple[float, float], list[Outcome]]] = []
        for low, high in BUCKETS:
            inside = [
                o
                for o in self.outcomes
                if o.question is not None
                and low <= o.confidence
                and (o.confidence < high or high == 1.0)
            ]
            table.append(((low, high), inside))
        return table


def _ratio(outcomes: list[Outcome]) -> float:
    return sum(o.right for o in outcomes) / len(outcomes) if outcomes else 0.0


def labelled_chats() -> list[LabelledChat]:
    """Every labels file of the sheet, oldest day first."""
    chats = []
    for path in sorted(LABELS.glob("pstweetchat-*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            labels = {
                row["tweet_id"]: Label(
                    row["tweet_id"],
                    None if row["question"] == "none" else row["question"],
                    row["asks"] == "yes",
                    row["note"],
                )
                for row in csv.DictReader(handle)
            }
        chats.append(LabelledChat(path.stem, path.stem.removeprefix("pstweetchat-"), labels))
    return chats


def sheet_rows(day: str) -> list[dict[str, str]]:
    """The sheet's tweets posted on ``day`` (Eastern), oldest first."""
    with SHEET.open(encoding="utf-8", newline="") as handle:
        handle.readline()  # the sheet's title row: the search query
        rows = list(csv.DictReader(handle))
    found = [r for r in rows if _when(r).strftime("%Y-%m-%d") == day]
    return sorted(found, key=lambda r: int(r["Tweet ID"]))


def _when(row: dict[str, str]) -> datetime:
    return datetime.strptime(row["Date"], "%m/%d/%Y %H:%M:%S").replace(tzinfo=EASTERN)


def import_csv(chat: LabelledChat, path: Path) -> Path:
    """The chat's day as the plain CSV import format, as the sheet has it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "author", "created_at", "text", "in_reply_to_id"])
    for row in sheet_rows(chat.day):
        text = row["Tweet Text"]
        author = row["Screen Name"].lstrip("@")
        writer.writerow([row["Tweet ID"], author, _when(row).isoformat(), text, ""])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def score_chat(engine: Engine, chat: LabelledChat, folder: Path) -> Score:
    """Import the chat into ``engine`` as ``chatbot import`` does and score its transcript."""
    asked = [label.tweet_id for label in chat.labels.values() if label.asks]
    path = import_csv(chat, folder / f"{chat.name}.csv")
    report = import_file(engine, path, hashtag=HASHTAG, host=HOST, question_posts=asked)
    with Session(engine) as session:
        event = session.get(Event, report.event_id)
        assert event is not None
        document = build_document(session, event, store=False)
    shown = {str(p["id"]): p for p in document["posts"]}
    score = Score()
    for tweet_id, label in chat.labels.items():
        post = shown.get(tweet_id)
        if post is None:
            score.outcomes.append(Outcome(tweet_id, label.question, None, "left out", 0.0))
            continue
        question = post["question"] or None
        method = post["method"] or "none"
        confidence = float(post["confidence"])
        score.outcomes.append(Outcome(tweet_id, label.question, question, method, confidence))
    return score
