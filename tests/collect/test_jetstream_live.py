"""Bluesky's posts arrive through Jetstream: from the sandbox's /subscribe into the store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from atproto import Client, client_utils
from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.collect import Collector
from chatbot.collect.collector import JETSTREAM_SOURCE
from chatbot.collect.job import CollectionJob
from chatbot.collect.queries import load_cursor
from chatbot.collect.report import NetworkReport
from chatbot.models import Post
from chatbot.platforms.base import Platform
from chatbot.sandbox.faults import FaultSettings
from chatbot.sandbox.runner import Sandbox
from tests.collect.chat import bot_platforms
from tests.factories import make_plan

FAST = {"receive_timeout": 1.0, "pong_timeout": 1.0, "max_backoff": 0.2}


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def rows(engine: Engine) -> dict[str, Post]:
    with Session(engine) as session:
        return {r.uri: r for r in session.execute(select(Post)).scalars()}


def start_chat(sandbox: Sandbox, engine: Engine, tag: str) -> tuple[int, tuple[datetime, datetime]]:
    start = sandbox.clock.now() - timedelta(minutes=5)
    plan = make_plan(hashtag=tag, start=start, networks=("bluesky",))
    event_id = load_event(engine, plan, source_path=f"questions/{tag}.md").event_id
    return event_id, (start - timedelta(hours=1), plan.end + timedelta(hours=1))


def collector(sandbox: Sandbox, engine: Engine, event_id: int) -> Collector:
    platforms = {"bluesky": bot_platforms(sandbox, ("bluesky",))["bluesky"]}
    return Collector(
        engine, event_id, platforms, sandbox.clock, stream=True, jetstream_options=FAST
    )


def source_of(collector: Collector) -> Platform:
    return collector.sources["bluesky"].platform


def drain_until(
    collector: Collector, window: Any, engine: Engine, done: Callable[[dict[str, Post]], Any]
) -> NetworkReport:
    """Store what the stream brought (no poll: nothing else) until ``done(rows)``."""
    part = NetworkReport()

    def enough() -> bool:
        collector.drain("bluesky", window, part)
        return bool(done(rows(engine)))

    wait_for(enough)
    return part


def test_posts_replies_and_deletions_arrive_through_the_stream(engine: Engine) -> None:
    with Sandbox(seed=15, networks=("bluesky",)) as sandbox:
        event_id, window = start_chat(sandbox, engine, "Live15")
        store = sandbox.bluesky
        chat = collector(sandbox, engine, event_id)
        try:
            chat.step()  # opens the stream
            assert chat.jetstream is not None
            assert chat.jetstream.wait_connected(10)
            # A post made over HTTP by the unmodified client, the tag in another case.
            client = Client(base_url=sandbox.bluesky_url)
            store.create_account("ada.sandbox.test", "pw")
            client.login("ada.sandbox.test", "pw")
            text = client_utils.TextBuilder().text("A1 first ").tag("#LIVE15", "LIVE15")
            tagged = client.send_post(text)
            did = client.me.did if client.me else ""
            reply = store.create_post(did, "no tag", reply_to=tagged.uri)
            other = store.create_post(did, "another chat #live16")
            gone = store.create_post(did, "oops #live15")
            drain_until(chat, window, engine, lambda found: len(found) == 3)
            store.delete_post(gone["uri"])
            drain_until(chat, window, engine, lambda found: found[gone["uri"]].deleted_at)
            # The stream names authors by DID only; the next pass's views name them.
            assert rows(engine)[tagged.uri].author_handle == ""
            chat.step()
        finally:
            chat.close()
    stored = rows(engine)
    assert set(stored) == {tagged.uri, reply["uri"], gone["uri"]}
    assert stored[tagged.uri].text == "A1 first #LIVE15"
    assert stored[reply["uri"]].parent_uri == tagged.uri
    assert other["uri"] not in stored
    assert stored[tagged.uri].author_handle == "ada.sandbox.test"
    assert "/profile/ada.sandbox.test/post/" in (stored[tagged.uri].url or "")
    with Session(engine) as session:
        cursor = load_cursor(session, event_id, "bluesky", JETSTREAM_SOURCE)
    assert isinstance(cursor["time_us"], int)


def test_dropped_connections_resume_from_the_cursor_without_a_gap(engine: Engine) -> None:
    with Sandbox(seed=16, networks=("bluesky",)) as sandbox:
        event_id, window = start_chat(sandbox, engine, "drops")
        store = sandbox.bluesky
        app = sandbox.servers["bluesky"].app
        app.jetstream.drop_after_seconds = 0.25  # every connection ends a moment after it opens
        app.jetstream.switch_repeats = 2  # and each replay ends out of order, twice over
        chat = collector(sandbox, engine, event_id)
        did = store.create_account("bo.sandbox.test", "pw").did
        made: list[str] = []
        try:
            chat.step()
            stream = chat.jetstream
            assert stream is not None
            for batch in range(3):  # each batch of posts, then a dropped connection
                opened = stream.connections
                for number in range(4):
                    made.append(store.create_post(did, f"A{batch}.{number} #drops")["uri"])
                    store.create_post(did, "chatter elsewhere")
                wait_for(lambda opened=opened: stream.connections > opened)  # type: ignore[misc]
            part = drain_until(chat, window, engine, lambda found: len(found) >= len(made))
        finally:
            chat.close()
    assert set(rows(engine)) == set(made)
    assert part.new == len(made) and part.updated == 0
    # The filter handed over each post once, whatever came again after a reconnection.
    assert len(stream.filter.state()) == len(made)


def test_a_new_collector_resumes_from_the_stored_cursor(engine: Engine) -> None:
    with Sandbox(seed=17, networks=("bluesky",)) as sandbox:
        event_id, window = start_chat(sandbox, engine, "resume")
        store = sandbox.bluesky
        did = store.create_account("cy.sandbox.test", "pw").did
        first = collector(sandbox, engine, event_id)
        try:
            first.step()
            assert first.jetstream is not None and first.jetstream.wait_connected(10)
            before = store.create_post(did, "A1 before #resume")["uri"]
            drain_until(first, window, engine, lambda found: before in found)
        finally:
            first.close()
        with Session(engine) as session:
            stored = load_cursor(session, event_id, "bluesky", JETSTREAM_SOURCE)["time_us"]
        # Posted while no collector runs: the next one must find it on the stream.
        while_away = store.create_post(did, "A2 while away #resume")["uri"]
        reply = store.create_post(did, "and a reply", reply_to=before)["uri"]
        second = collector(sandbox, engine, event_id)
        try:
            second.live.tend(
                source_of(second), "resume", window, False, second.now(), NetworkReport()
            )
            assert second.jetstream is not None
            assert second.jetstream.start_cursor == stored
            drain_until(second, window, engine, lambda found: len(found) == 3)
        finally:
            second.close()
    assert set(rows(engine)) == {before, while_away, reply}


def test_an_instance_that_refuses_gives_way_to_the_next(engine: Engine) -> None:
    with Sandbox(seed=18, networks=("bluesky",)) as sandbox:
        event_id, window = start_chat(sandbox, engine, "failover")
        store = sandbox.bluesky
        did = store.create_account("di.sandbox.test", "pw").did
        good = sandbox.bluesky_url.replace("http://", "ws://")
        # A port nobody listens on, then the sandbox: the first refuses every connection.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead = f"ws://127.0.0.1:{probe.getsockname()[1]}"
        chat = collector(sandbox, engine, event_id)
        chat.live.options["jetstream"]["urls"] = [dead, good]
        try:
            chat.step()
            stream = chat.jetstream
            assert stream is not None and stream.wait_connected(10)
            assert stream.failovers == 1 and stream.instance == 1
            made = store.create_post(did, "A1 #failover")["uri"]
            drain_until(chat, window, engine, lambda found: made in found)
        finally:
            chat.close()


def test_the_bots_collection_job_stores_stream_posts_between_passes(engine: Engine) -> None:
    with Sandbox(seed=19, networks=("bluesky",)) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "between")
        store = sandbox.bluesky
        did = store.create_account("ed.sandbox.test", "pw").did
        platform = bot_platforms(sandbox, ("bluesky",))["bluesky"]
        job = CollectionJob(engine, lambda network: platform, sandbox.clock, event_ids=[event_id])
        try:
            job()  # the first pass, which opens the stream
            chat = job.collectors[event_id]
            assert chat.jetstream is not None and chat.jetstream.wait_connected(10)
            made = store.create_post(did, "A1 straight away #between")["uri"]

            def stored() -> bool:
                job()
                return made in rows(engine)

            wait_for(stored)
            assert chat.steps == 1  # no second pass: the stream brought it
            assert job.new_posts >= 1
        finally:
            job.close()


def test_a_stream_post_is_stored_while_a_pass_waits_on_the_network(engine: Engine) -> None:
    # A look's pass held by a server that does not answer: the stream's posts are stored
    # meanwhile, not when the pass ends (they used to wait for the look's turn).
    faults = FaultSettings()
    with Sandbox(seed=23, networks=("bluesky",), faults=faults) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "heldpass")
        store = sandbox.bluesky
        did = store.create_account("eh.sandbox.test", "pw").did
        platform = bot_platforms(sandbox, ("bluesky",))["bluesky"]
        job = CollectionJob(engine, lambda network: platform, sandbox.clock, event_ids=[event_id])
        look: threading.Thread | None = None
        try:
            job()  # the first pass, which opens the stream
            chat = job.collectors[event_id]
            assert chat.jetstream is not None and chat.jetstream.wait_connected(10)
            counts = sandbox.servers["bluesky"].app.faults.counts
            faults.hang = "request"  # every request from now on is held unanswered
            chat.next_at = None  # the next look makes a pass
            look = threading.Thread(target=job, daemon=True)
            look.start()
            wait_for(lambda: counts.get("hang_request", 0) >= 1)
            made = store.create_post(did, "A1 while the pass waits #heldpass")["uri"]
            wait_for(lambda: made in rows(engine))
            assert look.is_alive() and chat.steps == 2  # the pass is still held
        finally:
            faults.hang = ""
            if look is not None:
                look.join(60)
            job.close()
        assert job.new_posts >= 1


def test_a_window_beyond_jetstreams_lookback_is_said_in_the_report(engine: Engine) -> None:
    with Sandbox(seed=20, networks=("bluesky",)) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "longago")
        chat = collector(sandbox, engine, event_id)
        now = sandbox.clock.now()
        try:
            recent, old = NetworkReport(), NetworkReport()
            source = source_of(chat)
            chat.live.tend(source, "longago", (now - timedelta(hours=37), now), False, now, old)
            chat.close()
            chat.live.streams.clear()  # a stored cursor, if any, is recent: no note either
            chat.live.tend(source, "longago", (now - timedelta(hours=35), now), False, now, recent)
        finally:
            chat.close()
    assert recent.notes == []
    assert old.notes == [
        "Jetstream replays only its last 36 hours: posts from before come from search and threads"
    ]


def test_chatbot_collect_stores_a_stream_post_while_its_pass_waits_on_the_network(
    engine: Engine,
) -> None:
    # The same, for `chatbot collect` (Collector.run): its stream's posts are stored by a
    # thread of the run's own while a pass is held, not when the pass ends.
    faults = FaultSettings()
    with Sandbox(seed=24, networks=("bluesky",), faults=faults) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "heldrun")
        store = sandbox.bluesky
        did = store.create_account("ek.sandbox.test", "pw").did
        chat = collector(sandbox, engine, event_id)
        counts = sandbox.servers["bluesky"].app.faults.counts
        stop = threading.Event()
        steps: list[int] = []

        def stepped(report: object) -> None:
            steps.append(1)
            if len(steps) == 1:  # after the first pass, which opens the stream
                faults.hang = "request"  # every request from now on is held unanswered
                chat.next_at = None  # and the next pass starts at once

        run = threading.Thread(target=lambda: chat.run(stop, on_step=stepped), daemon=True)
        run.start()
        try:
            wait_for(lambda: counts.get("hang_request", 0) >= 1, timeout=30)
            assert chat.jetstream is not None and chat.jetstream.wait_connected(10)
            made = store.create_post(did, "A1 while chatbot collect waits #heldrun")["uri"]
            wait_for(lambda: made in rows(engine))
            assert run.is_alive() and len(steps) == 1  # the second pass is still held
        finally:
            faults.hang = ""
            stop.set()
            run.join(60)
        assert not run.is_alive()
