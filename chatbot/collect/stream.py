"""Mastodon's hashtag stream between polls: new posts, edits and deletions as they happen.

:class:`HashtagStream` is Mastodon.py's server-sent-event stream;
:class:`~chatbot.collect.wsstream.WebSocketStream` the WebSocket one;
:func:`open_stream` picks per server (GoToSocial has no event streams, and a
server whose event stream is missing gets the WebSocket one).
"""

from __future__ import annotations

import logging
import queue
import warnings
from typing import Any

from mastodon import StreamListener
from mastodon import errors as mx

from chatbot.collect.wsstream import WebSocketStream, drain_status_events
from chatbot.platforms.base import NormalisedPost

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
    transport = "sse"

    def __init__(self, platform: Any, tag: str):
        self.platform = platform
        self.tag = tag.lstrip("#")
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.handle: Any = None
        self._not_receiving = 0

    def running(self) -> bool:
        return self.handle is not None and self.handle.is_alive()

    def stuck(self, checks: int = 2) -> bool:
        """True once the stream has been found not receiving ``checks`` times in a row
        (Mastodon.py reconnecting, every few seconds, without end)."""
        receiving = self.handle is not None and self.handle.is_receiving()
        self._not_receiving = 0 if receiving else self._not_receiving + 1
        return self._not_receiving >= checks

    def state(self) -> str:
        return self.transport if self.running() else "closed"

    def take_gaps(self) -> int:
        return 0  # Mastodon.py reconnects its event stream without telling

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
        return drain_status_events(self.events)

    def close(self, wait: float = 5.0) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle.join(timeout=wait)
            self.handle = None


class ChosenStream:
    """The hashtag stream the server offers: its event stream where it has one, else (or
    when that fails to open) a WebSocket to the streaming address it advertises, made
    to fit the server's own address when the advertised one can't work from here."""

    network = "mastodon"

    def __init__(self, platform: Any, tag: str, **websocket_options: Any):
        self.platform = platform
        self.tag = tag.lstrip("#")
        self.websocket_options = websocket_options
        self.current: HashtagStream | WebSocketStream | None = None

    @property
    def events(self) -> queue.SimpleQueue[tuple[str, Any]]:
        if self.current is None:
            return queue.SimpleQueue()
        return self.current.events

    @property
    def transport(self) -> str:
        return self.current.transport if self.current is not None else ""

    def _websocket(self) -> WebSocketStream:
        server = self.platform.server()
        token = self.platform.stream_token()
        return WebSocketStream(server.streaming_url, token, self.tag, **self.websocket_options)

    def start(self) -> bool:
        if self.current is None:
            if not hasattr(self.platform, "server"):  # an adapter that can't say: events only
                self.current = HashtagStream(self.platform, self.tag)
                return self.current.start()
            server = self.platform.server()
            if (
                server.sse
                and server.advertised_ok
                and self.platform.event_stream_available(self.tag)
            ):
                sse = HashtagStream(self.platform, self.tag)
                if sse.start():
                    self.current = sse
                    return True
            self.current = self._websocket()
        return self.current.start()

    def tend(self) -> None:
        """Keep the stream open; an event stream that stays unable to connect gives way to a
        WebSocket instead of being retried every few seconds."""
        if (
            isinstance(self.current, HashtagStream)
            and hasattr(self.platform, "server")
            and self.current.stuck()
        ):
            log.info("Mastodon: the event stream keeps failing; switching to a WebSocket")
            self.current.close()
            self.current = self._websocket()
        if not self.running():
            self.start()

    def running(self) -> bool:
        return self.current is not None and self.current.running()

    def state(self) -> str:
        return self.current.state() if self.current is not None else "closed"

    def take_gaps(self) -> int:
        return self.current.take_gaps() if self.current is not None else 0

    def drain(self) -> tuple[list[NormalisedPost], list[str]]:
        return self.current.drain() if self.current is not None else ([], [])

    def close(self, wait: float = 5.0) -> None:
        if self.current is not None:
            self.current.close(wait)


def open_stream(platform: Any, tag: str, **websocket_options: Any) -> ChosenStream:
    """A stream for ``tag`` on ``platform``'s server (not opened: call ``start()``)."""
    return ChosenStream(platform, tag, **websocket_options)


__all__ = ["ChosenStream", "HashtagStream", "open_stream"]
