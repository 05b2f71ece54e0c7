"""What the live page shows, read from the store: per question, queues, the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session

from chatbot.bot import controls
from chatbot.live.snapshot import NextPost, countdown, fingerprint, snapshot
from chatbot.models import Post
from tests.export.util import post
from tests.live.chat import NOW, live_chat, store


def test_countdown_reads_as_a_clock() -> None:
    assert countdown(timedelta(seconds=245)) == "4:05"
    assert countdown(timedelta(hours=1, minutes=2, seconds=3)) == "1:02:03"
    assert countdown(timedelta(seconds=0.5)) == "due"
    assert countdown(timedelta(minutes=-3)) == "due"


def test_the_clock_is_in_the_event_s_zone_and_stops_when_paused() -> None:
    due = datetime(2030, 12, 3, 17, 10, tzinfo=UTC)
    upcoming = NextPost("America/New_York", False, "Q2", due)
    shown = upcoming.clock(due - timedelta(minutes=4))
    assert shown == {
        "now_local": "12:06:00 EST",
        "next_label": "Q2",
        "next_local": "12:10:00 EST",
        "countdown": "4:00",
    }
    assert NextPost("UTC", True, "Q2", due).clock(due)["countdown"] == "paused"
    assert NextPost("UTC", False).clock(due)["countdown"] is None


def test_answers_per_question_and_the_queues(engine: Engine) -> None:
    event_id = live_chat(engine)
    before = fingerprint(engine, event_id)
    store(
        engine,
        event_id,
        post(1, "A1 a notebook", author="ann", minutes=6),
        post(2, "A1 a whiteboard", author="bob", minutes=7),
        post(3, "cheap pills https://spam.example", author="zz", minutes=7),
        post(4, "is it lunch yet", author="cy", minutes=8),
    )
    after = fingerprint(engine, event_id)
    assert after != before
    with Session(engine) as session:
        session.execute(
            update(Post).where(Post.author_handle == "zz.test").values(spam_reason="link post")  # type: ignore[arg-type]
        )
        session.commit()
    assert fingerprint(engine, event_id) != after
    made = snapshot(engine, event_id, now=NOW)
    data = made.data
    q1, q2 = data["questions"]
    # "is it lunch yet" goes under Q1 by its time alone: shown there and up for review.
    assert (q1["label"], q1["count"], q2["label"], q2["count"]) == ("Q1", 3, "Q2", 0)
    assert [a["author"] for a in q1["answers"]] == ["cy.test", "bob.test", "ann.test"]
    assert [(s["author"], s["reason"]) for s in data["spam"]] == [("zz.test", "link post")]
    assert [(r["text"], r["guess"]) for r in data["review"]] == [("is it lunch yet", "Q1")]
    assert data["counts"] == {"bluesky": 4}  # the bot's Q1 and three kept; spam not counted
    assert [p["label"] for p in data["schedule"]] == ["welcome", "Q1", "Q2", "wrapup"]
    assert data["schedule"][2]["deliveries"]["mastodon"] == {
        "state": "pending",
        "url": "",
        "error": "",
    }
    assert (made.next.label, made.next.clock(NOW)["countdown"]) == ("Q2", "4:00")
    controls.pause(engine, str(event_id), now=NOW)
    paused = snapshot(engine, event_id, now=NOW)
    assert paused.data["event"]["state"] == "paused"
    assert paused.data["clock"]["countdown"] == "paused"
