"""Timestamp identifiers (TIDs): the record keys of posts and the revisions of repos."""

from __future__ import annotations

import random
import re
import threading
from datetime import UTC, datetime

from chatbot.clock import Clock

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13
# The top bit of the 64-bit value is always 0, so the first character is one of 16.
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
MAX_TIMESTAMP_US = (1 << 53) - 1
MAX_CLOCK_ID = (1 << 10) - 1


def is_valid_tid(value: str) -> bool:
    return bool(TID_RE.match(value))


def encode_tid(timestamp_us: int, clock_id: int = 0) -> str:
    """A TID from a microsecond Unix timestamp (53 bits) and a clock id (10 bits)."""
    if not 0 <= timestamp_us <= MAX_TIMESTAMP_US:
        raise ValueError(f"timestamp {timestamp_us} does not fit in 53 bits")
    if not 0 <= clock_id <= MAX_CLOCK_ID:
        raise ValueError(f"clock id {clock_id} does not fit in 10 bits")
    value = (timestamp_us << 10) | clock_id
    chars = []
    for _ in range(TID_LENGTH):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_tid(tid: str) -> tuple[int, int]:
    """``(timestamp_us, clock_id)`` of a TID; ValueError if it is not one."""
    if not is_valid_tid(tid):
        raise ValueError(f"not a TID: {tid!r}")
    value = 0
    for char in tid:
        value = (value << 5) | ALPHABET.index(char)
    return value >> 10, value & MAX_CLOCK_ID


def tid_for_datetime(moment: datetime, clock_id: int = 0) -> str:
    micros = int(moment.astimezone(UTC).timestamp() * 1_000_000)
    return encode_tid(micros, clock_id)


class TidGenerator:
    """Monotonic TIDs from a (possibly accelerated) clock: never the same key twice."""

    def __init__(self, clock: Clock, seed: int | None = None):
        self.clock = clock
        self.clock_id = random.Random(seed).randrange(MAX_CLOCK_ID + 1)
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            now = int(self.clock.now().timestamp() * 1_000_000)
            # Two posts in the same microsecond (common with a fast clock) still get
            # distinct, increasing keys, as the reference PDS guarantees.
            self._last = max(now, self._last + 1)
            return encode_tid(self._last, self.clock_id)


__all__ = ["TidGenerator", "decode_tid", "encode_tid", "is_valid_tid", "tid_for_datetime"]
