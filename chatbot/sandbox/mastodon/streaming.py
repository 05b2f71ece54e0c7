"""Server-sent event streams of the sandbox Mastodon (hashtag and public timelines)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator

from chatbot.sandbox.mastodon.records import Status
from chatbot.sandbox.mastodon.store import MastodonStore, Subscription

# The real streaming server's keep-alive: a comment line every 15 seconds.
HEARTBEAT_SECONDS = 15.0
_POLL_SECONDS = 0.2  # how soon a stream notices the server is closing


def event_payload(store: MastodonStore, name: str, status: Status, viewer_id: str | None) -> str:
    """An event's data as the streaming server writes it; ``delete`` carries a bare id."""
    if name == "delete":
        return status.id
    payload = store.status_json(status, viewer_id=None)
    if viewer_id is not None:
        # The streaming server appends the viewer's flags after rendering, so they come last.
        payload |= {
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
        }
        if viewer_id == status.account_id and status.visibility in ("public", "unlisted"):
            payload["pinned"] = False
        payload["filtered"] = []
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def encode_event(store: MastodonStore, name: str, status: Status, viewer_id: str | None) -> bytes:
    """One SSE event as Mastodon's streaming server writes it."""
    data = event_payload(store, name, status, viewer_id)
    return f"event: {name}\ndata: {data}\n\n".encode()


def event_stream(
    store: MastodonStore,
    subscription: Subscription,
    closing: threading.Event,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> Iterator[bytes]:
    """Yield the stream's bytes until the server closes; always unsubscribes at the end."""
    try:
        yield b":)\n"
        next_beat = time.monotonic() + heartbeat_seconds
        while not closing.is_set():
            wait = max(0.0, min(_POLL_SECONDS, next_beat - time.monotonic()))
            try:
                name, status = subscription.events.get(timeout=wait)
            except queue.Empty:
                if time.monotonic() >= next_beat:
                    yield b":thump\n"
                    next_beat = time.monotonic() + heartbeat_seconds
                continue
            yield encode_event(store, name, status, subscription.viewer_id)
    finally:
        store.unsubscribe(subscription)


__all__ = ["HEARTBEAT_SECONDS", "encode_event", "event_payload", "event_stream"]
