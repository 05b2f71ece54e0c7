"""The real collector and the unmodified Mastodon.py against the sandbox playing GoToSocial.

GoToSocial's ids are ULIDs, its tag timeline is a 404 until the tag is used
and leaves out replies to other accounts, it streams over WebSocket only and
counts requests per address. Every test here runs over real HTTP.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.bot.loading import load_event
from chatbot.clock import ManualClock, SystemClock
from chatbot.collect import Collector
from chatbot.collect.report import CollectReport
from chatbot.collect.sources import NO_POSTS_YET
from chatbot.demo import bot_platforms
from chatbot.export import build_document
from chatbot.models import CollectionCursor, Event, Post, PostDelivery
from chatbot.platforms.base import RemoteRef
from chatbot.platforms.credentials import Secret
from chatbot.platforms.mastodon import MastodonPlatform
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig
from chatbot.sandbox.mastodon import Limit, MastodonApp, MastodonStore, RateLimits
from chatbot.sandbox.mastodon.profile import MASTODON
from chatbot.sandbox.runner import Sandbox
from chatbot.sandbox.server import SandboxHTTPServer
from tests.collect.chat import TAIL, Chat
from tests.collect.scoring import coverage, describe, index, stored_posts
from tests.factories import make_plan

# Short enough for a test to see a silent link and a reconnection; real pauses otherwise.
FAST_STREAM = {"receive_timeout": 0.5, "pong_timeout": 10.0, "max_backoff": 0.5}


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def gts() -> Iterator[Sandbox]:
    with Sandbox(seed=5, networks=("mastodon",), mastodon_profile="gotosocial") as sandbox:
        yield sandbox


def load_live_event(engine: Engine, sandbox: Sandbox, hashtag: str) -> int:
    """An event on the sandbox's Mastodon whose window is open now (nothing posted yet)."""
    start = sandbox.clock.now() - timedelta(minutes=5)
    plan = make_plan(hashtag=hashtag, start=start, networks=("mastodon",))
    return load_event(engine, plan, source_path=f"questions/{hashtag}.md").event_id


def stored(engine: Engine) -> dict[str, Post]:
    with Session(engine) as session:
        return {row.remote_id or "": row for row in session.execute(select(Post)).scalars()}


def no_errors(report: CollectReport) -> bool:
    return not report.errors and not report.networks["mastodon"].blocked_until


def test_a_tag_nobody_used_yet_is_no_posts_and_question_threads_are_still_read(
    engine: Engine, gts: Sandbox
) -> None:
    event_id = load_live_event(engine, gts, "fresh")
    store, bot = gts.mastodon, gts.bot_ids["mastodon"]
    # The bot's welcome went out without the tag; someone answers in its thread.
    welcome = store.create_status(bot, "Welcome! The chat starts now.")
    with Session(engine) as session:
        row = session.exec(select(PostDelivery).where(PostDelivery.event_id == event_id)).first()
        assert row is not None
        row.state, row.remote_id, row.remote_uri = "posted", welcome["id"], welcome["uri"]
        row.remote_url, row.posted_at = welcome["url"], gts.clock.now()
        session.add(row)
        session.commit()
    ada = str(store.create_account("ada", default_visibility="public")["id"])
    reply = store.create_status(ada, "Glad to be here", in_reply_to_id=welcome["id"])
    platforms = bot_platforms(gts)
    collector = Collector(engine, event_id, platforms, gts.clock)

    first = collector.step(sweep=True)
    part = first.networks["mastodon"]
    assert no_errors(first), first.as_dict()
    assert part.notes == [f"hashtag timeline: {NO_POSTS_YET}"]
    assert part.server == "gotosocial 0.20.1"
    assert reply["id"] in stored(engine)  # the thread was read all the same
    with Session(engine) as session:
        cursor = session.exec(
            select(CollectionCursor).where(CollectionCursor.source == "timeline")
        ).one()
        assert json.loads(cursor.cursor or "")["feed"] == NO_POSTS_YET

    tagged = store.create_status(ada, "A1 now with the tag #fresh")
    second = collector.step()
    assert no_errors(second) and second.networks["mastodon"].notes == []
    assert tagged["id"] in stored(engine)


def test_tagged_replies_left_out_of_the_tag_timeline_are_found(
    engine: Engine, gts: Sandbox
) -> None:
    event_id = load_live_event(engine, gts, "deep")
    store = gts.mastodon
    people = [str(store.create_account(n, default_visibility="public")["id"]) for n in "abc"]
    answer = store.create_status(people[0], "A1 my answer #deep")
    reply = store.create_status(people[1], "A1 same here #deep", in_reply_to_id=answer["id"])
    deeper = store.create_status(people[2], "A1 and me #deep", in_reply_to_id=reply["id"])
    platforms = bot_platforms(gts)
    listed = platforms["mastodon"].tag_timeline("deep")  # type: ignore[attr-defined]
    assert [p.id for p in listed] == [answer["id"]]  # what the tag timeline shows
    report = Collector(engine, event_id, platforms, gts.clock).step()
    assert no_errors(report), report.as_dict()
    rows = stored(engine)
    assert {answer["id"], reply["id"], deeper["id"]} <= set(rows)
    assert rows[deeper["id"]].parent_uri == reply["uri"]


def test_ids_are_never_made_from_a_time_and_paging_resumes_from_the_newest_seen(
    engine: Engine, gts: Sandbox
) -> None:
    event_id = load_live_event(engine, gts, "paged")
    store = gts.mastodon
    author = str(store.create_account("dee", default_visibility="public")["id"])
    first = [store.create_status(author, f"A1 answer {n} #paged")["id"] for n in range(95)]
    collector = Collector(engine, event_id, bot_platforms(gts), gts.clock)
    report = collector.step()
    assert no_errors(report) and report.networks["mastodon"].pages == 4  # 40, 40, 15, none
    with Session(engine) as session:
        cursor = session.exec(
            select(CollectionCursor).where(CollectionCursor.source == "timeline")
        ).one()
    assert json.loads(cursor.cursor or "")["min_id"] == max(
        first
    )  # a ULID the server gave, compared as text
    later = [store.create_status(author, f"A2 answer {n} #paged")["id"] for n in range(45)]
    again = collector.step()
    assert no_errors(again) and again.networks["mastodon"].new == 45
    assert set(first + later) <= set(stored(engine))


def test_the_websocket_stream_delivers_posts_and_a_dropped_link_is_backfilled(
    engine: Engine, gts: Sandbox
) -> None:
    event_id = load_live_event(engine, gts, "live")
    store = gts.mastodon
    author = str(store.create_account("eve", default_visibility="public")["id"])
    collector = Collector(
        engine, event_id, bot_platforms(gts), gts.clock, stream=True, stream_options=FAST_STREAM
    )
    try:
        report = collector.step()
        stream = collector.streams["mastodon"]
        assert stream.transport == "websocket"  # no event streams on GoToSocial
        assert stream.current is not None and stream.current.wait_connected(10)
        wait_for(lambda: store._subscriptions)
        live = store.create_status(author, "A1 streamed #live")
        wait_for(lambda: stream.events.qsize() >= 1)
        with Session(engine) as session:
            event = session.get(Event, event_id)
            assert event is not None
            window = (event.collect_from, event.collect_until)
        collector.drain("mastodon", window)  # no poll: only what the stream brought
        assert live["id"] in stored(engine)
        time.sleep(1.5)  # silence past the receive timeout: pinged, answered, kept
        assert stream.current.connections == 1 and stream.current.stalls == 0

        assert store.drop_streams() == 1
        wait_for(lambda: not store._subscriptions)  # the server has let go of the link
        missed = store.create_status(author, "A1 while the stream was down #live")
        wait_for(lambda: stream.current.connections == 2)  # type: ignore[union-attr]
        assert stream.events.qsize() == 0  # the stream never saw it
        after = collector.step()
    finally:
        collector.close()
    part = after.networks["mastodon"]
    assert no_errors(report) and no_errors(after), after.as_dict()
    assert part.stream_gaps == 1 and part.stream == "websocket"
    assert missed["id"] in stored(engine)  # read by the poll that covers the gap


def test_a_refused_stream_is_given_up_not_retried(engine: Engine, gts: Sandbox) -> None:
    event_id = load_live_event(engine, gts, "nope")
    platform = MastodonPlatform(gts.mastodon_url, Secret(gts.mastodon_token or ""))
    token = gts.mastodon.tokens.pop(gts.mastodon_token)  # revoked after the adapter was made
    platform.server()  # (instance and NodeInfo answer anyone)
    collector = Collector(
        engine, event_id, {"mastodon": platform}, gts.clock, stream=True,
        stream_options=FAST_STREAM,
    )  # fmt: skip
    try:
        collector._stream("mastodon", collector.sources["mastodon"], "nope",
                          (gts.clock.now(), gts.clock.now()), False, CollectReport(
                              event_id, "nope", gts.clock.now()).network("mastodon"))  # fmt: skip
        stream = collector.streams["mastodon"]
        wait_for(lambda: not stream.running())
        assert stream.state().startswith("off: the server refused the WebSocket stream (401)")
        assert stream.start() is False and not stream.running()  # no second handshake
    finally:
        collector.close()
        gts.mastodon.tokens[token.token] = token


def test_rate_limit_headers_slow_the_collector_before_a_429(engine: Engine) -> None:
    # A hand-moved clock inside one rate-limit window: no reset can come in between.
    clock = ManualClock(datetime(2030, 1, 1, 12, 30, tzinfo=UTC))
    store = MastodonStore(clock=clock, profile="gotosocial")
    app = MastodonApp(store, clock=clock, rate_limits=RateLimits(reads=Limit(60, 3600)))
    with SandboxHTTPServer(app) as server:
        store.base_url = server.url
        bot = str(store.create_account("bot", bot=True, default_visibility="public")["id"])
        people = [str(store.create_account(f"p{n}")["id"]) for n in range(5)]
        for n in range(150):
            store.create_status(people[n % 5], f"A1 answer {n} #busy", visibility="public")
        plan = make_plan(hashtag="busy", start=clock.now() - timedelta(minutes=5),
                         networks=("mastodon",))  # fmt: skip
        event_id = load_event(engine, plan, source_path="questions/busy.md").event_id
        platform = MastodonPlatform(server.url, Secret(store.token_for(bot)))
        collector = Collector(engine, event_id, {"mastodon": platform}, clock)
        reports = [collector.step() for _ in range(3)]
    assert app.refused == 0  # never a 429
    parts = [r.networks["mastodon"] for r in reports]
    assert all(not p.errors for p in parts), [p.errors for p in parts]
    assert parts[0].blocked_until is not None  # it stopped itself, waiting for the reset
    assert sum(p.requests for p in parts) <= 60 // 2 + 1  # half the limit, as it keeps
    assert parts[0].new > 0


@pytest.mark.slow
def test_a_crowd_chat_on_gotosocial_is_collected_completely(engine: Engine, tmp_path: Path) -> None:
    origin = datetime.now(UTC).replace(microsecond=0)
    sandbox = Sandbox(
        seed=7, speed=200.0, virtual_start=origin, networks=("mastodon",),
        mastodon_profile="gotosocial",
    ).start()  # fmt: skip
    try:
        start = sandbox.clock.now().replace(microsecond=0) + timedelta(minutes=1)
        plan = make_plan(
            hashtag="gts7chat", start=start, spacing=timedelta(minutes=4),
            questions=["What tools do you use?", "Who taught you?", "What next?"],
            networks=("mastodon",),
        )  # fmt: skip
        event_id = load_event(engine, plan, source_path="questions/gts7chat.md").event_id
        until = plan.end + TAIL
        with Session(engine) as session:
            event = session.get(Event, event_id)
            assert event is not None
            event.collect_from, event.collect_until = start - timedelta(minutes=1), until
            session.add(event)
            session.commit()
        chat = Chat(sandbox, engine, event_id, "gts7chat", plan, until, bot_platforms(sandbox))
        chat.poster = threading.Thread(target=chat._post_loop, daemon=True)
        chat.poster.start()
        config = CrowdConfig(seed=7, participants=14, posts_per_minute=5.0)
        chat.driver = sandbox.run_crowd(ChatSchedule.from_event_plan(plan), config)
        collector = Collector(
            engine, event_id, chat.platforms, sandbox.clock, stream=True,
            stream_options=FAST_STREAM,
        )  # fmt: skip
        reports = _follow(chat, collector)
        truth = chat.truth(tmp_path / "truth.json")
        app = sandbox.servers["mastodon"].app
    finally:
        chat.stop.set()
        sandbox.stop()
    assert not any(r.errors for r in reports), [r.errors for r in reports if r.errors]
    assert app.refused == 0  # type: ignore[attr-defined]
    rows = stored_posts(engine, event_id)
    index(rows)  # no post twice
    found = coverage(truth, rows, until)
    assert found.expected and not found.missing, describe(found.missing)
    assert not found.not_marked_deleted, describe(found.not_marked_deleted)
    assert not found.stale_edits, found.stale_edits
    assert len(found.unreachable_missing) <= 2, describe(found.unreachable_missing)
    # Tagged replies to other people's posts: never in GoToSocial's tag timeline, found anyway.
    by_plan = {p["plan_id"]: p for p in truth["posts"]}
    omitted = [
        p for p in found.expected
        if p["has_hashtag"] and p["parent_plan_id"]
        and by_plan[p["parent_plan_id"]]["author"] != p["author"]
    ]  # fmt: skip
    assert omitted, "the crowd wrote no tagged reply to another person"
    servers = {r.networks["mastodon"].server for r in reports}
    assert servers == {"gotosocial 0.20.1"}


def _follow(chat: Chat, collector: Collector) -> list[Any]:
    reports: list[Any] = []
    clock = chat.sandbox.clock

    def loop() -> None:
        while not chat.stop.is_set() and not collector.done:
            reports.append(collector.step())
            wait = ((collector.next_at or clock.now()) - clock.now()).total_seconds()
            chat.stop.wait(max(wait, 0.0) / clock.speed)  # type: ignore[attr-defined]

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        chat.wait_over()
        thread.join(60)
    finally:
        collector.close()
    assert collector.done, [r.as_dict() for r in reports[-2:]]
    return reports


def test_a_server_whose_event_stream_is_missing_is_streamed_over_websocket(
    engine: Engine,
) -> None:
    # A Mastodon whose proxy doesn't pass /api/v1/streaming/hashtag: a 404 there.
    no_events = dataclasses.replace(MASTODON, sse=False)
    clock = SystemClock()
    store = MastodonStore(clock=clock, profile=no_events)
    with SandboxHTTPServer(MastodonApp(store, clock=clock)) as server:
        store.base_url = server.url
        bot = str(store.create_account("bot", bot=True)["id"])
        author = str(store.create_account("fay")["id"])
        platform = MastodonPlatform(server.url, Secret(store.token_for(bot)))
        plan = make_plan(hashtag="ws", start=clock.now() - timedelta(minutes=5),
                         networks=("mastodon",))  # fmt: skip
        event_id = load_event(engine, plan, source_path="questions/ws.md").event_id
        collector = Collector(
            engine, event_id, {"mastodon": platform}, clock, stream=True,
            stream_options=FAST_STREAM,
        )  # fmt: skip
        try:
            report = collector.step()
            stream = collector.streams["mastodon"]
            assert report.networks["mastodon"].server == "mastodon 4.6.4"
            assert stream.transport == "websocket"  # after the event stream's 404
            wait_for(lambda: store._subscriptions)
            status = store.create_status(author, "A1 over a WebSocket #ws")
            wait_for(lambda: stream.events.qsize() >= 1)
            posts, _ = stream.drain()
        finally:
            collector.close()
    assert [p.id for p in posts] == [status["id"]]
    assert no_errors(report), report.as_dict()


def test_unlisted_answers_met_in_a_thread_are_named_and_never_published(
    engine: Engine, gts: Sandbox
) -> None:
    event_id = load_live_event(engine, gts, "quiet")
    store, bot = gts.mastodon, gts.bot_ids["mastodon"]
    question = store.create_status(bot, "Q1 Where do you post from? #quiet")
    with Session(engine) as session:
        row = session.exec(select(PostDelivery).where(PostDelivery.event_id == event_id)).first()
        assert row is not None
        row.state, row.remote_id, row.remote_uri = "posted", question["id"], question["uri"]
        row.remote_url, row.posted_at = question["url"], gts.clock.now()
        session.add(row)
        session.commit()
    newcomer = str(store.create_account("newcomer")["id"])  # GoToSocial's default: unlisted
    answer = store.create_status(
        newcomer, "A1 from my new account #quiet", in_reply_to_id=question["id"], visibility=None
    )
    assert answer["visibility"] == "unlisted"
    report = Collector(engine, event_id, bot_platforms(gts), gts.clock).step(sweep=True)
    part = report.networks["mastodon"]
    assert no_errors(report) and part.not_public == [answer["url"]]
    named = "1 posts seen are not public (unlisted or private), so no transcript will show them"
    assert f"{named}: {answer['url']}" in report.summary()
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        document = build_document(session, event)
    shown = {p["id"] for p in document["posts"]}
    assert question["id"] in shown and answer["id"] not in shown


def test_the_server_is_asked_again_when_it_did_not_answer(gts: Sandbox) -> None:
    platform = MastodonPlatform(gts.mastodon_url, Secret(gts.mastodon_token or ""), timeout=5)
    faults = gts.servers["mastodon"].app.faults.settings
    faults.unreachable = True
    try:
        assert platform.server().software == "unknown"
    finally:
        faults.unreachable = False
    assert platform.server().describe() == "gotosocial 0.20.1"
    faults.unreachable = True
    try:
        assert platform.server().software == "gotosocial"  # read once, then remembered
    finally:
        faults.unreachable = False


def test_a_tagged_reply_cut_off_by_a_deleted_post_is_found_in_its_authors_timeline(
    engine: Engine, gts: Sandbox
) -> None:
    event_id = load_live_event(engine, gts, "cut")
    store = gts.mastodon
    ada, ben, cat = (
        str(store.create_account(name, default_visibility="public")["id"])
        for name in ("ada", "ben", "cat")
    )
    answer = store.create_status(ada, "A1 my answer #cut")
    own = store.create_status(cat, "A1 cat's own answer #cut")
    collector = Collector(engine, event_id, bot_platforms(gts), gts.clock)
    assert no_errors(collector.step())
    middle = store.create_status(ben, "A1 agreed #cut", in_reply_to_id=answer["id"])
    below = store.create_status(cat, "A1 me too #cut", in_reply_to_id=middle["id"])
    store.delete_status(middle["id"])  # in no tag timeline, and now in no context either
    context = bot_platforms(gts)["mastodon"].thread(
        RemoteRef("mastodon", answer["id"], answer["uri"])
    )
    assert below["id"] not in {p.id for p in context.replies}
    report = collector.step(sweep=True)
    assert no_errors(report), report.as_dict()
    rows = stored(engine)
    assert {answer["id"], own["id"], below["id"]} <= set(rows)
    assert middle["id"] not in rows
