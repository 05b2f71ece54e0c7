"""The last window of a stored chat closes at the wrap-up (posted, or due after delays)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from chatbot.bot.controls import delay
from chatbot.eventref import resolve_event
from chatbot.export import build_document
from chatbot.models import PostDelivery, ScheduledPost, utcnow
from tests.export.util import START, post, stored_chat

# Q1 goes out at 1 minute, Q2 at 10; the wrap-up is planned for 30 minutes.
LATE = [
    post(1, "the second question is hard #sm35", author="ann", minutes=25),
    post(2, "so true #sm35", author="bob", minutes=40),
    post(3, "CHEAP FOLLOWERS #sm35", author="spam", minutes=300),
    post(4, "A2 I am late but here #sm35", author="cy", minutes=300),
]


def _wrapup(engine: Engine, event_id: int, **values: Any) -> None:
    with Session(engine) as session:
        row = session.execute(
            select(PostDelivery)
            .join(ScheduledPost, col(ScheduledPost.id) == col(PostDelivery.scheduled_post_id))
            .where(col(ScheduledPost.event_id) == event_id, col(ScheduledPost.kind) == "wrapup")
        ).scalar_one()
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def _answers(engine: Engine, event_id: int) -> dict[str, tuple[str | None, str]]:
    with Session(engine) as session:
        event = resolve_event(session, str(event_id), purpose="record", now=utcnow())
        document = build_document(session, event)
    return {p["text"]: (p["question"], p["method"]) for p in document["posts"]}


def test_a_post_hours_after_the_wrap_up_is_not_under_the_last_question(engine: Engine) -> None:
    event_id = stored_chat(engine, LATE)
    # The wrap-up went out early, at 22 minutes: its posted time closes Q2.
    _wrapup(engine, event_id, posted_at=START + timedelta(minutes=22))
    answers = _answers(engine, event_id)
    assert answers["the second question is hard #sm35"] == (None, "none")
    assert answers["so true #sm35"] == (None, "none")
    assert answers["A2 I am late but here #sm35"] == ("Q2", "prefix")


def test_a_live_delay_keeps_the_last_window_open_until_the_delayed_wrap_up(engine: Engine) -> None:
    event_id = stored_chat(engine, LATE)
    _wrapup(engine, event_id, state="pending", posted_at=None)
    delay(engine, str(event_id), timedelta(minutes=20), now=START + timedelta(minutes=15))
    answers = _answers(engine, event_id)
    assert answers["the second question is hard #sm35"] == ("Q2", "time")
    assert answers["so true #sm35"] == ("Q2", "time")  # 40 minutes: before the wrap-up at 50
    assert answers["CHEAP FOLLOWERS #sm35"] == (None, "none")
    assert answers["A2 I am late but here #sm35"] == ("Q2", "prefix")
