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
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from chatbot.collect.socketstream import SocketStream
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


class WebSocketStream(SocketStream):
    """A hashtag stream over WebSocket; the same surface as :class:`HashtagStream`."""

    network = "mastodon"
    transport = "websocket"
    thread_name = "mastodon-websocket"
    label = "Mastodon: WebSocket stream"

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
        super().__init__(
            receive_timeout=receive_timeout, pong_timeout=pong_timeout, max_backoff=max_backoff
        )
        self.url = url.rstrip("/")
        self.tag = tag.lstrip("#")
        self._token = token
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.refused: str | None = None  # why the server won't stream (then no more tries)

    # -- the surface the collector uses ---------------------------------------
    def state(self) -> str:
        if self.refused is not None:
            return f"off: {self.refused}"
        if self.connected():
            return self.transport
        return "reconnecting" if self.running() else "closed"

    def drain(self) -> tuple[list[NormalisedPost], list[str]]:
        """Posts (new or edited) and ids of deleted statuses received since the last call."""
        return drain_status_events(self.events)

    # -- the connection --------------------------------------------------------
    def _may_start(self) -> bool:
        return self.refused is None  # once the server refused, polling goes on alone

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
                self._closed()
            # Jitter keeps several bots from reconnecting in step.
            self._stop.wait(backoff * (1 + random.random() / 4))
            backoff = min(backoff * 2, self.max_backoff)

    def _handle(self, message: str | bytes) -> None:
        parsed = parse_message(message)
        if parsed is not None:
            self.events.put(parsed)


def drain_status_events(
    events: queue.SimpleQueue[tuple[str, Any]],
) -> tuple[list[NormalisedPost], list[str]]:
    """Posts (new or edited) and ids of deleted statuses queued by a Mastodon stream."""
    posts: list[NormalisedPost] = []
    deleted: list[str] = []
    while True:
        try:
            kind, value = events.get_nowait()
        except queue.Empty:
            return posts, deleted
        if kind == "delete":
            deleted.append(value)
        else:
            posts.append(from_mastodon_status(value))


__all__ = ["WebSocketStream", "drain_status_events", "parse_message"]
