"""Clocks: the real one, and an accelerated one shared by the sandbox and the bot.

An accelerated clock maps real time to virtual time linearly::

    virtual = virtual_origin + (real - real_origin) * speed

so a 60-minute chat at speed 60 runs in one real minute.  The three numbers
travel between processes as a short string (``CHATBOT_CLOCK`` or the sandbox's
``/_sandbox/clock`` endpoint), so the bot, the crowd and the servers agree on
what time it is.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the bot and the sandbox need to know about time."""

    def now(self) -> datetime:
        """The current (possibly virtual) time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of this clock's time."""
        ...

    @property
    def speed(self) -> float:
        """How many virtual seconds pass per real second."""
        ...


class SystemClock:
    """The wall clock."""

    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def describe(self) -> str:
        return "system"


@dataclass(frozen=True)
class AcceleratedClock:
    """Virtual time that runs ``speed`` times faster than real time."""

    real_origin: float  # time.time() at the origin
    virtual_origin: datetime  # the virtual time at the origin (UTC)
    speed: float = 60.0

    @classmethod
    def starting_now(cls, speed: float, virtual_start: datetime | None = None) -> AcceleratedClock:
        real = time.time()
        start = virtual_start or datetime.fromtimestamp(real, UTC)
        return cls(real_origin=real, virtual_origin=start.astimezone(UTC), speed=speed)

    def now(self) -> datetime:
        elapsed = (time.time() - self.real_origin) * self.speed
        return self.virtual_origin + timedelta(seconds=elapsed)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def real_seconds(self, virtual_seconds: float) -> float:
        return virtual_seconds / self.speed

    def describe(self) -> str:
        """A string :func:`clock_from_string` turns back into this clock."""
        return f"accelerated:{self.real_origin!r}:{self.virtual_origin.isoformat()}:{self.speed!r}"


class ManualClock:
    """A clock moved by hand: ``sleep`` and ``advance`` move it, nothing waits.

    For tests and scripted rehearsals that must step through a chat exactly.
    """

    speed = 1.0

    def __init__(self, start: datetime | None = None):
        self._now = (start or datetime.now(UTC).replace(microsecond=0)).astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> None:
        """Move forward by a ``timedelta(**delta)``, e.g. ``advance(minutes=5)``."""
        with self._lock:
            self._now += timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds=seconds)


def clock_from_string(text: str | None) -> Clock:
    """Rebuild a clock from :meth:`describe` output; empty or ``system`` is the wall clock."""
    if not text or text == "system":
        return SystemClock()
    kind, _, rest = text.partition(":")
    if kind != "accelerated":
        raise ValueError(f"unknown clock {text!r}: expected 'system' or 'accelerated:...'")
    real, _, rest = rest.partition(":")
    virtual, _, speed = rest.rpartition(":")
    return AcceleratedClock(float(real), datetime.fromisoformat(virtual), float(speed))


__all__ = ["AcceleratedClock", "Clock", "ManualClock", "SystemClock", "clock_from_string"]
