"""A small stored chat for export tests: an event, its question posts and collected posts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.collect.participants import upsert_participants
from chatbot.collect.store import upsert_posts
from chatbot.models import Participant, Post, PostDelivery
from chatbot.platforms.base import NormalisedPost
from tests.factories import make_plan

START = datetime(2030, 12, 3, 17, 0, tzinfo=UTC)
BOT = "did:plc:bot"


def post(
    number: int,
    text: str,
    *,
    author: str = "ann",
    minutes: float = 5,
    parent: int | None = None,
    network: str = "bluesky",
    **extra: Any,
) -> NormalisedPost:
    """A Bluesky-like post ``n`` by ``author``, ``minutes`` after the start."""
    did = BOT if author == "bot" else f"did:plc:{author}"
    uri = f"at://{did}/app.bsky.feed.post/{number:013d}"
    parent_uri = f"at://did:plc:x/app.bsky.feed.post/{parent:013d}" if parent else None
    made = NormalisedPost(
        network=network,
        uri=uri,
        id=f"1122334455667788{number:03d}",
        url=f"https://bsky.app/profile/{author}.test/post/{number:013d}",
        cid=f"cid{number}",
        author_id=did,
        author_handle=f"{author}.test",
        author_display_name=author.title(),
        author_followers=10,
        author_flags=frozenset(),
        created_at=START + timedelta(minutes=minutes),
        edited_at=None,
        text=text,
        html="",
        links=(),
        tags=("sm35",),
        mentions=(),
        parent_uri=parent_uri,
        root_uri=None,
        quote_uri=None,
        visibility="public",
        lang="en",
        raw={"text": text},
    )
    return replace(made, **extra)


def fix_parents(posts: list[NormalisedPost]) -> list[NormalisedPost]:
    """Point parent URIs (given by number) at the posts' real URIs."""
    by_number = {p.uri[-13:]: p.uri for p in posts}
    return [
        replace(p, parent_uri=by_number[p.parent_uri[-13:]]) if p.parent_uri else p for p in posts
    ]


def stored_chat(engine: Engine, posts: list[NormalisedPost]) -> int:
    """Load a two-question event, mark its questions posted (as posts 901/902), store posts."""
    plan = make_plan(start=START, questions=["What tools?", "Who taught you?"])
    event_id = load_event(engine, plan, source_path="questions/sm35.md").event_id
    q1 = post(901, "Q1 What tools? #sm35", author="bot", minutes=1)
    q2 = post(902, "Q2 Who taught you? #sm35", author="bot", minutes=10)
    everything = fix_parents([q1, q2, *posts])
    with Session(engine) as session:
        rows = session.execute(
            select(PostDelivery).where(PostDelivery.event_id == event_id)
        ).scalars()
        for row in rows:
            question = q1 if "Q1" in row.text else q2 if "Q2" in row.text else None
            row.state = "posted"
            if question is not None:
                row.remote_uri, row.remote_id, row.posted_at = (
                    question.uri,
                    question.id,
                    question.created_at,
                )
            session.add(row)
        connection = session.connection()
        upsert_posts(connection, everything, event_id=event_id, now=START)
        upsert_participants(connection, everything, now=START)
        session.commit()
    return event_id


def set_post(engine: Engine, number: int, **values: Any) -> None:
    with Session(engine) as session:
        table = Post.__table__  # type: ignore[attr-defined]
        session.execute(update(table).where(table.c.uri.like(f"%{number:013d}")).values(**values))
        session.commit()


def opt_out(engine: Engine, author: str) -> None:
    with Session(engine) as session:
        table = Participant.__table__  # type: ignore[attr-defined]
        session.execute(
            update(table)
            .where(table.c.account_id == f"did:plc:{author}")
            .values(opted_out=True, opt_out_reason="profile: nobot")
        )
        session.commit()
