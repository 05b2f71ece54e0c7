"""A crowd chat collected with both Bluesky streams under faults: nothing missing, nothing twice.

Issue 15's test of the live path: Jetstream's connections are dropped again
and again and each replay ends out of order and repeated; the firehose's are
dropped after every 50 messages; a fifth of the HTTP requests fail. The
collector runs both streams beside its passes, as ``chatbot run --live both``
does, and the crowd's truth says what it should hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from atproto_subscription.frames import Frame
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.collect import Collector
from chatbot.collect.live import FIREHOSE_SOURCE, JETSTREAM_SOURCE
from chatbot.collect.queries import save_cursor
from chatbot.models import CollectionCursor
from tests.collect.chat import follow, start_chat
from tests.collect.scoring import coverage, describe, index, stored_posts

pytestmark = pytest.mark.slow


def seqs(log: Any) -> dict[str, int]:
    """The seq of each post's first message in the sandbox's firehose log."""
    found: dict[str, int] = {}
    for data in log.since(0)[1]:
        body = Frame.from_bytes(data).body
        for op in body["ops"]:
            uri = f"at://{body['repo']}/{op['path']}"
            found.setdefault(uri, body["seq"])
    return found


def test_both_streams_under_faults_lose_nothing_and_store_nothing_twice(
    engine: Engine, tmp_path: Path
) -> None:
    chat = start_chat(engine, seed=41, faults=0.2)
    try:
        app: Any = chat.sandbox.servers["bluesky"].app
        app.jetstream.drop_after_seconds = 0.5  # ~100 sandbox seconds at 200x
        app.jetstream.switch_repeats = 3
        app.firehose.drop_after_events = 20  # of about 80 messages
        # The firehose resumes from a stored seq (0: the sandbox's first message), so it
        # cannot start after the chat's first post however slowly it connects.
        with Session(engine) as session:
            now = chat.sandbox.clock.now()
            save_cursor(session, chat.event_id, "bluesky", FIREHOSE_SOURCE, {"seq": 0}, now)
            session.commit()
        collector = Collector(
            engine, chat.event_id, chat.platforms, chat.sandbox.clock, stream=True, live="both",
            jetstream_options={"receive_timeout": 1.0, "pong_timeout": 1.0, "max_backoff": 0.2},
            firehose_options={"receive_timeout": 2.0, "max_backoff": 0.2},
        )  # fmt: skip
        follow(chat, collector)
        streams = dict(collector.live.streams)
        collector.close()
        truth = chat.truth(tmp_path / "truth.json")
    finally:
        chat.close()
    rows = stored_posts(engine, chat.event_id)
    index(rows)  # raises on a post stored twice
    found = coverage(truth, rows, chat.collect_until)
    assert not found.missing, describe(found.missing)
    assert not found.not_marked_deleted, describe(found.not_marked_deleted)
    assert not found.stale_edits, found.stale_edits
    # Both streams ran through their drops and kept the chat's Bluesky posts: Jetstream
    # all of them; the firehose all those up to where it had read when the window closed
    # (a drop just before the end may leave the last few to the next connection).
    bluesky = {p["ref"] for p in found.expected if p["network"] == "bluesky" and p["has_hashtag"]}
    assert bluesky <= set(streams[JETSTREAM_SOURCE].filter.state())
    firehose = streams[FIREHOSE_SOURCE].filter
    assert firehose.seq is not None and firehose.seq >= 20  # up to its first drop at least
    read = {uri for uri, seq in seqs(app.firehose_log).items() if seq <= firehose.seq}
    assert bluesky & read <= set(firehose.state())
    assert streams[JETSTREAM_SOURCE].connections > 1  # it was dropped and came back
    assert streams[FIREHOSE_SOURCE].connections > 1  # so was the firehose
    with Session(engine) as session:
        sources = {c.source for c in session.exec(select(CollectionCursor)).all()}
    assert {JETSTREAM_SOURCE, FIREHOSE_SOURCE} <= sources
