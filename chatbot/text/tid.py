"""Timestamp identifiers (TIDs): Bluesky's record keys and repo revisions (atproto.com/specs/tid).

A TID is a 64-bit integer, top bit 0, then 53 bits of microseconds since the
Unix epoch and a 10-bit clock id, written as 13 characters of base32-sortable
(``234567abcdefghijklmnopqrstuvwxyz``), so TIDs sort as text in time order.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13
# The spec's syntax: 13 characters, the first one of the 16 that keep the value
# within 64 bits.  (Encoding never sets the top bit, so we write only 2..b.)
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
MAX_TIMESTAMP_US = (1 << 53) - 1
MAX_CLOCK_ID = (1 << 10) - 1


def is_valid_tid(value: str) -> bool:
    """True for a syntactically valid TID (the spec's regular expression)."""
    return bool(TID_RE.match(value))


def encode_tid(timestamp_us: int, clock_id: int = 0) -> str:
    """The TID of a microsecond Unix timestamp (53 bits) and a clock id (10 bits)."""
    if not 0 <= timestamp_us <= MAX_TIMESTAMP_US:
        raise ValueError(f"timestamp {timestamp_us} does not fit in 53 bits")
    if not 0 <= clock_id <= MAX_CLOCK_ID:
        raise ValueError(f"clock id {clock_id} does not fit in 10 bits")
    value = (timestamp_us << 10) | clock_id
    chars = []
    for _ in range(TID_LENGTH):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_tid(tid: str) -> tuple[int, int]:
    """``(timestamp_us, clock_id)`` of a TID; ValueError if it is not one."""
    if not is_valid_tid(tid):
        raise ValueError(f"not a valid TID: {tid!r}")
    value = 0
    for char in tid:
        value = (value << 5) | TID_ALPHABET.index(char)
    return value >> 10, value & MAX_CLOCK_ID


def to_microseconds(moment: datetime) -> int:
    """Exact microseconds since the Unix epoch of an aware datetime (no float rounding)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def tid_for_datetime(moment: datetime, clock_id: int = 0) -> str:
    """The TID of an aware datetime, to the microsecond."""
    return encode_tid(to_microseconds(moment), clock_id)


__all__ = [
    "MAX_CLOCK_ID",
    "MAX_TIMESTAMP_US",
    "TID_ALPHABET",
    "TID_LENGTH",
    "TID_RE",
    "decode_tid",
    "encode_tid",
    "is_valid_tid",
    "tid_for_datetime",
    "to_microseconds",
]
