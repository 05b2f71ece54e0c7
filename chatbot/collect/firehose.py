"""Bluesky's live posts from the relay firehose (``com.atproto.sync.subscribeRepos``).

A second live source beside Jetstream: the network's own stream of repo
commits, as a relay (or a single PDS) serves it, read with the atproto SDK's
:class:`~atproto_firehose.FirehoseSubscribeReposClient` in a background thread.
Each frame goes through :class:`~chatbot.platforms.firehose.FirehoseFilter`,
the same chat filter Jetstream's events go through.

The firehose's position is ``seq``, a number of the server that sends it:

- every frame's ``seq`` is handed to the client (``update_params``), so the
  client's own reconnections (after ``receive_timeout`` seconds of silence:
  the stream never stalls silently, or after a dropped connection) resume
  after the last frame seen;
- the collector stores the seq with the posts it covers (``drain``), so a new
  process resumes from it; with no stored seq the stream starts live (a
  ``seq`` can't be found from a time), and search and threads find the posts
  from before;
- when the client gives up (the server closed normally, or sent an error
  frame such as ``FutureCursor``, or refused the connection), this class
  makes a new one after a pause that doubles up to ``max_backoff``; after a
  ``FutureCursor`` (a server whose numbering started again) it starts live.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, MutableSet
from urllib.parse import urlsplit

from atproto_core.exceptions import AtProtocolError
from atproto_firehose import FirehoseSubscribeReposClient
from atproto_subscription.frames import MessageFrame

from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.firehose import FirehoseFilter

log = logging.getLogger(__name__)
# Bluesky's relay: every PDS's commits in one stream.
PUBLIC_RELAY = "wss://bsky.network/xrpc"
RECEIVE_TIMEOUT = 30.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
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


class FirehoseStream:
    """One chat's posts from the firehose, received in a background thread.

    ``chat`` is the set of the chat's post URIs (shared with the collector
    and any other stream); ``cursor`` is the seq to resume after (None: live).
    """

    network = "bluesky"
    transport = "firehose"

    def __init__(
        self,
        url: str,
        tag: str,
        chat: MutableSet[str] | Iterable[str] = (),
        cursor: int | None = None,
        *,
        web: str = "https://bsky.app",
        receive_timeout: float = RECEIVE_TIMEOUT,
        max_backoff: float = MAX_BACKOFF,
    ):
        self.url = url.rstrip("/")
        self.filter = FirehoseFilter(tag, chat, web=web)
        self.start_cursor = cursor
        self.receive_timeout = receive_timeout
        self.max_backoff = max_backoff
        self.clients = 0  # SDK clients made: the first, then one per time it gave up
        self.refusals: list[str] = []  # why the server ended a client (error frames)
        self.on_arrival: Callable[[], None] | None = None  # called when posts wait for drain()
        self._pending: list[NormalisedPost] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._client: FirehoseSubscribeReposClient | None = None
        self._thread: threading.Thread | None = None

    @property
    def chat(self) -> MutableSet[str]:
        return self.filter.chat

    # -- the surface the collector uses ---------------------------------------
    def start(self) -> bool:
        if not self.running():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="bluesky-firehose", daemon=True)
            self._thread.start()
        return True

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def state(self) -> str:
        return self.transport if self.running() else "closed"

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

    def close(self) -> None:
        self._stop.set()
        client = self._client
        if client is not None:
            client.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- the client ------------------------------------------------------------
    def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stop.is_set():
            cursor = self.cursor()
            params = {"cursor": cursor} if cursor is not None else None
            client = FirehoseSubscribeReposClient(
                params, base_uri=self.url, recv_timeout=self.receive_timeout
            )
            self._client = client
            self.clients += 1
            if self._stop.is_set():
                break
            seen = self.filter.frames
            try:
                client.start(self._on_frame, self._on_error)
            except AtProtocolError as error:
                self.refusals.append(str(error))
                log.info("firehose: the server ended the stream (%s); resubscribing", error)
                if "FutureCursor" in str(error):
                    with self._lock:  # the server's numbering started again: go live
                        self.filter.seq = self.start_cursor = None
            if self.filter.frames > seen:
                backoff = FIRST_BACKOFF  # that client was receiving: start the pauses over
            self._stop.wait(min(backoff, self.max_backoff))
            backoff = min(backoff * 2, self.max_backoff)

    def _on_frame(self, frame: MessageFrame) -> None:
        with self._lock:
            kept = self.filter.feed_frame(frame)
            seq = self.filter.seq
            if kept:
                self._pending.extend(kept)
        if kept and self.on_arrival is not None:
            self.on_arrival()
        client = self._client
        if seq is not None and client is not None:
            client.update_params({"cursor": seq})  # the client's reconnections resume here

    def _on_error(self, error: BaseException) -> None:
        log.warning("firehose: a frame could not be handled (%s)", error)


__all__ = ["PUBLIC_RELAY", "FirehoseStream", "firehose_url"]
