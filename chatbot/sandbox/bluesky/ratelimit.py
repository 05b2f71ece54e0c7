"""Fixed-window rate limits with the PDS's RateLimit-* headers, on the sandbox clock."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from chatbot.clock import Clock


@dataclass(frozen=True)
class Policy:
    name: str
    limit: int
    window_seconds: int

    @property
    def header(self) -> str:
        return f"{self.limit};w={self.window_seconds}"


# Production's figures (PLATFORMS.md): 3000 requests / 5 min per IP; 30 logins / 5 min
# per account; repo writes 5000 points / hour (create 3, update 2, delete 1).
GLOBAL_IP = Policy("global-ip", 3000, 300)
CREATE_SESSION = Policy("create-session", 30, 300)
REPO_WRITE_HOUR = Policy("repo-write-hour", 5000, 3600)
WRITE_POINTS = {"create": 3, "update": 2, "delete": 1}


@dataclass(frozen=True)
class Status:
    policy: Policy
    remaining: int
    reset: int  # epoch seconds of the clock at which the window ends
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.policy.limit),
            "RateLimit-Remaining": str(max(self.remaining, 0)),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": self.policy.header,
        }


class RateLimiter:
    """Counts points per (policy, key); a window opens at its first hit, like the PDS's."""

    def __init__(self, clock: Clock, *, enabled: bool = True):
        self.clock = clock
        self.enabled = enabled
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}  # -> (start, used)
        self._lock = threading.Lock()

    def _state(self, policy: Policy, key: str, now: float) -> tuple[float, int]:
        start, used = self._windows.get((policy.name, key), (now, 0))
        if now >= start + policy.window_seconds:
            start, used = now, 0
        return start, used

    def _status(self, policy: Policy, start: float, used: int, exceeded: bool) -> Status:
        reset = math.ceil(start + policy.window_seconds)
        return Status(policy, policy.limit - used, reset, exceeded)

    def hit(self, policy: Policy, key: str, points: int = 1) -> Status:
        """Spend ``points``; ``exceeded`` (and nothing spent) when they don't fit."""
        now = self.clock.now().timestamp()
        with self._lock:
            start, used = self._state(policy, key, now)
            if self.enabled and used + points > policy.limit:
                self._windows[(policy.name, key)] = (start, used)
                return self._status(policy, start, used, True)
            used += points
            self._windows[(policy.name, key)] = (start, used)
            return self._status(policy, start, used, False)

    def peek(self, policy: Policy, key: str) -> Status:
        now = self.clock.now().timestamp()
        with self._lock:
            start, used = self._state(policy, key, now)
        return self._status(policy, start, used, False)


__all__ = [
    "CREATE_SESSION",
    "GLOBAL_IP",
    "REPO_WRITE_HOUR",
    "WRITE_POINTS",
    "Policy",
    "RateLimiter",
    "Status",
]
