"""Mastodon's rate limits: fixed windows per token, reported in X-RateLimit-* headers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chatbot.clock import Clock


@dataclass(frozen=True)
class Limit:
    limit: int
    period: float  # seconds of the clock's (possibly virtual) time


@dataclass(frozen=True)
class RateLimits:
    """Mastodon's defaults; tests pass small ones to reach a 429 quickly."""

    reads: Limit = Limit(300, 5 * 60)  # every API call, per account (or per address)
    statuses: Limit = Limit(300, 3 * 60 * 60)  # posting and editing, per account
    deletes: Limit = Limit(30, 30 * 60)  # deleting statuses, per account
    media: Limit = Limit(30, 30 * 60)  # uploading media, per account
    # Requests that page (max_id, min_id, since_id or page), per account or, without a
    # user's token, per address (rack-attack's throttle_*_paging).
    paging: Limit = Limit(300, 15 * 60)


def unlimited() -> RateLimits:
    """Limits no test or benchmark reaches: ``Sandbox(rate_limits=False)``."""
    endless = Limit(10**9, 60)
    return RateLimits(reads=endless, statuses=endless, deletes=endless, paging=endless)


@dataclass(frozen=True)
class Window:
    """The state of one bucket after a request: what the headers say."""

    limit: int
    remaining: int
    reset: datetime
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset_header(self.reset),
        }


def reset_header(moment: datetime) -> str:
    """ISO 8601 with microseconds and a Z, as Mastodon sends it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class RateLimiter:
    """Counts requests per (key, bucket) in windows aligned to multiples of the period."""

    clock: Clock
    limits: RateLimits = field(default_factory=RateLimits)
    _counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str, bucket: str, *, consume: bool = True) -> Window:
        """Count one request (unless ``consume`` is false) and say where the bucket stands."""
        limit: Limit = getattr(self.limits, bucket)
        now = self.clock.now()
        epoch = now.timestamp()
        index = int(epoch // limit.period)
        with self._lock:
            window_index, count = self._counts.get((key, bucket), (index, 0))
            if window_index != index:
                count = 0
            if consume:
                count += 1  # like rack-attack, refused requests count too
                self._counts[(key, bucket)] = (index, count)
        # Mastodon's reset is the window's end plus the request's fraction of a second.
        boundary = (index + 1) * limit.period
        if float(limit.period).is_integer():
            boundary += epoch % 1
        reset = datetime.fromtimestamp(boundary, UTC)
        return Window(limit.limit, max(0, limit.limit - count), reset, count > limit.limit)


__all__ = ["Limit", "RateLimiter", "RateLimits", "Window", "reset_header", "unlimited"]
