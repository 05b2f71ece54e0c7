"""Clocks: the real one, and an accelerated one shared by the sandbox and the bot.

An accelerated clock maps real time to virtual time linearly::

    virtual = virtual_origin + (real - real_origin) * speed

so a 60-minute chat at speed 60 runs in one real minute.  The three numbers
travel between processes as a short string (``CHATBOT_CLOCK`` or the sandbox's
``/_sandbox/clock`` endpoint), so the bot, the crowd and the servers agree on
what time it is.

A file clock (``file:<speed>:<path>``) is a hand-moved clock that several
processes share: its time is whatever the file says, and only the one who
writes the file moves it. Tests use it to drive a real ``chatbot run`` step by
step, so nothing depends on how fast the machine is.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


class FileClock:
    """A hand-moved clock shared between processes: the time is an ISO timestamp in a file.

    Whoever holds the file moves time (:meth:`set`, :meth:`advance`); every other
    process only reads it. :meth:`sleep` waits, in real time, until the file's
    time has moved on by that much, so a sleeper can't run ahead of the writer.
    ``speed`` is nominal: it tells the bot how often, in real seconds, to look
    at a clock that moves in jumps (as it would at that acceleration).
    """

    POLL = 0.01  # real seconds between looks at the file while sleeping

    def __init__(self, path: str | Path, speed: float = 60.0, start: datetime | None = None):
        if not math.isfinite(speed) or speed <= 0:
            raise ValueError(f"speed must be above 0, not {speed!r}")
        self.path = Path(path)
        self.speed = float(speed)
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        text = self.path.read_text(encoding="utf-8").strip()
        return datetime.fromisoformat(text).astimezone(UTC)

    def set(self, when: datetime) -> None:
        """Move the shared time to ``when`` (aware); readers see the old or the new, whole."""
        if when.tzinfo is None:
            raise ValueError(f"a clock time needs a time zone: {when.isoformat()}")
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(when.astimezone(UTC).isoformat() + "\n", encoding="utf-8")
        os.replace(partial, self.path)

    def advance(self, **delta: float) -> None:
        """Move forward by a ``timedelta(**delta)``, e.g. ``advance(minutes=5)``."""
        self.set(self.now() + timedelta(**delta))

    def sleep(self, seconds: float) -> None:
        until = self.now() + timedelta(seconds=seconds)
        while self.now() < until:
            time.sleep(self.POLL)

    def describe(self) -> str:
        """A string :func:`clock_from_string` turns back into this clock."""
        return f"file:{self.speed!r}:{self.path}"


def clock_from_string(text: str | None) -> Clock:
    """Rebuild a clock from :meth:`describe` output; empty or ``system`` is the wall clock."""
    if not text or text == "system":
        return SystemClock()
    kind, _, rest = text.partition(":")
    if kind == "file":
        speed, _, path = rest.partition(":")
        if not path:
            raise ValueError(f"clock {text!r}: expected 'file:<speed>:<path>'")
        return FileClock(path, _speed(speed))
    if kind != "accelerated":
        raise ValueError(
            f"unknown clock {text!r}: expected 'system', 'accelerated:...' or 'file:...'"
        )
    real, _, rest = rest.partition(":")
    virtual, _, speed = rest.rpartition(":")
    origin = float(real)
    if not math.isfinite(origin):
        raise ValueError(f"clock {text!r}: the real origin must be a number of seconds")
    start = datetime.fromisoformat(virtual)
    if start.tzinfo is None:
        raise ValueError(f"clock {text!r}: the virtual start needs a time zone")
    return AcceleratedClock(origin, start, _speed(speed))


CLOCK_ENV = "CHATBOT_CLOCK"  # where a second process finds the clock (its describe() string)

MAX_SPEED = 1e6  # a chat of hours in well under a second: faster is a typo


def _speed(text: str) -> float:
    # A clock's speed: a finite number above 0 ("nan", "-5", "0" and "inf" are not).
    speed = float(text)
    if not math.isfinite(speed) or speed <= 0 or speed > MAX_SPEED:
        raise ValueError(f"speed {text!r} must be a number above 0 and at most {MAX_SPEED:g}")
    return speed


__all__ = [
    "CLOCK_ENV",
    "AcceleratedClock",
    "Clock",
    "FileClock",
    "ManualClock",
    "SystemClock",
    "clock_from_string",
]
