"""Snowflake-like Mastodon ids: epoch milliseconds shifted left 16 bits, plus a sequence."""

from __future__ import annotations

import threading
from datetime import UTC, datetime


def snowflake_ms(status_id: str) -> int:
    """The millisecond timestamp an id was minted from."""
    return int(status_id) >> 16


def id_time(status_id: str) -> datetime:
    return datetime.fromtimestamp(snowflake_ms(status_id) / 1000, UTC)


class SnowflakeIds:
    """Mints unique, time-ordered string ids, as Mastodon does.

    Ids from the current time only ever grow, even if the clock stutters; an id for an
    explicit (possibly past) time sorts by that time, as a backdated post does on a real
    server, and never repeats one already handed out.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._used: set[int] = set()

    def mint(self, at: datetime, *, monotonic: bool = True) -> str:
        base = int(at.timestamp() * 1000) << 16
        with self._lock:
            candidate = max(base, self._last + 1) if monotonic else base
            while candidate in self._used:
                candidate += 1
            self._used.add(candidate)
            if monotonic:
                self._last = max(self._last, candidate)
            return str(candidate)


__all__ = ["SnowflakeIds", "id_time", "snowflake_ms"]
