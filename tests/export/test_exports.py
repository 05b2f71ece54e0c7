"""Exports: the JSON document's fields, what is left out, CSV and Markdown safety."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session

from chatbot.cli import cli
from chatbot.eventref import resolve_event
from chatbot.export import ExportOptions, build_document, to_jsonl, to_markdown
from chatbot.models import utcnow
from chatbot.sandbox.crowd.hostile import HOSTILE_PAYLOADS
from tests.export.test_markdown import OWN, render
from tests.export.util import opt_out, post, set_post, stored_chat

EVENT_KEYS = {"hashtag", "title", "start", "end", "timezone", "networks"}
POST_KEYS = {
    "network", "id", "uri", "url", "author", "created_at", "text", "question", "questions",
    "method", "confidence", "is_question", "parent_uri", "depth", "flags",
}  # fmt: skip
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def chat(engine: Engine) -> int:
    return stored_chat(
        engine,
        [
            post(1, "A1 Pencils and paper #sm35", author="ann", minutes=3),
            post(2, "Same, pencils forever", author="bob", minutes=4, parent=1, tags=()),
            post(3, "And a ruler", author="cy", minutes=5, parent=2, tags=()),
            post(4, "A2 my aunt #sm35", author="dee", minutes=12),
            post(5, "deleted later #sm35", author="eve", minutes=6),
            post(6, "I said too much #sm35", author="fay", minutes=7),
            post(7, "an unlisted aside", author="gus", minutes=8, visibility="unlisted"),
            post(8, "hide me #sm35", author="hal", minutes=9),
            post(9, "remove me please #sm35", author="ida", minutes=9.5),
            post(10, "reply to an opted-out post", author="bob", minutes=8, parent=6, tags=()),
        ],
    )


def document(engine: Engine, event_id: int, **options: bool) -> dict:
    with Session(engine) as session:
        event = resolve_event(session, str(event_id), purpose="record", now=utcnow())
        return build_document(session, event, ExportOptions(**options))


def texts(doc: dict) -> set[str]:
    return {p["text"] for p in doc["posts"]}


def test_json_fields_threads_and_attribution(engine: Engine) -> None:
    doc = document(engine, chat(engine))
    assert doc["format"] == "chatbot-transcript" and doc["version"] == 1
    assert set(doc["event"]) >= EVENT_KEYS and doc["event"]["hashtag"] == "sm35"
    assert [q["label"] for q in doc["questions"]] == ["Q1", "Q2"]
    assert doc["questions"][0]["text"] == "What tools? #sm35"
    assert set(doc["questions"][0]["posted"]) == {"bluesky"}
    for entry in doc["posts"]:
        assert set(entry) >= POST_KEYS, entry
        assert isinstance(entry["id"], str) and UTC_Z.match(entry["created_at"])
        assert set(entry["flags"]) >= {"spam", "hidden", "edited"}
        assert set(entry["author"]) == {"handle", "display_name"}
    by_text = {p["text"]: p for p in doc["posts"]}
    pencils, same, ruler = (
        by_text[t] for t in ("A1 Pencils and paper #sm35", "Same, pencils forever", "And a ruler")
    )
    assert (pencils["question"], pencils["method"], pencils["depth"]) == ("Q1", "prefix", 0)
    assert (same["parent_uri"], same["depth"], same["question"]) == (pencils["uri"], 1, "Q1")
    assert (ruler["parent_uri"], ruler["depth"]) == (same["uri"], 2)
    assert by_text["A2 my aunt #sm35"]["question"] == "Q2"
    assert json.loads(to_jsonl(doc).splitlines()[0])["type"] == "event"


def test_deleted_opted_out_unlisted_hidden_and_spam_are_left_out(engine: Engine) -> None:
    event_id = chat(engine)
    set_post(engine, 5, deleted_at=post(5, "").created_at)
    opt_out(engine, "fay")
    set_post(engine, 8, hidden_reason="off topic")
    set_post(engine, 9, hidden_reason="by request: asked by DM")
    set_post(engine, 4, spam_reason="moderator: test")
    from chatbot.collect.moderation import refresh_flags

    with Session(engine) as session:
        event = resolve_event(session, str(event_id), purpose="record", now=utcnow())
        refresh_flags(session.connection(), event, now=post(1, "").created_at)
        session.commit()
    published = texts(document(engine, event_id))
    gone = {"deleted later #sm35", "I said too much #sm35", "an unlisted aside", "hide me #sm35"}
    gone |= {"remove me please #sm35", "A2 my aunt #sm35"}
    assert not published & gone
    assert "reply to an opted-out post" in published
    orphan = next(
        p for p in document(engine, event_id)["posts"] if p["text"].startswith("reply to")
    )
    assert (orphan["parent_uri"], orphan["depth"]) == (None, 0)  # its parent left out

    review = document(engine, event_id, review=True)
    flagged = {p["text"]: p["flags"] for p in review["posts"]}
    assert flagged["hide me #sm35"]["hidden"] and flagged["A2 my aunt #sm35"]["spam"]
    assert not texts(review) & {
        "remove me please #sm35",
        "I said too much #sm35",
        "deleted later #sm35",
    }

    anonymous = document(engine, event_id, anonymise_opted_out=True)
    said = next(p for p in anonymous["posts"] if p["text"] == "I said too much #sm35")
    assert said["author"] == {"handle": "anonymous-1", "display_name": ""}
    assert (
        said["url"] == "" and said["uri"].startswith("anonymous:") and "fay" not in json.dumps(said)
    )
    reply = next(p for p in anonymous["posts"] if p["text"].startswith("reply to"))
    assert reply["parent_uri"] == said["uri"]


def test_csv_keeps_ids_exact_and_defuses_formulas(engine: Engine, tmp_path: Path) -> None:
    event_id = stored_chat(
        engine,
        [
            post(1, "=cmd|' /C calc'!A0", author="ann"),
            post(2, "+1 agreed", author="bob", author_display_name="@admin"),
            post(3, '-2 disagree, "quoted", with a\nnewline', author="cy"),
            post(4, "émoji 👩‍💻 and עברית", author="dee"),
        ],
    )
    out = tmp_path / "out"
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        cli,
        ["transcript", str(event_id), "--format", "csv", "--out", str(out), "--database-url", url],
    )
    assert result.exit_code == 0, result.output
    # The count is the recap's: four people's posts, the two questions apart.
    assert result.output == (
        f"Wrote {out / 'transcript.csv'}\nTranscript of 4 posts by 4 participants"
        " (and 2 by the hosts)\n"
    )
    raw = (out / "transcript.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: spreadsheets read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    by_author = {r["author_handle"]: r for r in rows}
    assert by_author["ann.test"]["text"] == "'=cmd|' /C calc'!A0"
    assert by_author["bob.test"]["text"] == "'+1 agreed"
    assert by_author["bob.test"]["author_display_name"] == "'@admin"
    assert by_author["cy.test"]["text"] == '\'-2 disagree, "quoted", with a\nnewline'
    assert by_author["dee.test"]["text"] == "émoji 👩‍💻 and עברית"
    assert by_author["ann.test"]["id"] == '="1122334455667788001"'
    assert "E+" not in raw.decode("utf-8-sig")


def test_markdown_is_threaded_and_inert_with_hostile_posts(engine: Engine) -> None:
    hostile = [
        post(i + 1, f"A1 {payload}", author=f"h{i}", minutes=3 + i / 100)
        for i, payload in enumerate(HOSTILE_PAYLOADS)
    ]
    hostile.append(
        post(500, "[x](javascript:alert(1)) **bold** `code`", author="zz", minutes=4, parent=1)
    )
    event_id = stored_chat(engine, hostile)
    doc = document(engine, event_id)
    markdown = to_markdown(doc)
    assert markdown.startswith("# #sm35: Social media in 2035\n")
    assert "## Q1: What tools? #sm35" in markdown
    # Rendered, it has no markup but the transcript's own (tests/export/test_markdown.py).
    page = render(markdown)
    assert set(page.tags) <= OWN, page.tags
    assert all(str(href).startswith("https://") for href in page.links), page.links
    assert "  - **Zz** (@zz.test)" in markdown  # the reply, nested under its parent


def _one_answer_document(timezone: str, *stamps: str) -> dict:
    event = {
        "hashtag": "sm35",
        "title": "T",
        "start": "2030-12-03T17:00:00Z",
        "end": "2030-12-03T18:00:00Z",
        "timezone": timezone,
        "networks": ["bluesky"],
    }
    posts = [
        {
            "uri": f"at://did:plc:a/app.bsky.feed.post/{index}",
            "url": f"https://bsky.app/profile/a.test/post/{index}",
            "author": {"handle": "a.test", "display_name": "A"},
            "created_at": stamp,
            "text": "A1 yes",
            "question": "Q1",
            "parent_uri": None,
            "is_question": False,
            "flags": {},
        }
        for index, stamp in enumerate(stamps)
    ]
    return {"event": event, "questions": [{"label": "Q1", "text": "Why?"}], "posts": posts}


def test_markdown_times_are_the_chats_local_time_and_say_so() -> None:
    doc = _one_answer_document("America/New_York", "2030-12-03T17:03:00Z", "2030-12-04T14:15:00Z")
    markdown = to_markdown(doc)
    header = markdown.splitlines()[2]
    assert "2030-12-03 12:00 EST" in header and "times in America/New_York" in header
    assert "[12:03](https://bsky.app/profile/a.test/post/0)" in markdown
    assert "[2030-12-04 09:15](https://bsky.app/profile/a.test/post/1)" in markdown  # next day


def test_markdown_falls_back_to_utc_for_an_unknown_zone() -> None:
    markdown = to_markdown(_one_answer_document("Mars/Olympus", "2030-12-03T17:03:00Z"))
    assert "times in UTC" in markdown and "[17:03](" in markdown
