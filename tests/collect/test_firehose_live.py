"""Bluesky's posts arrive through the firehose (subscribeRepos), alone or beside Jetstream."""

from __future__ import annotations

import threading
from typing import Any

from atproto import Client, client_utils
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.bot.controls import set_options
from chatbot.bot.eventstatus import status
from chatbot.cli import cli
from chatbot.collect import Collector
from chatbot.collect.job import CollectionJob
from chatbot.collect.live import FIREHOSE_SOURCE, JETSTREAM_SOURCE
from chatbot.collect.pacing import Pacer
from chatbot.collect.queries import load_cursor, save_cursor
from chatbot.collect.report import NetworkReport
from chatbot.models import Post, PostSighting
from chatbot.sandbox.runner import Sandbox
from tests.collect.chat import bot_platforms
from tests.collect.test_jetstream_live import FAST, drain_until, rows, start_chat, wait_for

FIREHOSE_FAST = {"receive_timeout": 2.0, "max_backoff": 0.2}


def collector(sandbox: Sandbox, engine: Engine, event_id: int, live: str) -> Collector:
    platforms = {"bluesky": bot_platforms(sandbox, ("bluesky",))["bluesky"]}
    return Collector(
        engine, event_id, platforms, sandbox.clock, stream=True, live=live,
        jetstream_options=FAST, firehose_options=FIREHOSE_FAST,
    )  # fmt: skip


def firehose_seen(chat: Collector, sandbox: Sandbox, did: str) -> None:
    """Wait until the firehose, which starts live, receives: a post elsewhere (made again
    until one arrives, as one made before the connection is not replayed) shows it does."""
    stream = chat.live.streams[FIREHOSE_SOURCE]
    looks = 0

    def seen() -> bool:
        nonlocal looks
        if stream.filter.frames > 0:
            return True
        if looks % 10 == 0:
            sandbox.bluesky.create_post(did, "warming up elsewhere")
        looks += 1
        return False

    wait_for(seen)


def test_posts_in_any_case_replies_and_deletions_arrive_through_the_firehose(
    engine: Engine,
) -> None:
    with Sandbox(seed=25, networks=("bluesky",)) as sandbox:
        event_id, window = start_chat(sandbox, engine, "heldout2")
        store = sandbox.bluesky
        did = store.create_account("fa.sandbox.test", "pw").did
        chat = collector(sandbox, engine, event_id, "firehose")
        try:
            report = chat.step()  # opens the stream
            firehose_seen(chat, sandbox, did)
            # Tags in other cases, as a facet by the unmodified client, in text, in `tags`.
            client = Client(base_url=sandbox.bluesky_url)
            store.create_account("fb.sandbox.test", "pw")
            client.login("fb.sandbox.test", "pw")
            text = client_utils.TextBuilder().text("A1 first ").tag("#HeldOut2", "HeldOut2")
            faceted = client.send_post(text).uri
            shouted = store.create_post(did, "A2 loud #HELDOUT2")["uri"]
            reply = store.create_post(did, "no tag, but a reply", reply_to=faceted)["uri"]
            other = store.create_post(did, "another chat #heldout3")["uri"]
            gone = store.create_post(did, "oops #heldout2")["uri"]
            drain_until(chat, window, engine, lambda found: len(found) == 4)
            store.delete_post(gone)
            drain_until(chat, window, engine, lambda found: found[gone].deleted_at)
        finally:
            chat.close()
        assert report.networks["bluesky"].notes[0].startswith("the firehose starts live")
    stored = rows(engine)
    assert set(stored) == {faceted, shouted, reply, gone}
    assert other not in stored
    assert stored[reply].parent_uri == faceted
    assert stored[faceted].raw["source"] == "firehose"
    with Session(engine) as session:
        cursor = load_cursor(session, event_id, "bluesky", FIREHOSE_SOURCE)
        assert load_cursor(session, event_id, "bluesky", JETSTREAM_SOURCE) == {}
    assert isinstance(cursor["seq"], int) and cursor["seq"] >= 7


def test_a_new_collector_resumes_after_the_stored_seq(engine: Engine) -> None:
    with Sandbox(seed=26, networks=("bluesky",)) as sandbox:
        event_id, window = start_chat(sandbox, engine, "fhresume")
        store = sandbox.bluesky
        did = store.create_account("fc.sandbox.test", "pw").did
        first = collector(sandbox, engine, event_id, "firehose")
        try:
            first.step()
            firehose_seen(first, sandbox, did)
            before = store.create_post(did, "A1 before #fhresume")["uri"]
            drain_until(first, window, engine, lambda found: before in found)
        finally:
            first.close()
        # Made while no collector runs: the next one must find them on the stream.
        away = store.create_post(did, "A2 while away #fhresume")["uri"]
        reply = store.create_post(did, "and a reply", reply_to=before)["uri"]
        second = collector(sandbox, engine, event_id, "firehose")
        try:
            part = NetworkReport()
            second.live.tend(second.sources["bluesky"].platform, "fhresume", window, False,
                             second.now(), part)  # fmt: skip
            assert part.notes == []  # a stored seq: no "starts live"
            drain_until(second, window, engine, lambda found: len(found) == 3)
        finally:
            second.close()
    assert set(rows(engine)) == {before, away, reply}


def test_dropped_connections_lose_nothing_and_both_streams_store_each_post_once(
    engine: Engine,
) -> None:
    with Sandbox(seed=27, networks=("bluesky",)) as sandbox:
        event_id, window = start_chat(sandbox, engine, "fhboth")
        store = sandbox.bluesky
        app: Any = sandbox.servers["bluesky"].app
        # The firehose drops every other message: each drop is made good from the seq.
        app.firehose.drop_after_events = 2
        app.jetstream.drop_after_seconds = 0.3  # Jetstream every moment
        did = store.create_account("fd.sandbox.test", "pw").did
        chat = collector(sandbox, engine, event_id, "both")
        made: list[str] = []
        try:
            chat.step()
            firehose_seen(chat, sandbox, did)
            for number in range(6):
                made.append(store.create_post(did, f"A{number} #fhboth")["uri"])
                store.create_post(did, "chatter elsewhere")
            part = drain_until(chat, window, engine, lambda found: len(found) >= len(made))
            firehose = chat.live.streams[FIREHOSE_SOURCE]
            jetstream = chat.live.streams[JETSTREAM_SOURCE]
            wait_for(lambda: len(firehose.filter.state()) == len(made))
            wait_for(lambda: len(jetstream.filter.state()) == len(made))
            chat.drain("bluesky", window, part)
        finally:
            chat.close()
    assert set(rows(engine)) == set(made)
    # Each stream handed each post over; the store kept it once and changed nothing after.
    assert part.new == len(made) and part.updated == 0
    assert firehose.connections > 2  # dropped again and again, and back each time


def test_a_post_is_stored_and_in_chatbot_status_as_it_arrives_not_at_the_next_look(
    engine: Engine, database_url: str
) -> None:
    with Sandbox(seed=28, networks=("bluesky",)) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "prompt")
        store = sandbox.bluesky
        did = store.create_account("fe.sandbox.test", "pw").did
        platform = bot_platforms(sandbox, ("bluesky",))["bluesky"]
        job = CollectionJob(engine, lambda network: platform, sandbox.clock, event_ids=[event_id])
        try:
            job()  # the one look of this test: the first pass, which opens the stream
            chat = job.collectors[event_id]
            assert chat.jetstream is not None and chat.jetstream.wait_connected(10)
            before = status(engine, str(event_id)).collected_line()
            made = store.create_post(did, "A1 straight away #prompt")
            # No second look: the stream's arrival wakes the job's drain.
            wait_for(lambda: made["uri"] in rows(engine))
            shown = status(engine, str(event_id))
        finally:
            job.close()
        assert chat.steps == 1 and job.live_drains >= 1
    assert before == "collected: no posts yet"
    assert shown.collected == {"bluesky": 1}
    assert shown.collected_line().startswith("collected: 1 post (bluesky 1); newest @")
    assert shown.newest is not None and shown.newest["uri"] == made["uri"]
    result = CliRunner().invoke(cli, ["status", str(event_id), "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "collected: 1 post (bluesky 1)" in result.output


def test_chatbot_collect_stores_a_stream_post_between_its_passes(engine: Engine) -> None:
    with Sandbox(seed=29, networks=("bluesky",)) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "between2")
        store = sandbox.bluesky
        did = store.create_account("ff.sandbox.test", "pw").did
        platforms = {"bluesky": bot_platforms(sandbox, ("bluesky",))["bluesky"]}
        # Passes 20 s apart (the default): a post stored sooner came from the stream.
        chat = Collector(
            engine, event_id, platforms, sandbox.clock, stream=True, live="firehose",
            firehose_options=FIREHOSE_FAST, pacer=Pacer(interval=20.0),
        )  # fmt: skip
        stop = threading.Event()
        reports: list[Any] = []
        runner = threading.Thread(
            target=chat.run, kwargs={"stop": stop, "on_step": reports.append}, daemon=True
        )
        runner.start()
        try:
            wait_for(lambda: FIREHOSE_SOURCE in chat.live.streams)
            firehose_seen(chat, sandbox, did)
            wait_for(lambda: len(reports) >= 1)  # the first pass is over: the next is 20 s off
            made = store.create_post(did, "A1 as it comes #between2")["uri"]
            wait_for(lambda: made in rows(engine))
            passes = len(reports)
        finally:
            stop.set()
            runner.join(10)
    assert passes == 1  # no later pass ran: the stream's arrival stored it
    with Session(engine) as session:
        found_by = session.exec(
            select(PostSighting.source).join(Post).where(Post.uri == made)
        ).all()
    assert "stream" in found_by


def test_the_events_own_choice_of_live_source_wins_over_the_setting(engine: Engine) -> None:
    with Sandbox(seed=30, networks=("bluesky",)) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "ownchoice")
        set_options(engine, [event_id], live="both")  # chatbot run/collect --live both
        chat = collector(sandbox, engine, event_id, "jetstream")  # the setting's default
        try:
            chat.step()
            opened = sorted(chat.live.streams)
        finally:
            chat.close()
    assert opened == [FIREHOSE_SOURCE, JETSTREAM_SOURCE]


def test_a_seq_older_than_the_server_keeps_is_said_in_the_report(engine: Engine) -> None:
    with Sandbox(seed=31, networks=("bluesky",)) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "outdated")
        store = sandbox.bluesky
        did = store.create_account("fg.sandbox.test", "pw").did
        for number in range(4):
            store.create_post(did, f"chatter {number}")
        app: Any = sandbox.servers["bluesky"].app
        app.firehose.keep = 2  # the server keeps only its last two messages
        with Session(engine) as session:
            save_cursor(
                session, event_id, "bluesky", FIREHOSE_SOURCE, {"seq": 1}, sandbox.clock.now()
            )
            session.commit()
        chat = collector(sandbox, engine, event_id, "firehose")
        try:
            chat.step()
            stream = chat.live.streams[FIREHOSE_SOURCE]
            wait_for(lambda: stream.filter.frames >= 3)  # the #info, then the two kept
            later = chat.step()
            again = chat.step()
        finally:
            chat.close()
    note = "the firehose's cursor was older than the relay keeps"
    assert any(n.startswith(note) for n in later.networks["bluesky"].notes)
    assert not any(n.startswith(note) for n in again.networks["bluesky"].notes)


def test_a_seq_the_server_has_not_reached_is_refused_and_the_stream_goes_live(
    engine: Engine,
) -> None:
    with Sandbox(seed=32, networks=("bluesky",)) as sandbox:
        event_id, window = start_chat(sandbox, engine, "future")
        store = sandbox.bluesky
        did = store.create_account("fh.sandbox.test", "pw").did
        with Session(engine) as session:  # a seq from a server whose numbering started again
            save_cursor(
                session, event_id, "bluesky", FIREHOSE_SOURCE, {"seq": 10**6}, sandbox.clock.now()
            )
            session.commit()
        chat = collector(sandbox, engine, event_id, "firehose")
        try:
            chat.step()
            stream = chat.live.streams[FIREHOSE_SOURCE]
            wait_for(lambda: bool(stream.refusals))
            firehose_seen(chat, sandbox, did)
            made = store.create_post(did, "A1 after the refusal #future")["uri"]
            drain_until(chat, window, engine, lambda found: made in found)
        finally:
            chat.close()
    assert stream.refusals[0].startswith("FutureCursor")
    assert set(rows(engine)) == {made}
