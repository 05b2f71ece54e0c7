"""Deterministic post keys, Bluesky record keys (TIDs) and Mastodon idempotency keys.

A scheduled post has one key for its whole life, made by :func:`post_key`
from the event, the post and its due time.  Each adapter derives its own
network's token from that key, so a retry after a crash sends the same
token and the network refuses (or collapses) the duplicate.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_MAX_TIMESTAMP = (1 << 53) - 1
_MAX_CLOCK_ID = (1 << 10) - 1
# Keys without a due time still get a valid, stable timestamp: somewhere in the
# ~13 months after 2023-01-01 (2**45 microseconds), chosen by the key's hash.
_FALLBACK_ORIGIN_US = 1_672_531_200_000_000
_FALLBACK_SPAN_US = 1 << 45


def post_key(event: str, post: str, due: datetime) -> str:
    """The key of one scheduled post, e.g. ``sm35-2026-11-26/q3@1795687200000000``.

    ``due`` is stored in microseconds since the epoch (UTC) so the key alone
    gives the Bluesky record key its timestamp.
    """
    if due.tzinfo is None:
        raise ValueError("due time must be timezone-aware")
    return f"{event}/{post}@{_to_us(due)}"


def due_of_key(key: str) -> datetime | None:
    """The due time a :func:`post_key` key carries, or None for any other key."""
    micros = _key_us(key)
    return None if micros is None else datetime.fromtimestamp(micros / 1_000_000, UTC)


def tid_encode(timestamp_us: int, clock_id: int) -> str:
    """Encode a TID: 0 bit, 53-bit microsecond timestamp, 10-bit clock id, base32-sortable."""
    if not 0 <= timestamp_us <= _MAX_TIMESTAMP:
        raise ValueError(f"timestamp {timestamp_us} does not fit in 53 bits")
    if not 0 <= clock_id <= _MAX_CLOCK_ID:
        raise ValueError(f"clock id {clock_id} does not fit in 10 bits")
    value = (timestamp_us << 10) | clock_id
    chars = []
    for _ in range(TID_LENGTH):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def tid_decode(tid: str) -> tuple[int, int]:
    """Return ``(timestamp_us, clock_id)`` of a valid TID."""
    if not is_valid_tid(tid):
        raise ValueError(f"not a valid TID: {tid!r}")
    value = 0
    for char in tid:
        value = (value << 5) | TID_ALPHABET.index(char)
    return value >> 10, value & _MAX_CLOCK_ID


def is_valid_tid(tid: str) -> bool:
    """True for 13 base32-sortable characters whose top bit is zero (first char 2..j)."""
    return bool(_TID.match(tid))


def record_key(key: str, network: str = "bluesky") -> str:
    """The Bluesky record key (a TID) for a post key: deterministic, valid, spread out.

    The timestamp is the due time rounded down to the second, plus a hash of
    the key as the microseconds (due times are whole seconds, so this keeps the
    TID within a second of the due time while spreading posts due at the same
    second); the clock id is ten more bits of the same hash.  Two different
    keys share a TID with odds of about one in 10^9.
    """
    digest = int.from_bytes(_digest(key, network)[:8], "big")
    clock_id = digest & _MAX_CLOCK_ID
    spread = (digest >> 10) % 1_000_000
    due_us = _key_us(key)
    if due_us is None:
        timestamp = _FALLBACK_ORIGIN_US + (digest >> 20) % _FALLBACK_SPAN_US
    else:
        timestamp = due_us - due_us % 1_000_000 + spread
    return tid_encode(timestamp, clock_id)


def idempotency_key(key: str, network: str = "mastodon") -> str:
    """A Mastodon ``Idempotency-Key`` header value for a post key (hex, 40 chars)."""
    return "chatbot-" + _digest(key, network).hex()[:32]


def _digest(key: str, network: str) -> bytes:
    if not key:
        raise ValueError("a post key must not be empty")
    return hashlib.sha256(f"{network}\x00{key}".encode()).digest()


def _to_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _key_us(key: str) -> int | None:
    _, at, tail = key.rpartition("@")
    if at and tail.isascii() and tail.isdigit() and len(tail) <= 16 and int(tail) <= _MAX_TIMESTAMP:
        return int(tail)
    return None


__all__ = [
    "TID_ALPHABET",
    "due_of_key",
    "idempotency_key",
    "is_valid_tid",
    "post_key",
    "record_key",
    "tid_decode",
    "tid_encode",
]
