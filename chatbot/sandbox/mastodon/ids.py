"""Status and account ids: Mastodon's numeric snowflakes, or GoToSocial's ULIDs.

Mastodon mints epoch milliseconds shifted left 16 bits, plus a sequence, and
compares ids as numbers. GoToSocial mints ULIDs: 48 bits of epoch milliseconds
and 80 random bits, written as 26 characters of Crockford's base32, compared as
text (the same order as their times).
"""

from __future__ import annotations

import random
import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Protocol

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_LENGTH = 26
_RANDOM_BITS = 80
_MAX_ULID = (1 << 128) - 1


def snowflake_ms(status_id: str) -> int:
    """The millisecond timestamp a snowflake id was minted from."""
    return int(status_id) >> 16


def id_time(status_id: str) -> datetime:
    return datetime.fromtimestamp(snowflake_ms(status_id) / 1000, UTC)


def encode_ulid(value: int) -> str:
    """A 128-bit number as a ULID's 26 characters (the first holds only 3 bits)."""
    if not 0 <= value <= _MAX_ULID:
        raise ValueError("a ULID holds 128 bits")
    chars = []
    for _ in range(ULID_LENGTH):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_ulid(text: str) -> int:
    """The number a ULID stands for (case-insensitive); ValueError for anything else."""
    if len(text) != ULID_LENGTH:
        raise ValueError(f"a ULID has {ULID_LENGTH} characters: {text!r}")
    value = 0
    for char in text.upper():
        digit = CROCKFORD.find(char)
        if digit < 0:
            raise ValueError(f"not a ULID character: {char!r}")
        value = value * 32 + digit
    if value > _MAX_ULID:
        raise ValueError(f"a ULID holds 128 bits: {text!r}")
    return value


def ulid_ms(text: str) -> int:
    """The millisecond timestamp a ULID was minted from."""
    return decode_ulid(text) >> _RANDOM_BITS


class IdMinter(Protocol):
    def mint(self, at: datetime, *, monotonic: bool = True) -> str: ...


class _Minter(ABC):
    """Unique, time-ordered ids; subclasses say how a time becomes one and how it is written.

    Ids from the current time only ever grow, even if the clock stutters; an id for an
    explicit (possibly past) time sorts by that time, as a backdated post does on a real
    server, and never repeats one already handed out.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._used: set[int] = set()

    @abstractmethod
    def _base(self, at: datetime) -> int:
        """An id value for a post made at ``at``, before :meth:`mint` makes it unique."""

    @abstractmethod
    def _text(self, value: int) -> str:
        """An id value as the server writes it."""

    def mint(self, at: datetime, *, monotonic: bool = True) -> str:
        with self._lock:
            base = self._base(at)
            candidate = max(base, self._last + 1) if monotonic else base
            while candidate in self._used:
                candidate += 1
            self._used.add(candidate)
            if monotonic:
                self._last = max(self._last, candidate)
            return self._text(candidate)


class SnowflakeIds(_Minter):
    """Mastodon's ids: milliseconds shifted left 16 bits, as decimal text."""

    def _base(self, at: datetime) -> int:
        return int(at.timestamp() * 1000) << 16

    def _text(self, value: int) -> str:
        return str(value)


class UlidIds(_Minter):
    """GoToSocial's ids: ULIDs, random below the time; seeded, so a sandbox run repeats."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self._random = random.Random(seed)

    def _base(self, at: datetime) -> int:
        millis = int(at.timestamp() * 1000)
        return (millis << _RANDOM_BITS) | self._random.getrandbits(_RANDOM_BITS - 1)

    def _text(self, value: int) -> str:
        return encode_ulid(value)


def minter(ulid: bool, seed: int = 0) -> IdMinter:
    return UlidIds(seed) if ulid else SnowflakeIds()


__all__ = [
    "CROCKFORD",
    "ULID_LENGTH",
    "IdMinter",
    "SnowflakeIds",
    "UlidIds",
    "decode_ulid",
    "encode_ulid",
    "id_time",
    "minter",
    "snowflake_ms",
    "ulid_ms",
]
