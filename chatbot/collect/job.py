"""Collection as a periodic job of ``chatbot run``: one Collector per event in its window."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from chatbot import db
from chatbot.collect.collector import Collector
from chatbot.collect.live import drain_on_arrival, live_sources
from chatbot.collect.ownership import CollectionLocks
from chatbot.collect.pacing import Budget, Pacer
from chatbot.models import Event
from chatbot.platforms.base import Platform
from chatbot.zones import zone_or_utc

log = logging.getLogger(__name__)

# An event stays collected this long past its window, so a bot that was down
# when the window closed still makes the final pass (edits, deletions).
GRACE = timedelta(hours=1)


class CollectionJob:
    """Called every few seconds by the runner; steps each event's collector when due.

    Events are those named, or every event not cancelled, whose collection window
    (from before the welcome to after the wrap-up) has begun and not long ended.
    When several bot processes share a PostgreSQL database, one of them
    collects each event (collect.ownership: the process holding the event's
    advisory lock; another takes over when it stops). The events
    collected by one job share its request budgets (:attr:`budgets`): the
    account's, whatever the number of chats.

    Posts a live stream brings are stored as soon as they arrive, not at the
    next look: the stream wakes a thread of this job (``collect-live``) that
    drains every collector, beside the looks. A look's pass can take seconds
    when a network is slow or failing (a held answer, a retry's pause), and a
    post that waited for it was late in ``chatbot status``; the drain touches
    only the collector's live streams (whose drains take turns:
    :class:`~chatbot.collect.live.BlueskyLive`) and stores in transactions of
    its own, as the pass does between its requests. A quiet stream wakes
    nothing.
    """

    def __init__(
        self,
        engine: Engine,
        platform_for: Callable[[str], Platform],
        clock: Any,
        *,
        event_ids: Iterable[int] | None = None,
        stream: bool = True,
        say: Callable[[str], None] | None = None,
        live: str = "jetstream",
        peers: int = 0,
        budgets: dict[str, Budget] | None = None,
    ):
        self.engine = engine
        self.platform_for = platform_for
        self.clock = clock
        self.event_ids = None if event_ids is None else tuple(event_ids)
        self.stream = stream
        self.say = say
        live_sources(live)  # a wrong choice stops the run before any work
        self.live = live  # Bluesky's live sources: jetstream, firehose or both
        self.peers = peers  # other Mastodon servers read besides the bot's own
        self.collectors: dict[int, Collector] = {}
        # The request budgets are the account's (and, on Mastodon, the server's), not one
        # chat's: every event's collector draws on these same ones, so that chats collected
        # together stay within what one of them may spend. Each keeps its own polling
        # interval (a quiet chat is read less often than a busy one).
        self.budgets: dict[str, Budget] = {} if budgets is None else budgets
        self._held_back: set[int] = set()  # events whose last pass a spent budget stopped
        # One process collects an event when several share a PostgreSQL database.
        self.locks = CollectionLocks(engine)
        self._elsewhere: set[int] = set()  # due events another process collects
        self.new_posts = 0  # stored by this job's collectors so far
        self.live_drains = 0  # drains woken by a stream (not by a look)
        self._turn = threading.Lock()  # one look at a time
        self._counting = threading.Lock()  # new_posts, added to by a look and the drain
        self._arrived = threading.Event()
        self._closing = threading.Event()
        self._drainer: threading.Thread | None = None

    def due_events(self) -> list[tuple[int, str, list[str], datetime]]:
        """(id, hashtag, networks, window end) of every event whose window is open now."""
        return [
            (e.id, e.hashtag, list(e.networks), e.collect_until)
            for e in self._due()
            if e.id is not None
        ]

    def _due(self) -> list[Event]:
        now = self.clock.now()
        query = select(Event).where(
            col(Event.state) != "cancelled",
            col(Event.collect_from) <= now,
            col(Event.collect_until) >= now - GRACE,
        )
        if self.event_ids is not None:
            query = query.where(col(Event.id).in_(self.event_ids))
        with db.session_scope(self.engine) as session:
            found = [e for e in session.exec(query) if e.id is not None]
            session.expunge_all()  # plain values, read after the session ends
            return found

    def __call__(self) -> None:
        with self._turn:
            self._look()

    def _look(self) -> None:
        now = self.clock.now()
        # Chats whose last pass a spent budget held back go first, so that with one
        # budget shared the first chat in the list can't take every refill.
        due = sorted(self.due_events(), key=lambda item: item[0] not in self._held_back)
        self.locks.check()
        for event_id, _, networks, _ in due:
            if not self.locks.claim(event_id):
                self._elsewhere.add(event_id)
                gone = self.collectors.pop(event_id, None)
                if gone is not None:  # another process took it over (our lock was lost)
                    gone.close()
                continue
            self._elsewhere.discard(event_id)
            collector = self.collectors.get(event_id)
            if collector is None:
                platforms = {network: self.platform_for(network) for network in networks}
                collector = Collector(
                    self.engine, event_id, platforms, self.clock, stream=self.stream,
                    live=self.live, on_live=self._arrived.set, peers=self.peers,
                    pacer=Pacer(budgets=self.budgets),
                )  # fmt: skip
                self.collectors[event_id] = collector
                if self.stream:
                    self._start_drainer()
            if collector.done:
                continue
            if collector.next_at is not None and now < collector.next_at:
                self._count(collector.drain_live())  # the stream's posts, between passes
                continue
            report = collector.step()
            if any(part.blocked_until for part in report.networks.values()):
                self._held_back.add(event_id)
            else:
                self._held_back.discard(event_id)
            self._count(report.new)
            if self.say is not None and report.new:
                self.say(f"collected {report.new} new posts of #{report.hashtag}")
            if collector.done:
                collector.close()

    def pending(self) -> str | None:
        """What collection has left now, e.g. "collecting #sm35 until 14:40 EST"; None if nothing.

        An event is finished when its collector made the final pass after the
        window (or the window closed more than :data:`GRACE` ago, when a
        network kept failing: ``chatbot collect`` can finish it later).
        """
        left = [
            # In the event's own zone, as every other time the moderator reads.
            f"#{e.hashtag} until {e.collect_until.astimezone(zone_or_utc(e.timezone)):%H:%M %Z}"
            for e in self._due()
            if not (e.id in self.collectors and self.collectors[e.id].done)
            and e.id not in self._elsewhere  # another process's to finish
        ]
        return "collecting " + ", ".join(left) if left else None

    # -- live posts, as they arrive --------------------------------------------------
    def _start_drainer(self) -> None:
        if self._drainer is None or not self._drainer.is_alive():
            self._closing.clear()
            self._drainer = threading.Thread(
                target=self._drain_live, name="collect-live", daemon=True
            )
            self._drainer.start()

    def _drain_live(self) -> None:
        drain_on_arrival(self._arrived, self._open, self._drain_all, wait=1.0)

    def _open(self) -> bool:
        return not self._closing.is_set()

    def _drain_all(self) -> None:
        # Not the look's turn: a pass held by a slow network must not hold the posts.
        for collector in list(self.collectors.values()):
            if self._closing.is_set():
                return
            if not collector.done:
                try:
                    self._count(collector.drain_live())
                except Exception:  # one collector's trouble leaves the others to drain
                    log.exception("storing live posts failed")
        self.live_drains += 1

    def _count(self, new: int) -> None:
        if new:
            with self._counting:
                self.new_posts += new

    def close(self) -> None:
        """Close the collectors' streams (the runner is stopping)."""
        self._closing.set()
        self._arrived.set()
        if self._drainer is not None:
            self._drainer.join(timeout=5)
            self._drainer = None
        for collector in self.collectors.values():
            collector.close()
        self.locks.close()


__all__ = ["GRACE", "CollectionJob"]
