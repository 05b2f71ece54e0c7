"""The live path on the network's own firehose: a chat's posts from subscribeRepos.

The collector's firehose stream (its WebSocket loop, the atproto SDK's frame
decoding, the chat filter, the store) reads the target's
``com.atproto.sync.subscribeRepos``: on the reference network that is the
reference PDS's real firehose. Only the
stream runs here (no search, no threads), so what is stored is what the
stream found: posts tagged in any case, a reply without the tag, and a
deletion; not another chat's post.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.clock import SystemClock
from chatbot.collect import Collector
from chatbot.collect.live import FIREHOSE_SOURCE
from chatbot.collect.queries import load_cursor, save_cursor
from chatbot.collect.report import NetworkReport
from chatbot.db import open_store
from chatbot.models import Post
from chatbot.platforms.keys import post_key
from tests.factories import make_plan

from .conftest import Target, eventually

STREAM_WAIT = 20.0


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with open_store(f"sqlite:///{tmp_path / 'chatbot.db'}") as engine:
        yield engine


def stored(engine: Engine) -> dict[str, Post]:
    with Session(engine) as session:
        return {row.uri: row for row in session.execute(select(Post)).scalars()}


def test_the_firehose_brings_a_chats_posts_tagged_in_any_case(
    target: Target, tag: str, engine: Engine
) -> None:
    now = datetime.now(UTC)
    plan = make_plan(hashtag=tag, start=now - timedelta(minutes=5), networks=("bluesky",))
    event_id = load_event(engine, plan, source_path=f"questions/{tag}.md").event_id
    window = (now - timedelta(hours=1), now + timedelta(hours=2))
    bot = target.platform(target.create_account("bot"))
    chat = Collector(
        engine, event_id, {"bluesky": bot}, SystemClock(), stream=True, live="firehose",
        firehose_options={"receive_timeout": 10.0, "max_backoff": 0.5},
    )  # fmt: skip
    part = NetworkReport()

    def drain() -> dict[str, Post]:
        chat.drain("bluesky", window, part)
        return stored(engine)

    def key(name: str) -> str:
        return post_key(tag, name, now.replace(microsecond=0))

    # A stored position (seq 0: everything the server keeps) rather than "from now on", so
    # no post is made before the subscription is open; the stream goes live after the replay.
    with Session(engine) as session:
        save_cursor(session, event_id, "bluesky", FIREHOSE_SOURCE, {"seq": 0}, now)
        session.commit()
    ann, ben = (target.platform(target.create_account(name)) for name in ("ann", "ben"))
    try:
        chat.live.tend(bot, tag, window, False, now, part)  # the stream alone
        stream = chat.live.streams[FIREHOSE_SOURCE]
        mixed = ann.post(f"A1 mixed #{tag[:2].upper()}{tag[2:]}", key=key("mixed"))
        loud = ben.post(f"A2 loud #{tag.upper()}", key=key("loud"))
        reply = ben.post("a reply without the tag", key=key("reply"), reply_to=mixed)
        other = ann.post(f"another chat #{tag}x", key=key("other"))
        gone = ann.post(f"posted by mistake #{tag}", key=key("gone"))
        chat_posts = {mixed.uri, loud.uri, reply.uri, gone.uri}
        eventually(lambda: chat_posts <= set(drain()), timeout=STREAM_WAIT, what="the posts")
        ann.delete(gone)
        eventually(lambda: drain()[gone.uri].deleted_at, timeout=STREAM_WAIT, what="deletion")
    finally:
        chat.close()
    rows = stored(engine)
    assert set(rows) == chat_posts
    assert other.uri not in rows
    assert rows[reply.uri].parent_uri == mixed.uri
    assert rows[mixed.uri].text == f"A1 mixed #{tag[:2].upper()}{tag[2:]}"
    assert rows[loud.uri].raw["source"] == "firehose"
    assert stream.filter.outdated is False
    with Session(engine) as session:
        assert load_cursor(session, event_id, "bluesky", FIREHOSE_SOURCE)["seq"] > 0
