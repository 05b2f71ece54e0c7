"""Jetstream at ``/subscribe``: the sandbox network's commits as JSON over a WebSocket.

Every record created, updated or deleted on the sandbox PDS becomes one event
shaped like production Jetstream v1's (``{did, time_us, kind: "commit",
commit: {rev, operation, collection, rkey, record, cid}}``, compact JSON; a
deletion has no record and no cid). ``time_us`` is the sandbox clock's time
when the event was logged, made strictly increasing.

Query parameters as on the public instances: ``wantedCollections`` (repeated;
an NSID or a ``prefix.*``), ``wantedDids`` (repeated) and ``cursor`` (unix
microseconds): events from the cursor on (inclusive) are replayed, then live
events follow. A cursor older than :attr:`JetstreamOptions.lookback` starts at
the oldest event kept, silently, as v1 does; a cursor in the future means live
only.

:class:`JetstreamOptions` holds the faults a real Jetstream shows: connections
dropped after a number of events or seconds, and the last events of a replay
sent again, out of order, at the switch to live (Jetstream delivers at least
once and reorders around that switch). ``GET``/``POST /_sandbox/jetstream``
reads and sets them as JSON (``drop_after_events``, ``drop_after_seconds``,
``switch_repeats``, ``lookback_seconds``; null turns one off).
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chatbot.sandbox.bluesky.model import StoredRecord
from chatbot.sandbox.web import (
    HttpError,
    Request,
    Response,
    WebSocketClosed,
    WebSocketSession,
    json_response,
)

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.base import BlueskyBase

_WAIT = 0.05  # seconds the handler listens to the socket between looks at the log


@dataclass
class JetstreamOptions:
    """Faults of the sandbox's Jetstream (all off by default)."""

    drop_after_events: int | None = None  # close each connection after sending this many
    drop_after_seconds: float | None = None  # ... or after this many real seconds
    switch_repeats: int = 0  # the last N replayed events sent again, reversed, at the switch
    lookback: timedelta | None = None  # older cursors start at the oldest event kept

    def as_dict(self) -> dict[str, Any]:
        lookback = self.lookback.total_seconds() if self.lookback is not None else None
        return {
            "drop_after_events": self.drop_after_events,
            "drop_after_seconds": self.drop_after_seconds,
            "switch_repeats": self.switch_repeats,
            "lookback_seconds": lookback,
        }

    def update(self, values: Any) -> None:
        """Set options from JSON (``/_sandbox/jetstream``); ValueError names a bad one."""
        if not isinstance(values, dict):
            raise ValueError("expected a JSON object")
        unknown = set(values) - set(self.as_dict())
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
        checked = {name: _positive(name, value) for name, value in values.items()}
        if "drop_after_events" in checked:
            events = checked["drop_after_events"]
            self.drop_after_events = None if events is None else int(events)
        if "drop_after_seconds" in checked:
            self.drop_after_seconds = checked["drop_after_seconds"]
        if "switch_repeats" in checked:
            self.switch_repeats = int(checked["switch_repeats"] or 0)
        if "lookback_seconds" in checked:
            seconds = checked["lookback_seconds"]
            self.lookback = None if seconds is None else timedelta(seconds=seconds)


def _positive(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a number of 0 or more, or null")
    if name in ("drop_after_events", "switch_repeats") and int(value) != value:
        raise ValueError(f"{name} must be a whole number")
    return float(value)


class JetstreamLog:
    """Every commit of the sandbox PDS in order, as Jetstream messages."""

    def __init__(self, store: Any):
        self.store = store
        self.clock = store.clock
        self._lock = threading.Lock()
        self._times: list[int] = []
        self._events: list[tuple[str, str, str]] = []  # (did, collection, JSON text)
        self._last = 0
        store.add_listener(self.record)

    def record(self, operation: str, stored: StoredRecord) -> None:
        """The store's listener: log one create, update or delete."""
        rev = self.store.tids.next()
        commit: dict[str, Any] = {
            "rev": rev,
            "operation": operation,
            "collection": stored.collection,
            "rkey": stored.rkey,
        }
        if operation != "delete":
            commit["record"] = stored.value
            commit["cid"] = stored.cid
        with self._lock:
            moment = int(self.clock.now().timestamp() * 1_000_000)
            self._last = max(moment, self._last + 1)
            event = {"did": stored.did, "time_us": self._last, "kind": "commit", "commit": commit}
            text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            self._times.append(self._last)
            self._events.append((stored.did, stored.collection, text))

    def position(self, cursor: int | None, lookback: timedelta | None) -> int:
        """Index of the first event a subscription with ``cursor`` gets."""
        with self._lock:
            end = len(self._times)
            if cursor is None:
                return end  # live only
            floor = 0
            if lookback is not None:
                oldest = int((self.clock.now() - lookback).timestamp() * 1_000_000)
                floor = bisect.bisect_left(self._times, oldest)
            return max(bisect.bisect_left(self._times, cursor), floor)

    def since(self, index: int) -> list[tuple[str, str, str]]:
        with self._lock:
            return self._events[index:]

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


def _wanted(collections: list[str]) -> tuple[set[str], tuple[str, ...]]:
    exact = {c for c in collections if not c.endswith(".*")}
    prefixes = tuple(c[:-1] for c in collections if c.endswith(".*"))
    return exact, prefixes


def _cursor(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        cursor = int(str(value))
    except ValueError:
        raise HttpError(400, "InvalidRequest", "cursor must be an integer") from None
    return cursor if cursor >= 0 else None


def register(app: BlueskyBase, log: JetstreamLog, options: JetstreamOptions) -> None:
    """Serve ``log`` at ``/subscribe``; ``options`` is read at each connection."""

    def subscribe(session: WebSocketSession) -> None:
        request = session.request
        exact, prefixes = _wanted(request.args("wantedCollections"))
        dids = set(request.args("wantedDids"))
        start = log.position(_cursor(request.arg("cursor")), options.lookback)
        session.accept()

        def wanted(did: str, collection: str) -> bool:
            if dids and did not in dids:
                return False
            if not exact and not prefixes:
                return True
            return collection in exact or (bool(prefixes) and collection.startswith(prefixes))

        opened, sent = time.monotonic(), 0

        def send(text: str) -> None:
            nonlocal sent
            session.send(text)
            sent += 1
            if options.drop_after_events is not None and sent >= options.drop_after_events:
                raise _Drop()

        try:
            backlog = log.since(start)
            position = start + len(backlog)
            replay = [text for did, coll, text in backlog if wanted(did, coll)]
            repeats = min(options.switch_repeats, len(replay))
            for text in replay[: len(replay) - repeats]:
                send(text)
            if repeats:
                tail = replay[-repeats:]
                for text in reversed(tail):  # out of order ...
                    send(text)
                for text in tail:  # ... and again
                    send(text)
            while not session.closing.is_set():
                fresh = log.since(position)
                position += len(fresh)
                for did, collection, text in fresh:
                    if wanted(did, collection):
                        send(text)
                seconds = options.drop_after_seconds
                if seconds is not None and time.monotonic() - opened >= seconds:
                    raise _Drop()
                session.receive(timeout=_WAIT)  # the client may have gone; also the pause
            session.close(1001)
        except _Drop:
            session.close(1011, "dropped by the sandbox")
        except WebSocketClosed:
            pass

    app.websocket("/subscribe", subscribe)

    def get_options(request: Request) -> Response:
        return json_response(options.as_dict() | {"events": len(log)})

    def set_options(request: Request) -> Response:
        try:
            options.update(request.json())
        except (ValueError, TypeError) as error:
            raise HttpError(400, "InvalidRequest", str(error)) from None
        return get_options(request)

    app.router.add("GET", "/_sandbox/jetstream", get_options)
    app.router.add("POST", "/_sandbox/jetstream", set_options)


class _Drop(Exception):
    """The sandbox drops this connection now (a fault)."""


__all__ = ["JetstreamLog", "JetstreamOptions", "register"]
