"""The Mastodon hashtag stream between polls: posts, edits and deletions as they happen."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.collect import Collector
from chatbot.models import Event, Post
from chatbot.sandbox.runner import Sandbox
from tests.collect.chat import bot_platforms
from tests.factories import make_plan


def wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_stream_brings_posts_edits_and_deletions_between_polls(engine: Engine) -> None:
    with Sandbox(seed=8, networks=("mastodon",)) as sandbox:
        sandbox.servers["mastodon"].app.heartbeat_seconds = 0.2  # streams notice a close sooner
        start = sandbox.clock.now() - timedelta(minutes=5)
        plan = make_plan(hashtag="live", start=start, networks=("mastodon",))
        event_id = load_event(engine, plan, source_path="questions/live.md").event_id
        platforms = {"mastodon": bot_platforms(sandbox, ("mastodon",))["mastodon"]}
        collector = Collector(engine, event_id, platforms, sandbox.clock, stream=True)
        try:
            collector.step()  # opens the stream
            store = sandbox.mastodon
            wait_for(lambda: store._subscriptions)
            author = store.create_account("streamer")["id"]
            status = store.create_status(author, "A1 first try #live")
            store.edit_status(status["id"], "A1 second try #live")
            gone = store.create_status(author, "oops #live")
            store.delete_status(gone["id"])
            stream = collector.streams["mastodon"]
            wait_for(lambda: stream.events.qsize() >= 4)
            with Session(engine) as session:
                window = (session.get(Event, event_id).collect_from, plan.end + timedelta(hours=1))
            collector.drain("mastodon", window)  # no poll: only what the stream said
        finally:
            collector.close()
        assert not collector.streams["mastodon"].running()
    with Session(engine) as session:
        rows = {r.remote_id: r for r in session.execute(select(Post)).scalars()}
    assert rows[status["id"]].text == "A1 second try #live"
    assert rows[status["id"]].edited_at is not None
    assert rows[gone["id"]].deleted_at is not None
