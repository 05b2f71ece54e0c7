"""A stored chat for the live page's tests: Q1 out, Q2 and the wrap-up still to come."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.clock import ManualClock
from chatbot.collect.store import upsert_posts
from chatbot.models import PostDelivery
from chatbot.platforms.base import NormalisedPost
from tests.export.util import START, post
from tests.factories import make_plan

NOW = START + timedelta(minutes=6)  # Q1 went out at 17:05; Q2 is due at 17:10 (12:10 EST)
QUESTIONS = ["What tools do you use?", "Who taught you?"]


def live_chat(engine: Engine, questions: list[str] = QUESTIONS) -> int:
    """Load a two-question chat on both networks with the welcome and Q1 posted."""
    plan = make_plan(
        start=START,
        questions=questions,
        spacing=timedelta(minutes=5),
        networks=("bluesky", "mastodon"),
    )
    event_id = load_event(engine, plan, source_path="questions/sm35.md").event_id
    q1 = post(901, "Q1 What tools do you use? #sm35", author="bot", minutes=5)
    with Session(engine) as session:
        for row in session.execute(
            select(PostDelivery).where(PostDelivery.event_id == event_id)  # type: ignore[arg-type]
        ).scalars():
            if row.due_at <= START + timedelta(minutes=5):
                row.state, row.posted_at = "posted", row.due_at
                row.remote_url = f"https://example.social/{row.network}/{row.id}"
                if row.text.startswith("Q1") and row.network == "bluesky":
                    row.remote_uri, row.remote_id = q1.uri, q1.id
                session.add(row)
        upsert_posts(session.connection(), [q1], event_id=event_id, now=START)
        session.commit()
    return event_id


def store(engine: Engine, event_id: int, *posts: NormalisedPost) -> None:
    """Store posts as the collector does (its own upsert)."""
    with Session(engine) as session:
        upsert_posts(session.connection(), list(posts), event_id=event_id, now=NOW)
        session.commit()


def clock() -> ManualClock:
    return ManualClock(NOW)
