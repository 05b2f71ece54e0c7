"""Bluesky's live posts from the relay firehose (``com.atproto.sync.subscribeRepos``).

A second live source beside Jetstream: the network's own stream of repo
commits, as a relay (or a single PDS) serves it. Each frame is decoded by the
atproto SDK (``Frame.from_bytes``: the header and body, an error frame told
apart) and goes through :class:`~chatbot.platforms.firehose.FirehoseFilter`,
the same chat filter Jetstream's events go through, which decodes the SDK's
message model and CAR for the frames that touch a post.

The connection is this project's own WebSocket loop
(:class:`~chatbot.collect.socketstream.SocketStream`, as Jetstream's), not
the SDK's ``FirehoseSubscribeReposClient``: that client, after a connection
ends abnormally (a dropped link, a close code other than 1000/1001, a receive
timeout), sleeps ``2**n`` seconds (n counting failures since the client was
made, reset to 1 only after a connection that lasted 60 s) plus or minus half
a second, so 1.5 to 2.5 s at the least and up to 64 s, before it dials again;
its public surface (``start``, ``stop``, ``update_params``; ``params``,
``base_uri``, ``recv_timeout``) neither tells of a drop nor skips the wait, and
``stop()`` during the wait still dials once after it. A post must show within
2 s, so the stream reconnects by itself:

- every connection asks for the messages after the last ``seq`` seen
  (``cursor=``), so a dropped connection resumes where it stopped, after a
  pause of :data:`FIRST_BACKOFF` (doubling, up to ``max_backoff``, while
  connections fail);
- a connection silent for ``receive_timeout`` seconds is pinged, and one whose
  ping goes unanswered within ``pong_timeout`` is dropped and made again: the
  stream never stalls silently;
- the collector stores the seq with the posts it covers (``drain``), so a new
  process resumes from it; with no stored seq the stream starts live (a
  ``seq`` can't be found from a time), and search and threads find the posts
  from before;
- an error frame (``FutureCursor``: a server whose numbering started again,
  or any other) is recorded in :attr:`FirehoseStream.refusals`; after a
  ``FutureCursor`` the next connection starts live.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, MutableSet
from urllib.parse import urlencode, urlsplit

from atproto_core.exceptions import AtProtocolError
from atproto_subscription.frames import ErrorFrame, Frame, MessageFrame
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from chatbot.collect.socketstream import SocketStream
from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.firehose import FirehoseFilter

log = logging.getLogger(__name__)
# Bluesky's relay: every PDS's commits in one stream.
PUBLIC_RELAY = "wss://bsky.network/xrpc"
METHOD = "com.atproto.sync.subscribeRepos"
RECEIVE_TIMEOUT = 30.0
PONG_TIMEOUT = 10.0
# A dropped connection is made again at once (a tenth of a second): a post must show
# within 2 s, and a handshake may fail (then 0.2, 0.4 ... up to max_backoff).
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 30.0
MAX_FRAME = 5 * 2**20  # what the SDK's client allows: a commit's CAR may be large
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def firehose_url(service: str) -> str:
    """Where the firehose is for an account on ``service`` (its PDS), up to ``/xrpc``.

    The network's posts stream from Bluesky's relay, whichever PDS the bot's
    account lives on; a server on this machine (the sandbox, the reference
    PDS) serves its own repos' stream.
    """
    parts = urlsplit(service)
    if parts.hostname in _LOOPBACK:
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}/xrpc"
    return PUBLIC_RELAY


class FirehoseStream(SocketStream):
    """One chat's posts from the firehose, received in a background thread.

    ``chat`` is the set of the chat's post URIs (shared with the collector
    and any other stream); ``cursor`` is the seq to resume after (None: live).
    """

    network = "bluesky"
    transport = "firehose"
    thread_name = "bluesky-firehose"
    label = "firehose"
    decode_text = False  # frames are binary; a text frame (none expected) stays bytes

    def __init__(
        self,
        url: str,
        tag: str,
        chat: MutableSet[str] | Iterable[str] = (),
        cursor: int | None = None,
        *,
        web: str = "https://bsky.app",
        receive_timeout: float = RECEIVE_TIMEOUT,
        pong_timeout: float = PONG_TIMEOUT,
        max_backoff: float = MAX_BACKOFF,
    ):
        super().__init__(
            receive_timeout=receive_timeout, pong_timeout=pong_timeout, max_backoff=max_backoff
        )
        self.url = url.rstrip("/")
        self.filter = FirehoseFilter(tag, chat, web=web)
        self.start_cursor = cursor
        self.refusals: list[str] = []  # the error frames the server ended connections with
        self.on_arrival: Callable[[], None] | None = None  # called when posts wait for drain()
        self._pending: list[NormalisedPost] = []

    @property
    def chat(self) -> MutableSet[str]:
        return self.filter.chat

    # -- the surface the collector uses ---------------------------------------
    def state(self) -> str:
        if self.connected():
            return self.transport
        return "reconnecting" if self.running() else "closed"

    def take_gaps(self) -> int:
        return 0  # every reconnection resumes after the last seq: nothing is missed

    def know(self, uris: Iterable[str]) -> None:
        """Posts of the chat found by other means: replies to them are the chat's too."""
        chat = self.filter.chat
        fresh = [uri for uri in uris if uri not in chat]
        if fresh:
            with self._lock:
                found = self.filter.learn(fresh)
                self._pending.extend(found)
            if found and self.on_arrival is not None:
                self.on_arrival()

    def cursor(self) -> int | None:
        """The seq a new connection resumes after."""
        with self._lock:
            return self.filter.seq if self.filter.seq is not None else self.start_cursor

    def drain(self) -> tuple[list[NormalisedPost], int | None]:
        """The posts and tombstones kept since the last call, and the seq they reach."""
        with self._lock:
            posts, self._pending = self._pending, []
            return posts, self.filter.seq

    # -- the connection --------------------------------------------------------
    def address(self) -> str:
        """The next connection's address: after the last seq seen, or live."""
        cursor = self.cursor()
        query = f"?{urlencode({'cursor': cursor})}" if cursor is not None else ""
        return f"{self.url}/{METHOD}{query}"

    def _run(self) -> None:
        first = min(FIRST_BACKOFF, self.max_backoff)
        backoff = first
        while not self._stop.is_set():
            try:
                with connect(
                    self.address(),
                    open_timeout=10,
                    close_timeout=2,
                    ping_interval=None,  # SocketStream pings when the line is quiet
                    max_size=MAX_FRAME,
                ) as socket:
                    self._opened(socket)
                    backoff = first
                    self._receive(socket)
            except InvalidStatus as error:
                log.info("firehose answered %s; retrying", error.response.status_code)
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as error:
                log.info("firehose connection lost (%s); reconnecting", error)
            finally:
                self._closed()
            # Jitter keeps several bots from reconnecting in step.
            self._stop.wait(backoff * (1 + random.random() / 4))
            backoff = min(backoff * 2, self.max_backoff)

    def _handle(self, message: str | bytes) -> None:
        self._handle_batch([message])

    def _handle_batch(self, messages: list[str | bytes]) -> None:
        kept: list[NormalisedPost] = []
        with self._lock:
            for message in messages:
                frame = self._frame(message)
                if frame is not None:
                    kept.extend(self.filter.feed_frame(frame))
            if kept:
                self._pending.extend(kept)
        if kept and self.on_arrival is not None:
            self.on_arrival()

    def _frame(self, message: str | bytes) -> MessageFrame | None:
        """The SDK's reading of one message; an error frame is noted (under the lock)."""
        if type(message) is not bytes:
            return None  # a text frame: not part of the protocol
        try:
            frame = Frame.from_bytes(message)
        except (AtProtocolError, ValueError, TypeError, RecursionError):
            self.filter.malformed += 1  # the stream is untrusted: one bad frame is let go
            return None
        if isinstance(frame, ErrorFrame):
            error = f"{frame.body.error}: {frame.body.message}"
            self.refusals.append(error)
            log.info("firehose: the server refused the subscription (%s)", error)
            if frame.body.error == "FutureCursor":  # its numbering started again: go live
                self.filter.seq = self.start_cursor = None
            return None
        return frame if isinstance(frame, MessageFrame) else None


__all__ = ["PUBLIC_RELAY", "FirehoseStream", "firehose_url"]
