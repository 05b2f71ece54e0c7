"""OAuth scopes as Mastodon knows them: which exist, and whether a token's cover a need.

Mastodon's scopes are hierarchical: ``read`` grants every ``read:*`` scope,
``write`` every ``write:*``; the deprecated ``follow`` grants the follow,
block and mute ones. ``profile`` (4.3) grants only verify_credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatbot.sandbox.web import HttpError

if TYPE_CHECKING:
    from chatbot.sandbox.mastodon.records import Token

READ = (
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
)
WRITE = (
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
)
FOLLOW = (
    "read:blocks",
    "read:follows",
    "read:mutes",
    "write:blocks",
    "write:follows",
    "write:mutes",
)
TOP_LEVEL = ("read", "write", "follow", "push", "profile", "admin:read", "admin:write")
GRANULAR = tuple(f"read:{name}" for name in READ) + tuple(f"write:{name}" for name in WRITE)
SUPPORTED = TOP_LEVEL + GRANULAR
OUTSIDE_SCOPES = "This action is outside the authorized scopes"


def split(text: str | None) -> list[str]:
    """Scopes as sent: space-separated (``+`` arrives decoded as a space)."""
    return [scope for scope in (text or "").split() if scope]


def unknown(scopes: list[str]) -> list[str]:
    return [scope for scope in scopes if scope not in SUPPORTED]


def covers(granted: list[str], needed: str) -> bool:
    """Whether ``granted`` includes ``needed``, itself or through a broader scope."""
    if needed in granted:
        return True
    parent, _, _ = needed.partition(":")
    if parent in ("read", "write") and parent in granted:
        return True
    return needed in FOLLOW and "follow" in granted


def subset(requested: list[str], allowed: list[str]) -> bool:
    """Whether every requested scope is allowed (an app's scopes bound its tokens')."""
    return all(covers(allowed, scope) for scope in requested)


def require(token: Token | None, *any_of: str) -> None:
    """403 as Mastodon answers unless the token has one of ``any_of`` (no token: no check)."""
    if token is None:
        return
    granted = split(token.scopes)
    if not any(covers(granted, scope) for scope in any_of):
        raise HttpError(403, OUTSIDE_SCOPES)


__all__ = ["OUTSIDE_SCOPES", "SUPPORTED", "covers", "require", "split", "subset", "unknown"]
