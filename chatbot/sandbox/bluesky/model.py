"""The sandbox's data: accounts, stored records, and the errors the store raises."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatbot.sandbox.bluesky.times import parse_datetime


class StoreError(Exception):
    """A request the network refuses; ``error`` and ``status`` are what XRPC answers."""

    def __init__(self, error: str, message: str, status: int = 400):
        super().__init__(message)
        self.error, self.message, self.status = error, message, status


def did_for_handle(handle: str) -> str:
    """A did:plc of 24 base32 characters, the same for the same handle on every run."""
    digest = hashlib.sha256(f"sandbox-plc:{handle.lower()}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode("ascii").lower()[:24]


def hash_password(password: str, salt: bytes) -> bytes:
    # A sandbox needs no slow KDF; a salted hash still keeps passwords out of memory dumps.
    return hashlib.sha256(salt + password.encode()).digest()


@dataclass
class Account:
    """An account on the sandbox PDS."""

    did: str
    handle: str
    email: str | None
    created_at: datetime
    salt: bytes = field(repr=False, default=b"")
    password_hash: bytes = field(repr=False, default=b"")
    followers_count: int = 0  # the sandbox has no follow graph: a number to show


@dataclass
class StoredRecord:
    """One record in a repo, as written, with its CID and indexing time."""

    uri: str
    did: str
    collection: str
    rkey: str
    value: dict[str, Any]
    cid: str
    indexed_at: datetime
    # Lower-cased tags (facets, ``tags`` field, #tags in text), kept so search and
    # find_posts don't re-parse every post on every poll.
    tags: frozenset[str] = frozenset()

    @property
    def sort_at(self) -> datetime:
        """Search's ordering time: createdAt, unless it claims to be later than indexing."""
        try:
            created = parse_datetime(str(self.value.get("createdAt")))
        except ValueError:
            return self.indexed_at
        return min(created, self.indexed_at)


__all__ = ["Account", "StoreError", "StoredRecord", "did_for_handle", "hash_password"]
