"""A Bluesky-compatible sandbox: an XRPC server the unmodified atproto client talks to."""

from __future__ import annotations

from chatbot.sandbox.bluesky.app import BlueskyApp
from chatbot.sandbox.bluesky.richtext import make_facets
from chatbot.sandbox.bluesky.store import NO_UNAUTHENTICATED, Account, BlueskyStore, StoreError
from chatbot.sandbox.bluesky.tid import decode_tid, encode_tid, is_valid_tid, tid_for_datetime

__all__ = [
    "NO_UNAUTHENTICATED",
    "Account",
    "BlueskyApp",
    "BlueskyStore",
    "StoreError",
    "decode_tid",
    "encode_tid",
    "is_valid_tid",
    "make_facets",
    "tid_for_datetime",
]
