"""Blobs: what uploadBlob keeps, and the checks a record's images embed gets on the PDS.

An upload is kept for its account whatever it is (the PDS checks a blob only
when a record refers to it); a post's ``app.bsky.embed.images`` must refer to
blobs this account uploaded, of an ``image/*`` type and at most 1,000,000
bytes each, or the write is refused with the PDS's error names
(``BlobNotFound``, ``BlobTooLarge``, ``InvalidMimeType``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatbot.media import BLUESKY_IMAGE_MAX_BYTES, sniff
from chatbot.sandbox.bluesky.cid import blob_cid
from chatbot.sandbox.bluesky.model import StoreError
from chatbot.sandbox.bluesky.records import IMAGES

# The PDS refuses an upload bigger than its blob limit (5 MiB by default) outright.
UPLOAD_LIMIT = 5 * 1024 * 1024


@dataclass(frozen=True)
class Blob:
    cid: str
    mime: str
    size: int
    data: bytes = field(repr=False)
    created_at: datetime

    def ref(self) -> dict[str, Any]:
        """The blob ref a record carries, in its JSON form."""
        return {
            "$type": "blob",
            "ref": {"$link": self.cid},
            "mimeType": self.mime,
            "size": self.size,
        }


class BlobStore:
    """Every account's uploads, by (DID, CID); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blobs: dict[tuple[str, str], Blob] = {}

    def upload(self, did: str, data: bytes, declared: str | None, now: datetime) -> Blob:
        """Keep ``data`` for ``did``; its type from its bytes, else as the client declared it."""
        if len(data) > UPLOAD_LIMIT:
            raise StoreError("PayloadTooLarge", "request entity too large", 413)
        info = sniff(data)
        mime = info.mime if info else (declared or "").split(";")[0].strip()
        if not mime or mime == "*/*":
            mime = "application/octet-stream"
        blob = Blob(blob_cid(data), mime, len(data), data, now)
        with self._lock:
            return self._blobs.setdefault((did, blob.cid), blob)

    def get(self, did: str, cid: str) -> Blob | None:
        with self._lock:
            return self._blobs.get((did, cid))

    def check_embed(self, did: str, record: dict[str, Any]) -> None:
        """Refuse a post whose images refer to blobs missing, too large or not images."""
        embed = record.get("embed")
        if isinstance(embed, dict) and embed.get("$type") == "app.bsky.embed.recordWithMedia":
            embed = embed.get("media")
        if not isinstance(embed, dict) or embed.get("$type") != IMAGES:
            return
        for image in embed.get("images") or []:
            ref = image.get("image") if isinstance(image, dict) else None
            cid = str(((ref or {}).get("ref") or {}).get("$link", ""))
            blob = self.get(did, cid)
            if blob is None:
                raise StoreError("BlobNotFound", f"Could not find blob: {cid}")
            if blob.size > BLUESKY_IMAGE_MAX_BYTES:
                raise StoreError(
                    "BlobTooLarge",
                    f"This file is too large. It is {blob.size:,} bytes but the maximum size "
                    f"is {BLUESKY_IMAGE_MAX_BYTES:,} bytes.",
                )
            if not blob.mime.startswith("image/"):
                raise StoreError(
                    "InvalidMimeType",
                    f"Wrong type of file. It is {blob.mime} but it must match image/*.",
                )


__all__ = ["UPLOAD_LIMIT", "Blob", "BlobStore"]
