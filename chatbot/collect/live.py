"""Bluesky's live sources for one chat: Jetstream, the relay firehose, or both.

Which run is a choice (:data:`LIVE_CHOICES`): the event's own
(``chatbot run --live`` / ``chatbot collect --live`` store it in its settings),
else the ``bluesky_live`` setting. Jetstream is light (JSON, posts only, time
cursors that work on every instance); the firehose is the network's own
stream (every commit, in DAG-CBOR, with a seq cursor of the relay). Both feed
the one chat filter and the one store, so running both costs a second
connection and never a duplicate: a post is stored once by its URI, whichever
stream brought it first.

Each stream keeps its cursor under its own ``collection_cursor.source``
(:data:`JETSTREAM_SOURCE`: ``{"time_us": N}``, :data:`FIREHOSE_SOURCE`:
``{"seq": N}``), stored in the transaction that stores the posts it covers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, MutableSet
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import Connection, Engine

from chatbot.collect.jetstream import JetstreamStream, beyond_lookback, jetstream_urls
from chatbot.collect.queries import live_refs, load_cursor, save_cursor
from chatbot.collect.report import NetworkReport
from chatbot.collect.sightings import FoundBy
from chatbot.db import session_scope
from chatbot.errors import UsageError
from chatbot.platforms.base import NormalisedPost, Platform

log = logging.getLogger(__name__)

JETSTREAM_SOURCE = "jetstream"  # collection_cursor.source of Jetstream: {"time_us": N}
FIREHOSE_SOURCE = "firehose"  # collection_cursor.source of the firehose: {"seq": N}
LIVE_SETTING = "bluesky_live"  # the event setting (and the config setting) naming the choice
LIVE_CHOICES = {
    "jetstream": ("jetstream",),
    "firehose": ("firehose",),
    "both": ("jetstream", "firehose"),
}
if TYPE_CHECKING:
    from chatbot.collect.firehose import FirehoseStream

# The firehose's decoding (the atproto SDK's subscriptions, with its async half) takes a
# second or more to import: it is imported when a firehose is opened, not with every command.
LiveStream: TypeAlias = "JetstreamStream | FirehoseStream"
# Stores posts and their authors, recording the stream (and where it runs) as their source.
Store = Callable[[Connection, list[NormalisedPost], NetworkReport, FoundBy], None]


def live_sources(choice: str | Iterable[str]) -> tuple[str, ...]:
    """The streams a choice names ("jetstream", "firehose", "both"); UsageError otherwise."""
    names = [choice] if isinstance(choice, str) else list(choice)
    found: list[str] = []
    for name in names:
        sources = LIVE_CHOICES.get(name.strip().lower())
        if sources is None:
            known = ", ".join(LIVE_CHOICES)
            raise UsageError(f"unknown Bluesky live source {name!r}; use one of: {known}")
        found += [source for source in sources if source not in found]
    return tuple(found)


class BlueskyLive:
    """The live streams of one chat on Bluesky, opened from their stored cursors.

    ``options`` maps a source to the keyword arguments of its stream class
    (``urls`` for Jetstream, ``url`` for the firehose: where; timeouts).
    ``on_arrival`` is called, from a stream's thread, whenever posts wait to
    be drained: the caller can store them at once instead of at its next look.
    """

    def __init__(
        self,
        engine: Engine,
        event_id: int,
        sources: tuple[str, ...],
        *,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        on_arrival: Callable[[], None] | None = None,
    ):
        self.engine = engine
        self.event_id = event_id
        self.sources = sources
        self.options = {name: dict(values) for name, values in (options or {}).items()}
        self.on_arrival = on_arrival
        self.streams: dict[str, LiveStream] = {}
        self._saved: dict[str, int] = {}  # source -> the cursor last stored
        # A pass (tend, then drain) and the bot's live drain run in two threads: drains
        # take turns, so a stream's posts and cursor are stored in the order drained.
        self._draining = threading.Lock()
        self._told = False  # the report said the firehose's cursor was outdated

    def choose(self, choice: str | None) -> None:
        """The event's own choice of streams, when it has one; kept once streams are open."""
        if choice and not self.streams:
            self.sources = live_sources(choice)

    def tend(
        self,
        platform: Platform,
        tag: str,
        window: tuple[datetime, datetime],
        final: bool,
        now: datetime,
        part: NetworkReport,
    ) -> None:
        """Open the streams not yet open, tell them of the chat's posts found by other
        means, and close them once the window is over (the final check has the last word)."""
        with session_scope(self.engine) as session:
            known = {ref.uri for ref in live_refs(session.connection(), self.event_id, "bluesky")}
            states = {
                name: load_cursor(session, self.event_id, "bluesky", name) for name in self.sources
            }
        for name in self.sources:
            stream = self.streams.get(name)
            if stream is None:
                # Each its own copy: a filter releases held replies as it learns posts.
                stream = self.streams[name] = self._open(
                    name, platform, tag, set(known), states[name], window, now, part
                )
            else:
                stream.know(known)
            if final:
                stream.close()
            elif not stream.running():
                stream.start()
        firehose = self.streams.get(FIREHOSE_SOURCE)
        outdated = firehose is not None and getattr(firehose.filter, "outdated", False)
        if outdated and not self._told:
            self._told = True  # said once: the gap is behind the stream
            part.notes.append(
                "the firehose's cursor was older than the relay keeps: posts from between "
                "come from search and threads"
            )
        part.stream = ", ".join(stream.state() for stream in self.streams.values())

    def _open(
        self,
        name: str,
        platform: Platform,
        tag: str,
        known: MutableSet[str],
        state: Mapping[str, Any],
        window: tuple[datetime, datetime],
        now: datetime,
        part: NetworkReport,
    ) -> LiveStream:
        options = dict(self.options.get(name, {}))
        service = getattr(platform, "service", "")
        web = getattr(platform, "web", "https://bsky.app")
        stream: LiveStream
        if name == FIREHOSE_SOURCE:
            from chatbot.collect.firehose import FirehoseStream, firehose_url

            seq = state.get("seq")
            url = options.pop("url", None) or firehose_url(service)
            cursor = seq if isinstance(seq, int) else None
            stream = FirehoseStream(url, tag, known, cursor, web=web, **options)
            if not isinstance(seq, int):
                part.notes.append(
                    "the firehose starts live (a position in it can't be found from a time): "
                    "posts from before come from search and threads"
                )
        else:
            stored = state.get("time_us")
            start = stored if isinstance(stored, int) else int(window[0].timestamp() * 1e6)
            urls = options.pop("urls", None) or jetstream_urls(service)
            stream = JetstreamStream(urls, tag, known, start, web=web, **options)
            if beyond_lookback(start, now):
                part.notes.append(
                    "Jetstream replays only its last 36 hours: posts from before come from "
                    "search and threads"
                )
        stream.on_arrival = self.on_arrival
        return stream

    def running(self) -> bool:
        return any(stream.running() for stream in list(self.streams.values()))

    def drain(
        self, store: Store, window: tuple[datetime, datetime], now: datetime, part: NetworkReport
    ) -> None:
        """Store what each stream kept, each with its cursor (a restart resumes there).

        Safe beside :meth:`tend` in another thread (it reads the streams open now)."""
        with self._draining:
            self._drain(store, window, now, part)

    def _drain(
        self, store: Store, window: tuple[datetime, datetime], now: datetime, part: NetworkReport
    ) -> None:
        start, end = window
        for name, stream in list(self.streams.items()):
            posts, cursor = stream.drain()
            if not posts and (cursor is None or self._saved.get(name) == cursor):
                continue  # nothing new: no transaction
            kept = [p for p in posts if p.created_at is None or start <= p.created_at < end]
            with session_scope(self.engine) as session:
                store(session.connection(), kept, part, FoundBy("stream", where(stream)))
                if cursor is not None:
                    key = "seq" if name == FIREHOSE_SOURCE else "time_us"
                    save_cursor(session, self.event_id, "bluesky", name, {key: cursor}, now)
            if cursor is not None:
                self._saved[name] = cursor

    def close(self, wait: float = 5.0) -> None:
        for stream in list(self.streams.values()):
            stream.close(wait)


def where(stream: LiveStream) -> str:
    """The address of the service a stream reads now (the coverage report's server)."""
    if isinstance(stream, JetstreamStream):
        return stream.urls[stream.instance]
    return stream.url


def drain_on_arrival(
    arrived: threading.Event, going: Callable[[], bool], drain: Callable[[], object], wait: float
) -> None:
    """A ``collect-live`` thread's loop: while ``going()``, wait (``wait`` real seconds at a
    time) for ``arrived``, then ``drain()`` what the streams brought.

    The event is cleared before draining, so what arrives meanwhile wakes the loop
    again. A drain that fails is logged and the loop goes on: the passes find those
    posts again.
    """
    while going():
        if not arrived.wait(wait):
            continue
        arrived.clear()
        if not going():
            return
        try:
            drain()
        except Exception:
            log.exception("storing live posts failed")


__all__ = [
    "FIREHOSE_SOURCE",
    "JETSTREAM_SOURCE",
    "LIVE_CHOICES",
    "LIVE_SETTING",
    "BlueskyLive",
    "drain_on_arrival",
    "live_sources",
]
