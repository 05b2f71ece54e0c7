"""The CSV export as spreadsheets open it: times in the chat's zone and UTC, question texts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session

from chatbot.cli import cli
from chatbot.eventref import resolve_event
from chatbot.export.tabular import CSV_COLUMNS, to_csv
from chatbot.models import utcnow
from tests.export.util import post, stored_chat


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _document(timezone: str, stamps: list[str], question_text: str = "Why?") -> dict:
    posts = [
        {
            "network": "bluesky", "id": str(n), "uri": f"at://did:plc:a/app.bsky.feed.post/{n}",
            "url": "", "author": {"handle": "a.test", "display_name": "A"}, "created_at": stamp,
            "text": "A1 yes", "question": "Q1", "questions": ["Q1"], "method": "prefix",
            "confidence": 1.0, "is_question": False, "parent_uri": None, "depth": 0,
            "flags": {"spam": False, "hidden": False, "edited": False},
        }
        for n, stamp in enumerate(stamps)
    ]  # fmt: skip
    posts.append(posts[0] | {"id": "9", "question": None, "questions": []})
    event = {"hashtag": "sm35", "title": "T", "timezone": timezone, "networks": ["bluesky"]}
    return {
        "event": event,
        "questions": [{"label": "Q1", "number": 1, "text": question_text}],
        "posts": posts,
    }


def test_times_in_the_chats_zone_and_in_utc_across_a_clock_change() -> None:
    # New York leaves daylight time at 06:00 UTC on 3 November 2030: 01:30 comes twice.
    found = rows(
        to_csv(_document("America/New_York", ["2030-11-03T05:30:00Z", "2030-11-03T06:30:00Z"]))
    )
    assert [(r["created_local"], r["created_utc"], r["timezone"]) for r in found[:2]] == [
        ("2030-11-03 01:30:00", "2030-11-03 05:30:00", "America/New_York"),
        ("2030-11-03 01:30:00", "2030-11-03 06:30:00", "America/New_York"),
    ]
    assert [r["created_at"] for r in found[:2]] == ["2030-11-03T05:30:00Z", "2030-11-03T06:30:00Z"]
    # A zone the machine does not know: UTC, and the column says so.
    [first, *_] = rows(to_csv(_document("Mars/Olympus", ["2030-11-03T05:30:00Z"])))
    assert (first["created_local"], first["timezone"]) == ("2030-11-03 05:30:00", "UTC")


def test_each_row_has_its_questions_number_and_text_made_safe() -> None:
    found = rows(to_csv(_document("UTC", ["2030-11-03T05:30:00Z"], "=HYPERLINK(1) tools?")))
    assert (found[0]["question"], found[0]["question_number"]) == ("Q1", "1")
    assert found[0]["question_text"] == "'=HYPERLINK(1) tools?"  # no formula from a question
    assert (found[1]["question_number"], found[1]["question_text"]) == ("", "")  # no question


def test_the_written_csv_names_the_stored_chats_questions(engine: Engine, tmp_path: Path) -> None:
    event_id = stored_chat(
        engine,
        [
            post(1, "A1 spreadsheets, mostly", author="ann", minutes=3),
            post(2, "A2 my aunt taught me", author="bob", minutes=12),
        ],
    )
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["transcript", str(event_id), "--format", "csv", "--out", str(out), "--database-url", url],
    )
    assert result.exit_code == 0, result.output
    raw = (out / "transcript.csv").read_bytes()
    found = rows(raw.decode("utf-8-sig"))
    assert list(found[0]) == list(CSV_COLUMNS)
    with Session(engine) as session:
        event = resolve_event(session, str(event_id), purpose="record", now=utcnow())
        zone = event.timezone
    by_author = {r["author_handle"]: r for r in found}
    ann, bob = by_author["ann.test"], by_author["bob.test"]
    # The text as the question went out (its post, label aside).
    assert (ann["question_number"], ann["question_text"]) == ("1", "What tools? #sm35")
    assert (bob["question_number"], bob["question_text"]) == ("2", "Who taught you? #sm35")
    assert ann["timezone"] == zone and ann["created_utc"] == "2030-12-03 17:03:00"
