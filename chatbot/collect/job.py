"""Collection as a periodic job of ``chatbot run``: one Collector per event in its window."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from chatbot import db
from chatbot.collect.collector import Collector
from chatbot.models import Event
from chatbot.platforms.base import Platform

log = logging.getLogger(__name__)

# An event stays collected this long past its window, so a bot that was down
# when the window closed still makes the final pass (edits, deletions).
GRACE = timedelta(hours=1)


class CollectionJob:
    """Called every few seconds by the runner; steps each event's collector when due.

    Events are those named, or every event not cancelled, whose collection window
    (from before the welcome to after the wrap-up) has begun and not long ended.
    Several bot processes may collect the same event: posts are stored once by
    network and URI, so that costs requests, never duplicates.
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
    ):
        self.engine = engine
        self.platform_for = platform_for
        self.clock = clock
        self.event_ids = None if event_ids is None else tuple(event_ids)
        self.stream = stream
        self.say = say
        self.collectors: dict[int, Collector] = {}
        self.new_posts = 0  # stored by this job's collectors so far

    def due_events(self) -> list[tuple[int, str, list[str], datetime]]:
        """(id, hashtag, networks, window end) of every event whose window is open now."""
        now = self.clock.now()
        query = select(Event).where(
            col(Event.state) != "cancelled",
            col(Event.collect_from) <= now,
            col(Event.collect_until) >= now - GRACE,
        )
        if self.event_ids is not None:
            query = query.where(col(Event.id).in_(self.event_ids))
        with db.session_scope(self.engine) as session:
            return [
                (e.id, e.hashtag, list(e.networks), e.collect_until)
                for e in session.exec(query)
                if e.id is not None
            ]

    def __call__(self) -> None:
        now = self.clock.now()
        for event_id, _, networks, _ in self.due_events():
            collector = self.collectors.get(event_id)
            if collector is None:
                platforms = {network: self.platform_for(network) for network in networks}
                collector = Collector(
                    self.engine, event_id, platforms, self.clock, stream=self.stream
                )
                self.collectors[event_id] = collector
            if collector.done:
                continue
            if collector.next_at is not None and now < collector.next_at:
                self.new_posts += collector.drain_live()  # the stream's posts, between passes
                continue
            report = collector.step()
            self.new_posts += report.new
            if self.say is not None and report.new:
                self.say(f"collected {report.new} new posts of #{report.hashtag}")
            if collector.done:
                collector.close()

    def pending(self) -> str | None:
        """What collection has left now, e.g. "collecting #sm35 until 19:40 UTC"; None if nothing.

        An event is finished when its collector made the final pass after the
        window (or the window closed more than :data:`GRACE` ago, when a
        network kept failing: ``chatbot collect`` can finish it later).
        """
        left = [
            f"#{hashtag} until {until.astimezone(UTC):%H:%M} UTC"
            for event_id, hashtag, _, until in self.due_events()
            if not (event_id in self.collectors and self.collectors[event_id].done)
        ]
        return "collecting " + ", ".join(left) if left else None

    def close(self) -> None:
        """Close the collectors' streams (the runner is stopping)."""
        for collector in self.collectors.values():
            collector.close()


__all__ = ["GRACE", "CollectionJob"]
