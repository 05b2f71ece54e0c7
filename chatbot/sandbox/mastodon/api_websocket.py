"""Streaming over WebSocket at ``/api/v1/streaming``: Mastodon's and GoToSocial's way.

A client names its first stream in the query (``stream=hashtag&tag=...``) and,
on Mastodon, may add or drop streams with ``{"type": "subscribe", ...}``
messages. Every event is a text message ``{"stream": [...], "event": ...,
"payload": "..."}`` whose payload is a JSON string (a bare id for ``delete``).
A token is needed: in the query (``access_token``), as the
``Sec-WebSocket-Protocol`` header (GoToSocial's way for browsers) or as a
bearer token.
"""

from __future__ import annotations

import json
import queue
from typing import TYPE_CHECKING, Any

from chatbot.sandbox.mastodon.render import normalize_tag
from chatbot.sandbox.mastodon.store import MastodonStore, Subscription
from chatbot.sandbox.mastodon.streaming import event_payload
from chatbot.sandbox.web import HttpError, WebSocketClosed, WebSocketSession

if TYPE_CHECKING:
    from chatbot.sandbox.mastodon.base import MastodonBase

STREAMS = ("hashtag", "hashtag:local", "public", "public:local")
_WAIT = 0.05  # seconds each queue is watched before the socket is listened to


class _Connection:
    """The streams one WebSocket carries, by (name, tag)."""

    def __init__(self, store: MastodonStore, viewer_id: str | None):
        self.store = store
        self.viewer_id = viewer_id
        self.streams: dict[tuple[str, str], Subscription] = {}

    def subscribe(self, stream: str, tag: str) -> None:
        if stream not in STREAMS:
            return  # unknown streams are ignored, as both servers do
        hashtag = stream.startswith("hashtag")
        name = (stream, normalize_tag(tag) if hashtag else "")
        if (hashtag and not name[1]) or name in self.streams:
            return
        self.streams[name] = self.store.subscribe(
            tag if hashtag else None, self.viewer_id, local_only=stream.endswith(":local")
        )

    def unsubscribe(self, stream: str, tag: str) -> None:
        hashtag = stream.startswith("hashtag")
        found = self.streams.pop((stream, normalize_tag(tag) if hashtag else ""), None)
        if found is not None:
            self.store.unsubscribe(found)

    def close(self) -> None:
        for subscription in self.streams.values():
            self.store.unsubscribe(subscription)
        self.streams.clear()

    def dropped(self) -> bool:
        return any(s.dropped.is_set() for s in self.streams.values())

    def pending(self) -> list[str]:
        """The messages ready to send (each stream's events, in order)."""
        ready: list[str] = []
        for (stream, tag), subscription in list(self.streams.items()):
            while True:
                try:
                    name, status = subscription.events.get_nowait()
                except queue.Empty:
                    break
                label = [stream, tag] if tag else [stream]
                payload = event_payload(self.store, name, status, self.viewer_id)
                message = {"stream": label, "event": name, "payload": payload}
                ready.append(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        return ready


def _token_value(session: WebSocketSession) -> str | None:
    request = session.request
    return (
        request.arg("access_token")
        or request.header("Sec-WebSocket-Protocol")
        or request.bearer_token
        or None
    )


def register(app: MastodonBase) -> None:
    store = app.store

    def handle_message(connection: _Connection, text: str | bytes) -> None:
        try:
            message: Any = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        stream, tag = str(message.get("stream") or ""), str(message.get("tag") or "")
        if message.get("type") == "subscribe":
            connection.subscribe(stream, tag)
        elif message.get("type") == "unsubscribe":
            connection.unsubscribe(stream, tag)

    def streaming(session: WebSocketSession) -> None:
        value = _token_value(session)
        token = store.token(value)
        if token is None:
            raise HttpError(401, "Unauthorized", "Error while authenticating: no valid token")
        request = session.request
        stream = request.arg("stream") or ""
        if stream.startswith("hashtag") and not request.arg("tag"):
            raise HttpError(400, "BadRequest", "No tag for stream provided")
        connection = _Connection(store, token.account_id)
        if stream:
            connection.subscribe(stream, request.arg("tag") or "")
        session.accept()
        try:
            while not session.closing.is_set() and not connection.dropped():
                for message in connection.pending():
                    session.send(message)
                received = session.receive(timeout=_WAIT)
                if received is not None:
                    handle_message(connection, received)
            session.close(1001 if session.closing.is_set() else 1011)
        except WebSocketClosed:
            pass
        finally:
            connection.close()

    app.websocket("/api/v1/streaming", streaming)
    app.websocket("/api/v1/streaming/", streaming)


__all__ = ["STREAMS", "register"]
