"""An imported chat ends at the host's wrap-up tweet, not at the last tweet (spam hours later)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.eventref import resolve_event
from chatbot.export import build_document
from chatbot.imports import import_file
from chatbot.models import Event, utcnow
from tests.collect.test_import import docnow_csv


def _tweet(number: int, user: str, when: str, text: str) -> str:
    return json.dumps(
        {
            "id_str": f"12258500000000000{number:02d}",
            "created_at": f"Thu Jul 14 {when} +0000 2016",
            "full_text": text,
            "user": {"id_str": f"9{len(user)}{user}", "screen_name": user, "name": user},
            "entities": {"hashtags": [{"text": "tc"}], "user_mentions": []},
        }
    )


def _chat(path: Path, *, wrapup: bool) -> Path:
    lines = [
        _tweet(1, "host", "19:00:00", "Q1 What brings you here? #tc"),
        _tweet(2, "ann", "19:03:00", "Curiosity #tc"),
        _tweet(3, "host", "19:10:00", "Q2 And what keeps you? #tc"),
        _tweet(4, "bob", "19:14:00", "The people #tc"),
        _tweet(5, "host", "19:20:00", "Q3 What next? #tc"),
        _tweet(6, "cy", "19:24:00", "More of this #tc"),
        _tweet(8, "dee", "19:29:00", "So much to think about, love it #tc"),
        _tweet(9, "spam", "23:40:00", "CHEAP FOLLOWERS click now #tc"),
        _tweet(10, "eve", "23:41:00", "A3 sorry, late: more chats #tc"),
    ]
    if wrapup:
        lines.append(_tweet(7, "host", "19:27:00", "Thanks for joining us tonight! #tc"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _imported(engine: Engine, path: Path, tag: str, host: str) -> tuple[datetime, dict]:
    import_file(engine, path, hashtag=tag, host=host)
    with Session(engine) as session:
        event = resolve_event(session, tag, purpose="record", now=utcnow())
        document = build_document(session, event)
        end = event.end_at
    return end, {p["text"]: (p["question"], p["method"]) for p in document["posts"]}


def test_the_chat_ends_at_the_hosts_wrap_up(engine: Engine, tmp_path: Path) -> None:
    end, answers = _imported(engine, _chat(tmp_path / "c.jsonl", wrapup=True), "tc", "host")
    assert end == datetime(2016, 7, 14, 19, 27, tzinfo=UTC)
    assert answers["More of this #tc"] == ("Q3", "time")
    assert answers["So much to think about, love it #tc"] == (None, "none")  # after the wrap-up
    assert answers["A3 sorry, late: more chats #tc"] == ("Q3", "prefix")


def test_without_a_wrap_up_the_end_is_a_question_gap_after_the_last(
    engine: Engine, tmp_path: Path
) -> None:
    # Questions ten minutes apart: the last one stays open ten minutes.
    end, answers = _imported(engine, _chat(tmp_path / "c.jsonl", wrapup=False), "tc", "host")
    assert end == datetime(2016, 7, 14, 19, 30, tzinfo=UTC)
    assert answers["So much to think about, love it #tc"] == ("Q3", "time")
    assert answers["CHEAP FOLLOWERS click now #tc"] == (None, "none")


def test_docnow_ends_at_a_wrap_up_tweet_not_the_last_tweet(engine: Engine, tmp_path: Path) -> None:
    # A blind check: only the end is asserted (the host's closing tweet).
    path = docnow_csv(tmp_path / "docnow.csv")
    import_file(engine, path, hashtag="DocNowCommunity", host="documentnow")
    with Session(engine) as session:
        event = session.execute(select(Event)).scalars().one()
    assert event.end_at == datetime(2016, 7, 14, 20, 3, 40, tzinfo=UTC)
    assert event.collect_until > datetime(2016, 7, 15, tzinfo=UTC)  # the last tweet, a day on
