"""Image files: their type and size in pixels read from the header; each network's limits.

One implementation for the question-file check, the adapters (Bluesky's
``aspectRatio``) and the sandbox (which refuses what the real servers refuse).
The type comes from the bytes, never from the file name: a ``.png`` that is
really a JPEG is a JPEG to the networks too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

# Bluesky's app.bsky.embed.images: a blob of at most 1,000,000 bytes, image/*, 4 a post.
BLUESKY_IMAGE_MAX_BYTES = 1_000_000
# Mastodon's default image_size_limit (16 MiB); an instance says its own in
# /api/v2/instance configuration.media_attachments.
MASTODON_IMAGE_MAX_BYTES = 16 * 1024 * 1024
MASTODON_DESCRIPTION_MAX = 1500  # characters of alt text (description_limit)
MAX_IMAGES = 4  # per post, on both networks
IMAGE_LIMITS = {"bluesky": BLUESKY_IMAGE_MAX_BYTES, "mastodon": MASTODON_IMAGE_MAX_BYTES}
MIME_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# JPEG start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class ImageInfo:
    """What the header of an image says."""

    mime: str
    width: int
    height: int


def sniff(data: bytes) -> ImageInfo | None:
    """The type and pixel size of a PNG, JPEG, GIF or WebP image; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        return _sized("image/png", int.from_bytes(data[16:20]), int.from_bytes(data[20:24]))
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = (int.from_bytes(data[i : i + 2], "little") for i in (6, 8))
        return _sized("image/gif", width, height)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return None


def _sized(mime: str, width: int, height: int) -> ImageInfo | None:
    return ImageInfo(mime, width, height) if width > 0 and height > 0 else None


def _jpeg(data: bytes) -> ImageInfo | None:
    # Walk the marker segments to the first start-of-frame.
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4])
        if marker in _SOF:
            if at + 9 > len(data):
                return None
            height = int.from_bytes(data[at + 5 : at + 7])
            width = int.from_bytes(data[at + 7 : at + 9])
            return _sized("image/jpeg", width, height)
        if length < 2:
            return None
        at += 2 + length
    return None


def _webp(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(data[26:28], "little") & 0x3FFF
        height = int.from_bytes(data[28:30], "little") & 0x3FFF
        return _sized("image/webp", width, height)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return _sized("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return _sized("image/webp", width, height)
    return None


def sha256_of(path: str | Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def size_text(size: int) -> str:
    """``1,234,567 bytes``: exact, so a size just over a limit reads as over it."""
    return f"{size:,} bytes"


__all__ = [
    "BLUESKY_IMAGE_MAX_BYTES",
    "IMAGE_LIMITS",
    "MASTODON_DESCRIPTION_MAX",
    "MASTODON_IMAGE_MAX_BYTES",
    "MAX_IMAGES",
    "MIME_TYPES",
    "ImageInfo",
    "sha256_of",
    "size_text",
    "sniff",
]
