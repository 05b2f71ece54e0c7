"""The retry policy for posting: exponential backoff with jitter, bounded, clock-free (pure)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before the next try of a failed post, in clock seconds.

    The n-th retry waits ``base * 2**(n-1)`` seconds, capped at ``cap``, less
    up to ``jitter`` of it at random (so several bot processes that failed
    together do not retry together).  A network's own "retry at" wins when it
    is later, but never by more than ``max_wait``: a reset time from a clock
    that disagrees with ours (an accelerated sandbox, a skewed server) must not
    stall a chat.  ``max_attempts`` bounds the tries that failed for real:
    the outbox never counts a try the network refused with a rate limit
    there (see :func:`chatbot.bot.delivery.counts_after`).
    """

    base: float = 2.0
    cap: float = 120.0
    jitter: float = 0.5  # share of the delay that may be taken off at random, 0..1
    max_wait: float = 300.0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base:
            raise ValueError("need 0 < base <= cap")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        if self.max_wait < self.cap or self.max_attempts < 1:
            raise ValueError("need max_wait >= cap and max_attempts >= 1")

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed try number ``attempt`` (1 = the first try)."""
        exponent = min(max(attempt, 1) - 1, 62)  # 2**62 already dwarfs any cap
        return min(self.cap, self.base * 2.0**exponent)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed try number ``attempt``, jittered down."""
        ceiling = self.ceiling(attempt)
        draw = (rng or random).random()
        return ceiling * (1.0 - self.jitter * draw)

    def next_attempt(
        self,
        now: datetime,
        attempt: int,
        *,
        retry_at: datetime | None = None,
        rng: random.Random | None = None,
    ) -> datetime:
        """When to try again: after the backoff, and not before the network's ``retry_at``."""
        when = now + timedelta(seconds=self.delay(attempt, rng))
        if retry_at is not None and retry_at > when:
            when = min(retry_at, now + timedelta(seconds=self.max_wait))
        return when

    def gives_up(self, attempt: int) -> bool:
        """True when try number ``attempt`` was the last one allowed."""
        return attempt >= self.max_attempts


def describe_wait(seconds: float) -> str:
    """A short human form of a wait: ``4s``, ``2 min``, ``1 h 5 min``."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds:.1f}s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


__all__ = ["RetryPolicy", "describe_wait"]
