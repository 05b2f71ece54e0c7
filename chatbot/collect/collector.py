"""The collector: hashtag pages with stored cursors, question threads, checks, on a budget."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from chatbot.collect.budgetuse import SOURCE as BUDGET_SOURCE
from chatbot.collect.budgetuse import record_pass
from chatbot.collect.events import own_accounts, question_refs
from chatbot.collect.jetstream import JetstreamStream
from chatbot.collect.live import (
    JETSTREAM_SOURCE,
    LIVE_SETTING,
    BlueskyLive,
    drain_on_arrival,
    live_sources,
)
from chatbot.collect.moderation import refresh_flags
from chatbot.collect.networkpass import SCAN_KIND, NetworkPass, PassContext, Refreshes
from chatbot.collect.pacing import OutOfBudget, Pacer
from chatbot.collect.participants import upsert_participants
from chatbot.collect.peers import Peers, anonymous_reader
from chatbot.collect.queries import load_cursor, save_cursor
from chatbot.collect.questioncounts import QuestionCounts
from chatbot.collect.report import CollectReport, NetworkReport
from chatbot.collect.sightings import FoundBy
from chatbot.collect.sources import Source, feed_closed, instance_of, source_for
from chatbot.collect.store import link_mastodon_parents, mark_deleted_ids, upsert_posts
from chatbot.collect.stream import ChosenStream, open_stream
from chatbot.collect.sweeps import sweep_due_after_end
from chatbot.collect.tally import save_tallies
from chatbot.db import session_scope
from chatbot.errors import AuthError, PlatformError, RateLimitedError, UsageError
from chatbot.models import Event
from chatbot.platforms.base import NormalisedPost, Platform

log = logging.getLogger(__name__)
Now = Callable[[], datetime]
SCAN_SOURCE = SCAN_KIND  # also the cursor's name: collection_cursor.source
# Checking every known post is one getPosts call per 25 on Bluesky, so it is done on
# every step; on Mastodon it costs a timeline walk and contexts: every third step.
SWEEP_EVERY = {"bluesky": 1, "mastodon": 3}
MIN_REAL_GAP = 0.1  # real seconds between passes, whatever the clock's speed
STOP_CHECK = 0.2  # real seconds between looks at run()'s stop event while it waits


def _now_of(clock: Any) -> Now:
    if clock is None:
        return lambda: datetime.now(UTC)
    return clock.now if hasattr(clock, "now") else clock  # type: ignore[no-any-return]


class Collector:
    """Collects one event from its networks; call :meth:`step` every so often.

    ``platforms`` are adapters (or a mapping network -> adapter); ``clock`` has
    ``now()`` (and ``sleep()`` for :meth:`run`), or is a function giving the
    time. Cursors live in ``collection_cursor``, so a new Collector on the same
    database resumes where the last one stopped, in another process too.
    ``since``/``until`` replace the event's window (a backfill); they get their
    own cursors. Every ``sweep_every``-th step also checks the known posts for
    edits and deletions; the first step after the window closes is a final one.
    """

    def __init__(
        self,
        engine: Engine | Session,
        event: Event | int,
        platforms: Mapping[str, Platform] | Iterable[Platform],
        clock: Any = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        pacer: Pacer | None = None,
        sweep_every: int | Mapping[str, int] | None = None,
        on_page: Callable[[str, int], None] | None = None,
        stream: bool = False,
        stream_options: Mapping[str, Any] | None = None,
        jetstream_options: Mapping[str, Any] | None = None,
        firehose_options: Mapping[str, Any] | None = None,
        live: str | Sequence[str] = "jetstream",
        on_live: Callable[[], None] | None = None,
        peers: int = 0,
        connect_peer: Callable[[str], Platform] | None = None,
    ):
        # A session is accepted for its engine: every page gets its own transaction,
        # so the caller's session must not hold one open (SQLite would wait on it).
        self.engine: Engine = engine.get_bind().engine if isinstance(engine, Session) else engine
        event_id = event if isinstance(event, int) else event.id
        assert event_id is not None
        self.event_id: int = event_id
        items = platforms.values() if isinstance(platforms, Mapping) else platforms
        platforms_by_network = {p.network: p for p in items}
        self.sources: dict[str, Source] = {
            network: source_for(p) for network, p in platforms_by_network.items()
        }
        self.now = _now_of(clock)
        self.clock = clock
        self.since, self.until = since, until
        self.pacer = pacer or Pacer()
        if sweep_every is None or isinstance(sweep_every, int):
            every = {n: sweep_every or SWEEP_EVERY.get(n, 3) for n in self.sources}
        else:
            every = {n: sweep_every.get(n, SWEEP_EVERY.get(n, 3)) for n in self.sources}
        self.sweep_every = {n: max(1, k) for n, k in every.items()}
        self.on_page = on_page
        self.steps = 0
        self.stream = stream
        self.stream_options = dict(stream_options or {})
        self.streams: dict[str, ChosenStream] = {}
        # Bluesky's live streams (``live``: jetstream, firehose or both); the options go
        # to JetstreamStream (``urls``: where) and FirehoseStream (``url``). ``on_live`` is
        # called from a stream's thread when posts wait: drain_live() stores them.
        self.live = BlueskyLive(
            self.engine,
            self.event_id,
            live_sources(live),
            options={"jetstream": jetstream_options or {}, "firehose": firehose_options or {}},
            on_arrival=on_live,
        )
        # Other Mastodon servers read besides the bot's own: at most ``peers`` of them, each
        # through ``connect_peer(base_url)`` (by default an anonymous reader).
        self.peers: Peers | None = None
        home = platforms_by_network.get("mastodon")
        if peers > 0 and home is not None:
            self.peers = Peers(
                self.engine, self.event_id, home, connect_peer or anonymous_reader(self.now),
                self.pacer, self.now, self._sleep, self.store, limit=peers,
            )  # fmt: skip
        self.refreshes = Refreshes()  # threads a server asked to be read again (Mastodon 4.4+)
        self._swept_at: dict[str, datetime] = {}  # network -> when this run last swept it
        self._authors: dict[tuple[str, str], tuple[Any, ...]] = {}  # profiles stored this run
        self._arrived = threading.Event()  # set by a stream when run() should drain it
        self.done = False
        self.next_at: datetime | None = None
        self.last_window: tuple[datetime, datetime] | None = None  # of the last step
        self._suffix = ""
        if since or until:
            low, high = (t.isoformat() if t else "" for t in (since, until))
            self._suffix = f":{low}..{high}"

    def cursor_name(self, network: str) -> str:
        """The ``collection_cursor.source`` of this collector's scan on ``network``."""
        return SCAN_SOURCE.get(network, "search") + self._suffix

    # -- the pass --------------------------------------------------------------
    def _event(self, session: Session) -> Event:
        event = session.get(Event, self.event_id)
        if event is None:
            raise UsageError(f"event {self.event_id} is not in the database (deleted?)")
        return event

    def window(self, event: Event) -> tuple[datetime, datetime]:
        return (self.since or event.collect_from, self.until or event.collect_until)

    def step(self, *, sweep: bool | None = None) -> CollectReport:
        """One pass over every network: new posts, question threads, maybe a check."""
        started = self.now()
        with session_scope(self.engine) as session:
            event = self._event(session)
            start, end = self.window(event)
            hashtag = event.hashtag
            chat_end = event.end_at
            self.live.choose((event.settings or {}).get(LIVE_SETTING))
        report = CollectReport(self.event_id, hashtag, started)
        self.last_window = (start, end)
        if started < start:
            self.next_at = start
            report.next_at, report.finished_at = start, started
            return report
        final = started >= end
        self.steps += 1
        forced = final or bool(sweep)
        report.swept = forced
        for network, source in self.sources.items():
            part = report.network(network)
            self._stream(network, source, hashtag, (start, end), final, part)
            blocked = self.pacer.blocked(network, self.now())
            if blocked is not None:
                part.blocked_until = blocked
                continue
            due = sweep is None and self._sweep_due(network, started, chat_end)
            if forced or due:
                self._swept_at[network] = started
            report.swept = report.swept or due
            self._network_pass(network, source, hashtag, (start, end), forced or due, part)
            if network == "mastodon" and self.peers is not None:
                self.peers.step(hashtag, (start, end), forced or due, part)
            # What each source did on each server this pass, added up for the coverage report,
            # and what it spent of the bot's own server's budget, for `chatbot status`.
            with session_scope(self.engine) as session:
                save_tallies(session.connection(), self.event_id, network, part, self.now())
                self._record_budget(session, network, source, part, started)
        changed = report.new + report.updated + report.deleted
        changed += sum(n.participants for n in report.networks.values())
        if changed or final or self.steps == 1:  # spam and opt-outs look at the whole event
            with session_scope(self.engine) as session:
                event = self._event(session)
                connection = session.connection()
                link_mastodon_parents(connection, self.event_id)
                mods = own_accounts(session, event)
                refresh_flags(connection, event, now=self.now(), moderators=mods)
        finished = self.now()
        ok = not report.errors and not any(n.blocked_until for n in report.networks.values())
        self.done = final and report.swept and ok
        interval = timedelta(seconds=self.pacer.adapt(report.new))
        # On an accelerated clock a few virtual seconds are no real time at all: leave
        # the process (scheduler, in-process sandbox) a moment between passes.
        speed = float(getattr(self.clock, "speed", 1.0) or 1.0)
        interval = max(interval, timedelta(seconds=MIN_REAL_GAP * speed))
        blocked_times = [n.blocked_until for n in report.networks.values() if n.blocked_until]
        self.next_at = max([finished + interval, *blocked_times]) if not self.done else None
        if not final and self.next_at and self.next_at > end and not blocked_times:
            self.next_at = end
        report.finished_at, report.next_at, report.done = finished, self.next_at, self.done
        return report

    def _sweep_due(self, network: str, now: datetime, chat_end: datetime) -> bool:
        """Every ``sweep_every``-th pass during the chat (and in a backfill); after the chat,
        at checkpoints whose gaps double (collect.sweeps)."""
        if now <= chat_end or self.since or self.until:
            return self.steps % self.sweep_every[network] == 0
        return sweep_due_after_end(chat_end, now, self._swept_at.get(network))

    def _record_budget(
        self, session: Session, network: str, source: Source, part: NetworkReport, at: datetime
    ) -> None:
        own = instance_of(source.platform)
        spent = sum(c.requests for (where, _), c in part.sources.items() if where == own)
        state = load_cursor(session, self.event_id, network, BUDGET_SOURCE)
        if not spent and not part.blocked_until and not state.get("blocked_until"):
            return
        state = record_pass(state, at, spent, part.blocked_until)
        save_cursor(session, self.event_id, network, BUDGET_SOURCE, state, self.now())

    def _network_pass(
        self,
        network: str,
        source: Source,
        tag: str,
        window: tuple[datetime, datetime],
        sweep: bool,
        part: NetworkReport,
    ) -> None:
        def counted() -> None:
            part.requests += 1
            part.reading_now().requests += 1

        server = getattr(source.platform, "server", None)
        if callable(server):
            part.server = server().describe()  # read once per adapter, then remembered
        budget = getattr(source, "rate_state", None)
        spend = self.pacer.caller(network, self.now, self._sleep, counted, budget)
        context = PassContext(self.engine, self.event_id, self.now, self.store, self.refreshes)
        run = NetworkPass(context, source, tag, window, spend, part, instance_of(source.platform))
        try:
            self._scan(network, source, tag, window, spend, part, run)
            with session_scope(self.engine) as session:
                questions = question_refs(session, self.event_id, network)
            asked = {ref.uri for ref in questions}
            changed = QuestionCounts(self.engine, self.event_id, network)
            for ref in [
                *changed.to_read(source, questions, spend),
                *self.refreshes.due(self.now()),
            ]:
                if ref.uri not in run.threaded:
                    run.thread(ref, question=ref.uri in asked)
                    changed.read(ref.uri)
            changed.save(self.now())
            if getattr(source, "expands_every_answer", False):
                run.replies(run.seen_posts())
            run.expand(run.seen_posts())
            if sweep:
                run.check()
                run.tag_counts()
            run.profiles(everyone=sweep)
            self.pacer.succeeded(network)
        except OutOfBudget as stop:
            part.blocked_until = stop.until
        except RateLimitedError as error:
            part.blocked_until = self.pacer.rate_limited(error, self.now())
            part.failed(str(error))
        except PlatformError as error:
            part.blocked_until = self.pacer.failed(network, self.now())
            part.failed(str(error))
            log.warning("collect %s: %s", network, error)

    def _scan(
        self,
        network: str,
        source: Source,
        tag: str,
        window: tuple[datetime, datetime],
        spend: Any,
        part: NetworkReport,
        run: NetworkPass,
    ) -> None:
        """The hashtag scan, page by page with its cursor. A failure of the scan is recorded
        and ends the scan only: question threads are still read after it."""
        name = self.cursor_name(network)
        kind = SCAN_SOURCE.get(network, "search")
        found_by = FoundBy(kind, run.instance)
        count = part.reading(run.instance, kind)
        with session_scope(self.engine) as session:
            state = load_cursor(session, self.event_id, network, name)
        try:
            for posts, new_state in source.scan(tag, window, state, spend, self.now()):
                with session_scope(self.engine) as session:
                    self.store(session.connection(), posts, part, found_by)
                    save_cursor(session, self.event_id, network, name, new_state, self.now())
                part.pages += 1
                count.pages += 1
                run.saw(posts)
                count.feed = new_state.get("feed") or "open"
                if new_state.get("capped"):
                    part.notes.append(
                        f"search: {new_state['capped']} queries stopped at the service's cap on "
                        "results; the rest of the window was read in narrower time windows"
                    )
                if new_state.get("feed"):
                    part.notes.append(f"hashtag timeline: {new_state['feed']}")
                if self.on_page is not None:
                    self.on_page(network, len(posts))
            why = feed_closed(source.platform)
            if why:  # an empty list is all a switched-off feed gives: the setting says why
                count.feed = why
        except (OutOfBudget, RateLimitedError):
            raise
        except AuthError as error:
            # The server refuses its hashtag feed (login required, forbidden): a closed
            # feed, not a quiet one; threads are still read.
            count.feed = f"closed: {error}"
            part.failed(f"hashtag scan: {error}")
            log.warning("collect %s: hashtag feed closed (%s); reading threads", network, error)
        except PlatformError as error:
            part.failed(f"hashtag scan: {error}")
            log.warning("collect %s: hashtag scan failed (%s); reading threads", network, error)

    def store(
        self,
        connection: Connection,
        posts: Sequence[NormalisedPost],
        part: NetworkReport,
        found_by: FoundBy | None = None,
        named: Collection[str] = (),
    ) -> None:
        """Store a batch of posts and their authors in the caller's transaction; count them.

        ``found_by`` is the source that returned them (recorded for the coverage report),
        but for the posts in ``named``, which it was asked for by their address.
        """
        now = self.now()
        for post in posts:
            if (post.visibility or "public") != "public" and not post.deleted:
                address = post.url or post.uri
                if address not in part.not_public:
                    part.not_public.append(address)
        result = upsert_posts(
            connection, posts, event_id=self.event_id, now=now, found_by=found_by, named=named
        )
        part.participants += upsert_participants(connection, posts, now=now, seen=self._authors)
        part.new += result.new
        part.updated += result.updated
        part.deleted += result.deleted

    def _stream(
        self,
        network: str,
        source: Source,
        tag: str,
        window: tuple[datetime, datetime],
        final: bool,
        part: NetworkReport,
    ) -> None:
        """Store what the hashtag stream brought since the last step; (re)open it if live."""
        if self.stream and network == "bluesky":
            self.live.tend(source.platform, tag, window, final, self.now(), part)
            self.drain("bluesky", window, part)
        if not self.stream or network != "mastodon":
            return
        stream = self.streams.get(network)
        if stream is None:
            stream = self.streams[network] = open_stream(
                source.platform, tag, **self.stream_options
            )
        if final:
            stream.close()  # the window is over: the final check has the last word
        else:
            stream.tend()
        # A reconnection is a stretch the stream missed: this step's poll reads it, because
        # the scan's cursor only ever moves on what the poll itself has read.
        part.stream_gaps += stream.take_gaps()
        part.stream = stream.state()
        self.drain(network, window, part)

    def drain(
        self, network: str, window: tuple[datetime, datetime], part: NetworkReport | None = None
    ) -> None:
        """Store the posts, edits and deletions a stream has received (also between steps)."""
        if network == "bluesky":
            self.live.drain(self.store, window, self.now(), part or NetworkReport())
            return
        stream = self.streams.get(network)
        if stream is None:
            return
        part = part or NetworkReport()
        posts, deleted = stream.drain()
        start, end = window
        kept = [p for p in posts if p.created_at is None or start <= p.created_at < end]
        found_by = FoundBy("stream", instance_of(self.sources[network].platform))
        with session_scope(self.engine) as session:
            connection = session.connection()
            self.store(connection, kept, part, found_by)
            part.deleted += mark_deleted_ids(connection, network, deleted, now=self.now())

    def drain_live(self) -> int:
        """Store what Bluesky's streams brought since the last look, between steps (so a
        post shows in seconds, not at the next pass); returns how many posts are new."""
        if self.last_window is None or not self.live.running():
            return 0
        part = NetworkReport()
        self.live.drain(self.store, self.last_window, self.now(), part)
        return part.new

    @property
    def jetstream(self) -> JetstreamStream | None:
        """Bluesky's Jetstream stream, once open."""
        stream = self.live.streams.get(JETSTREAM_SOURCE)
        return stream if isinstance(stream, JetstreamStream) else None

    def close(self, wait: float = 5.0) -> None:
        """Close any open stream (the collector can step again; streams reopen).

        Waits up to ``wait`` seconds for each stream's thread to end.
        """
        for stream in self.streams.values():
            stream.close(wait)
        self.live.close(wait)

    def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of clock time (short: between retries of one request)."""
        sleep = getattr(self.clock, "sleep", None)
        if callable(sleep):
            sleep(seconds)
        else:
            time.sleep(seconds)

    # -- running ---------------------------------------------------------------
    def run(
        self,
        stop: threading.Event | None = None,
        *,
        max_steps: int | None = None,
        sweep: bool | None = None,
        on_step: Callable[[CollectReport], None] | None = None,
    ) -> list[CollectReport]:
        """Step until the window is over and checked, ``stop`` is set, or ``max_steps``.

        Between steps it waits (on the clock, however fast it runs) until the
        pacer's next pass is due. What a live stream brings is stored as it
        arrives, by a thread of its own (``collect-live``), during a pass too:
        a pass held by a slow network must not hold the stream's posts.
        ``on_step`` sees each step's report as it ends; the reports are also
        returned. Streams are closed at the end.
        """
        stop, reports = stop or threading.Event(), []
        speed = float(getattr(self.clock, "speed", 1.0) or 1.0)
        running, drainer = threading.Event(), None
        if self.live.on_arrival in (None, self._arrived.set):  # nobody else drains: this run
            self.live.on_arrival = self._arrived.set
            running.set()
            drainer = threading.Thread(
                target=drain_on_arrival, args=(self._arrived, running.is_set, self.drain_live),
                kwargs={"wait": STOP_CHECK}, name="collect-live", daemon=True,
            )  # fmt: skip
            drainer.start()
        try:
            while not stop.is_set() and not self.done:
                report = self.step(sweep=sweep)
                reports.append(report)
                if on_step is not None:
                    on_step(report)
                if self.done or (max_steps is not None and len(reports) >= max_steps):
                    break
                wait = max(((self.next_at or self.now()) - self.now()).total_seconds(), 0.0)
                self._wait(stop, wait / speed)
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM): the streams' threads end on their own, unwaited
            # for (one may be stuck connecting to a server that never answers).
            running.clear()
            self.close(wait=0.0)
            raise
        running.clear()
        if drainer is not None:
            drainer.join(timeout=5)  # a drain under way finishes storing first
        self.close()
        return reports

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        """Wait ``seconds`` (real) or until ``stop`` (checked every ``STOP_CHECK``)."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            stop.wait(min(left, STOP_CHECK))


def collect_once(
    engine: Engine | Session,
    event: Event | int,
    platforms: Mapping[str, Platform] | Iterable[Platform],
    clock: Any = None,
    **options: Any,
) -> CollectReport:
    """One complete pass (new posts, threads, and a check of the known ones)."""
    return Collector(engine, event, platforms, clock, **options).step(sweep=True)


__all__ = ["Collector", "collect_once"]
