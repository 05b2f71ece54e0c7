"""Media attachments: uploads checked as Mastodon checks them, processed, then attached.

An upload (``POST /api/v2/media``) is refused with Mastodon's 422 messages
for a type the server does not take (by its bytes), a file over the image
size limit, or a description over the description limit. It may take
``processing`` (clock time) before its ``url`` is set: until then the upload
answers 202 and ``GET /api/v1/media/:id`` answers 206, as Mastodon does for
media it processes in the background. A status may attach at most four of
its author's own processed, unattached uploads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chatbot.media import MASTODON_DESCRIPTION_MAX, MASTODON_IMAGE_MAX_BYTES, MAX_IMAGES, sniff


class MediaRejected(ValueError):
    """An upload or an attachment Mastodon refuses with 422 (the message is Mastodon's)."""


IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_EXTENSIONS = {"image/jpeg": "jpeg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
INVALID_TYPE = "Validation failed: File content type is invalid, File is invalid"
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"


@dataclass
class Media:
    id: str
    account_id: str
    mime: str
    data: bytes = field(repr=False)
    width: int
    height: int
    description: str | None
    created_at: datetime
    ready_at: datetime
    status_id: str | None = None

    @property
    def extension(self) -> str:
        return _EXTENSIONS.get(self.mime, "bin")


class MediaBook:
    """Every upload of one server, by id; thread-safe."""

    def __init__(
        self,
        *,
        image_size_limit: int = MASTODON_IMAGE_MAX_BYTES,
        description_limit: int = MASTODON_DESCRIPTION_MAX,
        processing: timedelta = timedelta(0),
    ) -> None:
        self.image_size_limit = image_size_limit
        self.description_limit = description_limit
        self.processing = processing  # how long an upload takes to process (clock time)
        self._lock = threading.Lock()
        self._media: dict[str, Media] = {}
        self._by_status: dict[str, list[Media]] = {}

    def upload(
        self, media_id: str, account_id: str, data: bytes, description: str | None, now: datetime
    ) -> Media:
        """Keep an upload, or refuse it with Mastodon's validation message."""
        info = sniff(data)
        if info is None or info.mime not in IMAGE_TYPES:
            raise MediaRejected("Validation failed: File content type is invalid, File is invalid")
        if len(data) > self.image_size_limit:
            megabytes = self.image_size_limit // (1024 * 1024)
            raise MediaRejected(
                f"Validation failed: File file size must be less than {megabytes} MB"
            )
        if description is not None and len(description) > self.description_limit:
            raise MediaRejected(
                "Validation failed: Description is too long (maximum is "
                f"{self.description_limit} characters)"
            )
        media = Media(
            media_id,
            account_id,
            info.mime,
            data,
            info.width,
            info.height,
            description or None,
            now,
            now + self.processing,
        )
        with self._lock:
            self._media[media_id] = media
        return media

    def get(self, media_id: str) -> Media | None:
        with self._lock:
            return self._media.get(media_id)

    def uploads(self, account_id: str) -> list[Media]:
        """Every upload of an account, attached or not, oldest first."""
        with self._lock:
            return [m for m in self._media.values() if m.account_id == account_id]

    def attachable(self, account_id: str, ids: list[str], now: datetime) -> list[Media]:
        """The uploads a new status may attach, in the order given; ValidationError if not."""
        if len(ids) > MAX_IMAGES:
            raise MediaRejected(f"Cannot attach more than {MAX_IMAGES} files")
        with self._lock:
            found = [self._media.get(i) for i in ids]
        missing = [
            i
            for i, m in zip(ids, found, strict=True)
            if m is None or m.account_id != account_id or m.status_id is not None
        ]
        if missing:
            raise MediaRejected(
                f"Media with ID(s) {', '.join(missing)} not found or already attached to "
                "another post"
            )
        chosen = [m for m in found if m is not None]
        if any(m.ready_at > now for m in chosen):
            raise MediaRejected(NOT_READY)
        return chosen

    def attach(self, media: list[Media], status_id: str) -> None:
        with self._lock:
            for item in media:
                item.status_id = status_id
            self._by_status[status_id] = list(media)

    def of_status(self, status_id: str) -> list[Media]:
        with self._lock:
            return list(self._by_status.get(status_id, ()))


def media_json(base_url: str, media: Media, now: datetime) -> dict[str, Any]:
    """A MediaAttachment entity; ``url`` is null while the upload is processing."""
    ready = media.ready_at <= now
    path = f"{base_url}/system/media_attachments/files/{media.id}"
    size = {
        "width": media.width,
        "height": media.height,
        "size": f"{media.width}x{media.height}",
        "aspect": media.width / media.height,
    }
    return {
        "id": media.id,
        "type": "image",
        "url": f"{path}/original.{media.extension}" if ready else None,
        "preview_url": f"{path}/small.{media.extension}",
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {"original": size, "small": dict(size)} if ready else {},
        "description": media.description,
        "blurhash": None,
    }


__all__ = [
    "IMAGE_TYPES",
    "INVALID_TYPE",
    "NOT_READY",
    "Media",
    "MediaBook",
    "MediaRejected",
    "media_json",
]
