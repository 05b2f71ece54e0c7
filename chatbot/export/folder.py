"""Where a chat's published files go: one folder per chat, shared by the exports and the recap."""

from __future__ import annotations

from datetime import datetime

from chatbot.zones import zone_or_utc


def chat_dirname(hashtag: str, start: datetime, timezone: str) -> str:
    """The folder name of a chat: ``<hashtag>-<local date>``, e.g. ``sm35-2027-12-07``.

    The transcript exports and the recap both use it, so they land in one folder.
    """
    safe = "".join(ch for ch in hashtag.lstrip("#") if ch.isalnum() or ch in "-_")
    return f"{safe or 'chat'}-{start.astimezone(zone_or_utc(timezone)).date().isoformat()}"


__all__ = ["chat_dirname"]
