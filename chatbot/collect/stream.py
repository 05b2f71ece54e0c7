"""Mastodon's hashtag stream between polls: new posts, edits and deletions as they happen."""

from __future__ import annotations

import logging
import queue
import warnings
from typing import Any

from mastodon import StreamListener
from mastodon import errors as mx

from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.normalise import from_mastodon_status

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 5


class _Listener(StreamListener):
    def __init__(self, events: queue.SimpleQueue[tuple[str, Any]]):
        super().__init__()
        self.events = events

    def on_update(self, status: Any) -> None:
        self.events.put(("update", status))

    def on_status_update(self, status: Any) -> None:
        self.events.put(("update", status))

    def on_delete(self, status_id: Any) -> None:
        self.events.put(("delete", str(status_id)))


class HashtagStream:
    """``stream_hashtag`` in a background thread; :meth:`drain` hands over what arrived.

    Polling stays the source of truth (a stream misses what happens while it
    reconnects): the stream only makes new posts, edits and deletions show up
    sooner. A server without streaming just leaves polling to do the work.
    """

    network = "mastodon"

    def __init__(self, platform: Any, tag: str):
        self.platform = platform
        self.tag = tag.lstrip("#")
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.handle: Any = None

    def running(self) -> bool:
        return self.handle is not None and self.handle.is_alive()

    def start(self) -> bool:
        """Open the stream unless it is open; False when the server won't stream."""
        if self.running():
            return True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.handle = self.platform.api.stream_hashtag(
                    self.tag,
                    _Listener(self.events),
                    run_async=True,
                    reconnect_async=True,
                    reconnect_async_wait_sec=RECONNECT_SECONDS,
                )
        except mx.MastodonError as error:
            log.info("Mastodon: no hashtag stream (%s); polling only", error)
            self.handle = None
            return False
        return True

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
        if self.handle is not None:
            self.handle.close()
            self.handle.join(timeout=5)
            self.handle = None


__all__ = ["HashtagStream"]
