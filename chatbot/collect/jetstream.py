"""Bluesky's live posts from Jetstream, between the collector's polls.

A background thread holds a WebSocket to a Jetstream instance
(``/subscribe?wantedCollections=app.bsky.feed.post&cursor=...``) and passes
every message through :class:`~chatbot.platforms.jetstream.JetstreamFilter`,
which keeps the chat's posts and deletions whatever the order or repetition of
events. Jetstream's cursor is a time in microseconds, the same on every
instance, so:

- every (re)connection asks for the events since the last one seen minus
  :data:`SAFETY_MARGIN_US` (the stream is not in strict time order); what
  comes twice is dropped by the filter, or found unchanged in the store;
- after :data:`TRIES_PER_INSTANCE` failed connections in a row the next
  instance is tried, from the same cursor;
- the collector stores the cursor with the posts it covers (``drain``), so a
  new process resumes from it without a gap.

A connection silent for ``receive_timeout`` seconds is pinged, and one whose
ping goes unanswered is dropped and made again: the stream never stalls
silently. A dropped connection is made again after :data:`FIRST_BACKOFF`; pauses
between failing attempts double up to ``max_backoff``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, MutableSet, Sequence
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from chatbot.collect.socketstream import SocketStream
from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.jetstream import POST, JetstreamFilter

log = logging.getLogger(__name__)
# The public instances Bluesky runs (bluesky-social/jetstream's README); one cursor
# serves them all.
PUBLIC_INSTANCES = (
    "wss://jetstream1.us-east.bsky.network",
    "wss://jetstream2.us-east.bsky.network",
    "wss://jetstream1.us-west.bsky.network",
    "wss://jetstream2.us-west.bsky.network",
)
SAFETY_MARGIN_US = 5_000_000
# How far back Jetstream replays: an older cursor starts, silently, at the oldest event kept.
LOOKBACK_US = 36 * 3600 * 1_000_000
RECEIVE_TIMEOUT = 30.0
PONG_TIMEOUT = 10.0
# A dropped connection is made again at once (a tenth of a second): a post must show
# within 2 s, and a handshake may fail (then 0.2, 0.4 ... up to max_backoff).
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 30.0
TRIES_PER_INSTANCE = 2
MAX_MESSAGE = 2**21  # a post record is at most a few tens of kB; room for any other record
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def beyond_lookback(cursor: int, now: datetime) -> bool:
    """True when Jetstream can no longer replay from ``cursor`` (search and threads must)."""
    return cursor < int(now.timestamp() * 1_000_000) - LOOKBACK_US


def jetstream_urls(service: str) -> tuple[str, ...]:
    """Where Bluesky's Jetstream is for an account on ``service`` (its PDS).

    The network's posts stream from Bluesky's public instances, whichever PDS
    the bot's account lives on; a server on this machine (the sandbox) serves
    its own network's stream.
    """
    parts = urlsplit(service)
    if parts.hostname in _LOOPBACK:
        scheme = "wss" if parts.scheme == "https" else "ws"
        return (f"{scheme}://{parts.netloc}",)
    return PUBLIC_INSTANCES


class JetstreamStream(SocketStream):
    """One chat's posts from Jetstream, received in a background thread.

    ``chat`` is the set of the chat's post URIs; the collector adds what it
    finds by other means, the stream adds what it keeps. ``cursor`` is where
    to start (microseconds; None: from now).
    """

    network = "bluesky"
    transport = "jetstream"
    thread_name = "bluesky-jetstream"
    label = "Jetstream"
    decode_text = False  # the filter reads the UTF-8 bytes (and refuses what is not UTF-8)

    def __init__(
        self,
        urls: Sequence[str],
        tag: str,
        chat: MutableSet[str] | Iterable[str] = (),
        cursor: int | None = None,
        *,
        web: str = "https://bsky.app",
        receive_timeout: float = RECEIVE_TIMEOUT,
        pong_timeout: float = PONG_TIMEOUT,
        max_backoff: float = MAX_BACKOFF,
        margin_us: int = SAFETY_MARGIN_US,
    ):
        if not urls:
            raise ValueError("no Jetstream address")
        super().__init__(
            receive_timeout=receive_timeout, pong_timeout=pong_timeout, max_backoff=max_backoff
        )
        self.urls = [url.rstrip("/") for url in urls]
        self.filter = JetstreamFilter(tag, chat, web=web)
        self.start_cursor = cursor
        self.margin_us = margin_us
        self.failovers = 0  # moves to another instance
        self.instance = 0  # index in ``urls`` of the instance in use
        self._pending: list[NormalisedPost] = []
        self.on_arrival: Callable[[], None] | None = None  # called when posts wait for drain()

    @property
    def chat(self) -> MutableSet[str]:
        return self.filter.chat

    def know(self, uris: Iterable[str]) -> None:
        """Posts of the chat found by other means: replies to them are the chat's too,
        those that came before included."""
        chat = self.filter.chat
        fresh = [uri for uri in uris if uri not in chat]
        if fresh:
            with self._lock:
                found = self.filter.learn(fresh)
                self._pending.extend(found)
            if found and self.on_arrival is not None:
                self.on_arrival()

    # -- the surface the collector uses ---------------------------------------
    def state(self) -> str:
        if self.connected():
            return self.transport
        return "reconnecting" if self.running() else "closed"

    def take_gaps(self) -> int:
        return 0  # every reconnection resumes from the cursor: nothing is missed

    def cursor(self) -> int | None:
        """Where a new connection would start (before the margin)."""
        with self._lock:
            return self.filter.cursor if self.filter.cursor is not None else self.start_cursor

    def drain(self) -> tuple[list[NormalisedPost], int | None]:
        """The posts and tombstones kept since the last call, and the cursor they reach."""
        with self._lock:
            posts, self._pending = self._pending, []
            return posts, self.filter.cursor

    # -- the connection --------------------------------------------------------
    def address(self) -> str:
        """The next connection's address: the instance in use, from the cursor less the margin."""
        query: list[tuple[str, str]] = [("wantedCollections", POST)]
        cursor = self.cursor()
        if cursor is not None:
            query.append(("cursor", str(max(cursor - self.margin_us, 0))))
        return f"{self.urls[self.instance]}/subscribe?{urlencode(query)}"

    def _run(self) -> None:
        first = min(FIRST_BACKOFF, self.max_backoff)
        backoff, failures = first, 0
        while not self._stop.is_set():
            try:
                with connect(
                    self.address(),
                    open_timeout=10,
                    close_timeout=2,
                    ping_interval=None,  # this class pings when the line is quiet
                    max_size=MAX_MESSAGE,
                ) as socket:
                    self._opened(socket)
                    backoff, failures = first, 0
                    self._receive(socket)
            except InvalidStatus as error:
                failures += 1
                log.info("Jetstream answered %s; retrying", error.response.status_code)
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as error:
                failures += 1
                log.info("Jetstream connection lost (%s); reconnecting", error)
            finally:
                self._closed()
            if failures >= TRIES_PER_INSTANCE and len(self.urls) > 1:
                self.instance = (self.instance + 1) % len(self.urls)
                self.failovers += 1
                failures = 0
                log.info("Jetstream: trying %s", self.urls[self.instance])
            # Jitter keeps several bots from reconnecting in step.
            self._stop.wait(backoff * (1 + random.random() / 4))
            backoff = min(backoff * 2, self.max_backoff)

    def _handle(self, message: str | bytes) -> None:
        with self._lock:
            kept = self.filter.feed(message)
            if kept:
                self._pending.extend(kept)
        if kept and self.on_arrival is not None:
            self.on_arrival()  # the chat's posts are rare in the stream: this costs nothing

    def _handle_batch(self, messages: list[str | bytes]) -> None:
        with self._lock:
            kept = self.filter.feed_many(messages)
            if kept:
                self._pending.extend(kept)
        if kept and self.on_arrival is not None:
            self.on_arrival()


__all__ = [
    "LOOKBACK_US",
    "PUBLIC_INSTANCES",
    "SAFETY_MARGIN_US",
    "JetstreamStream",
    "beyond_lookback",
    "jetstream_urls",
]
