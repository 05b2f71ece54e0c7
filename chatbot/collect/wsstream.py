"""A Mastodon-API hashtag stream over WebSocket, for servers with no event-stream endpoint.

GoToSocial streams only over WebSocket (``/api/v1/streaming``); Mastodon offers
it beside its server-sent events. The connection lives in a background thread:
every ``receive_timeout`` seconds without a message it pings the server, and a
ping not answered within ``pong_timeout`` counts as a dead link, so a stalled
connection is noticed rather than trusted. A lost connection is made again
after a pause that doubles up to ``max_backoff`` (never a tight loop); each
reconnection is counted as a gap, which the collector's next poll covers. A
refused handshake (400, 401, 403, 404) ends streaming for good: polling goes
on alone.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.normalise import from_mastodon_status

log = logging.getLogger(__name__)
RECEIVE_TIMEOUT = 30.0  # seconds of silence before the connection is pinged
PONG_TIMEOUT = 10.0
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
REFUSED = (400, 401, 403, 404)


def parse_message(text: str | bytes) -> tuple[str, Any] | None:
    """``("update", status)`` or ``("delete", id)`` from one stream message; None otherwise.

    The message is ``{"stream": [...], "event": ..., "payload": "<JSON text>"}``;
    post content is untrusted, so anything malformed is skipped.
    """
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    event, payload = message.get("event"), message.get("payload")
    if event == "delete" and isinstance(payload, str | int):
        return ("delete", str(payload))
    if event in ("update", "status.update") and isinstance(payload, str):
        try:
            status = json.loads(payload)
        except ValueError:
            return None
        if isinstance(status, dict) and status.get("id") and status.get("uri"):
            return ("update", status)
    return None


class WebSocketStream:
    """A hashtag stream over WebSocket; the same surface as :class:`HashtagStream`."""

    network = "mastodon"
    transport = "websocket"

    def __init__(
        self,
        url: str,
        token: str | None,
        tag: str,
        *,
        receive_timeout: float = RECEIVE_TIMEOUT,
        pong_timeout: float = PONG_TIMEOUT,
        max_backoff: float = MAX_BACKOFF,
    ):
        self.url = url.rstrip("/")
        self.tag = tag.lstrip("#")
        self._token = token
        self.receive_timeout = receive_timeout
        self.pong_timeout = pong_timeout
        self.max_backoff = max_backoff
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.refused: str | None = None  # why the server won't stream (then no more tries)
        self.connections = 0  # handshakes that succeeded
        self.stalls = 0  # connections given up for want of an answer to a ping
        self._gaps = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._socket: ClientConnection | None = None
        self._thread: threading.Thread | None = None

    # -- the surface the collector uses ---------------------------------------
    def start(self) -> bool:
        """Start the background connection unless it runs; False once the server refused."""
        if self.refused is not None:
            return False
        if self.running():
            return True
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mastodon-websocket", daemon=True)
        self._thread.start()
        return True

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def take_gaps(self) -> int:
        """Reconnections since the last call: each one is a stretch the stream missed."""
        with self._lock:
            gaps, self._gaps = self._gaps, 0
        return gaps

    def state(self) -> str:
        if self.refused is not None:
            return f"off: {self.refused}"
        if self.connected():
            return self.transport
        return "reconnecting" if self.running() else "closed"

    def drain(self) -> tuple[list[NormalisedPost], list[str]]:
        """Posts (new or edited) and ids of deleted statuses received since the last call."""
        posts: list[NormalisedPost] = []
        deleted: list[str] = []
        while True:
            try:
                kind, value = self.events.get_nowait()
            except queue.Empty:
                return posts, deleted
            if kind == "delete":
                deleted.append(value)
            else:
                posts.append(from_mastodon_status(value))

    def close(self) -> None:
        self._stop.set()
        socket = self._socket
        if socket is not None:
            socket.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- the connection --------------------------------------------------------
    def _address(self) -> str:
        return f"{self.url}/api/v1/streaming?" + urlencode({"stream": "hashtag", "tag": self.tag})

    def _run(self) -> None:
        backoff = FIRST_BACKOFF
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        while not self._stop.is_set():
            try:
                with connect(
                    self._address(),
                    additional_headers=headers,
                    open_timeout=10,
                    close_timeout=2,
                    ping_interval=None,  # this class pings when the line is quiet
                    max_size=2**22,
                ) as socket:
                    self._opened(socket)
                    backoff = FIRST_BACKOFF
                    self._receive(socket)
            except InvalidStatus as error:
                code = error.response.status_code
                if code in REFUSED:
                    self.refused = f"the server refused the WebSocket stream ({code})"
                    log.warning("Mastodon: %s; polling only", self.refused)
                    return
                log.info("Mastodon: WebSocket handshake answered %s; retrying", code)
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as error:
                log.info("Mastodon: WebSocket stream lost (%s); reconnecting", error)
            finally:
                self._connected.clear()
                self._socket = None
            # Jitter keeps several bots from reconnecting in step.
            self._stop.wait(backoff * (1 + random.random() / 4))
            backoff = min(backoff * 2, self.max_backoff)

    def _opened(self, socket: ClientConnection) -> None:
        self._socket = socket
        with self._lock:
            self.connections += 1
            if self.connections > 1:
                self._gaps += 1
        self._connected.set()
        if self._stop.is_set():
            socket.close()

    def _receive(self, socket: ClientConnection) -> None:
        while not self._stop.is_set():
            try:
                message = socket.recv(timeout=self.receive_timeout)
            except TimeoutError:
                answered = socket.ping()
                if not answered.wait(self.pong_timeout):
                    self.stalls += 1
                    log.info("Mastodon: WebSocket stream silent and unanswered; reconnecting")
                    return
                continue
            parsed = parse_message(message)
            if parsed is not None:
                self.events.put(parsed)


__all__ = ["WebSocketStream", "parse_message"]
