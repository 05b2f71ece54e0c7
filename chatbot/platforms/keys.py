"""Deterministic post keys, and the Bluesky record keys and Mastodon idempotency keys they give.

A scheduled post has one key for its whole life, made by :func:`post_key`
from the event, the post and its due time.  Each adapter derives its own
network's token from that key, so a retry after a crash sends the same
token and the network refuses (or collapses) the duplicate.  What a TID is
belongs to :mod:`chatbot.text.tid`; only the derivation lives here.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from chatbot.text.tid import MAX_CLOCK_ID, MAX_TIMESTAMP_US, encode_tid, to_microseconds

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
    return f"{event}/{post}@{to_microseconds(due)}"


def due_of_key(key: str) -> datetime | None:
    """The due time a :func:`post_key` key carries, or None for any other key."""
    micros = _key_us(key)
    return None if micros is None else datetime.fromtimestamp(micros / 1_000_000, UTC)


def record_key(key: str, network: str = "bluesky") -> str:
    """The Bluesky record key (a TID) for a post key: deterministic, valid, spread out.

    The timestamp is the due time rounded down to the second, plus a hash of
    the key as the microseconds (due times are whole seconds, so this keeps the
    TID within a second of the due time while spreading posts due at the same
    second); the clock id is ten more bits of the same hash.  Two different
    keys share a TID with odds of about one in 10^9.  Never change this
    derivation: a post scheduled before an upgrade must keep its record key.
    """
    digest = int.from_bytes(_digest(key, network)[:8], "big")
    clock_id = digest & MAX_CLOCK_ID
    spread = (digest >> 10) % 1_000_000
    due_us = _key_us(key)
    if due_us is None:
        timestamp = _FALLBACK_ORIGIN_US + (digest >> 20) % _FALLBACK_SPAN_US
    else:
        timestamp = due_us - due_us % 1_000_000 + spread
    return encode_tid(timestamp, clock_id)


def idempotency_key(key: str, network: str = "mastodon") -> str:
    """A Mastodon ``Idempotency-Key`` header value for a post key (hex, 40 chars)."""
    return "chatbot-" + _digest(key, network).hex()[:32]


def _digest(key: str, network: str) -> bytes:
    if not key:
        raise ValueError("a post key must not be empty")
    return hashlib.sha256(f"{network}\x00{key}".encode()).digest()


def _key_us(key: str) -> int | None:
    _, at, tail = key.rpartition("@")
    if (
        at
        and tail.isascii()
        and tail.isdigit()
        and len(tail) <= 16
        and int(tail) <= MAX_TIMESTAMP_US
    ):
        return int(tail)
    return None


__all__ = ["due_of_key", "idempotency_key", "post_key", "record_key"]
