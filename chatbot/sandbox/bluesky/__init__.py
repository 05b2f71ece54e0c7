"""A Bluesky-compatible sandbox: an XRPC server the unmodified atproto client talks to."""

from __future__ import annotations

from chatbot.sandbox.bluesky.app import BlueskyApp
from chatbot.sandbox.bluesky.store import NO_UNAUTHENTICATED, Account, BlueskyStore, StoreError

__all__ = [
    "NO_UNAUTHENTICATED",
    "Account",
    "BlueskyApp",
    "BlueskyStore",
    "StoreError",
]
