"""Server profiles: which Mastodon-API implementation the sandbox Mastodon behaves like.

The bot talks to servers that share Mastodon's client API but differ in ways
that break naive collectors. A profile names those differences so that one
sandbox can play either server; ``docs/sandbox.md`` lists what each one does and
``docs/collection.md`` says where each fact was checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerProfile:
    """The observable behaviour of one server implementation."""

    name: str
    software: str  # nodeinfo's software.name
    version: str  # what /api/v1/instance and nodeinfo report
    source_url: str
    ulid_ids: bool  # 26-character ULIDs compared as text, instead of numeric snowflakes
    tag_404_until_used: bool  # the tag timeline is a 404 until a status has used the tag
    tag_omits_replies: bool  # replies to other accounts' posts never reach the tag timeline
    tag_needs_token: bool  # the tag timeline refuses callers without a user token (401)
    sse: bool  # the /api/v1/streaming/<name> server-sent-event endpoints exist
    always_wss: bool  # the instance advertises wss:// for streaming, even when served over http
    limit_per_ip: bool  # one rate limit per client address, whatever the token
    new_account_visibility: str  # the default visibility of a new account's posts
    # A status delivered from another server gets an id from its own creation time (so a late
    # one sorts into the past) instead of from the moment it arrived.
    remote_ids_from_published: bool
    # Mastodon 4.4+: the context of another server's status, asked by a logged-in reader,
    # starts fetching the replies its origin has and this server lacks, and says so with a
    # Mastodon-Async-Refresh header (read again after ``retry`` seconds).
    async_refresh: bool = False
    # Mastodon 4.3+: GET /api/v1/statuses?id[]=… answers many statuses in one request.
    statuses_batch: bool = False
    # A status and its context refuse callers without a user token (401): GoToSocial's
    # StatusGETHandler and StatusContextGETHandler require one (oauth.Authed, all true).
    statuses_need_token: bool = False


MASTODON = ServerProfile(
    name="mastodon",
    software="mastodon",
    version="4.6.4",
    source_url="https://github.com/mastodon/mastodon",
    ulid_ids=False,
    tag_404_until_used=False,
    tag_omits_replies=False,
    tag_needs_token=False,
    sse=True,
    always_wss=False,
    limit_per_ip=False,
    new_account_visibility="public",
    remote_ids_from_published=False,
    async_refresh=True,
    statuses_batch=True,
)

GOTOSOCIAL = ServerProfile(
    name="gotosocial",
    software="gotosocial",
    version="0.20.1",
    source_url="https://codeberg.org/superseriousbusiness/gotosocial",
    ulid_ids=True,
    tag_404_until_used=True,
    tag_omits_replies=True,
    tag_needs_token=True,
    statuses_need_token=True,
    sse=False,
    always_wss=True,
    limit_per_ip=True,
    new_account_visibility="unlisted",
    remote_ids_from_published=True,
)

PROFILES: dict[str, ServerProfile] = {p.name: p for p in (MASTODON, GOTOSOCIAL)}


def profile_named(name: str | ServerProfile) -> ServerProfile:
    """The profile called ``name`` (a ValueError naming the choices otherwise)."""
    if isinstance(name, ServerProfile):
        return name
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        choices = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown Mastodon server profile {name!r}: choose {choices}") from None


def profiles_for(
    count: int, names: str | ServerProfile | Sequence[str | ServerProfile]
) -> tuple[ServerProfile, ...]:
    """One profile per instance: one name for every instance, or a list (or comma-separated
    text) of exactly ``count`` names. A ValueError says what is wrong."""
    if count < 1:
        raise ValueError(f"{count} Mastodon instances: run at least one")
    if isinstance(names, str):
        names = [name for name in names.split(",") if name.strip()] or ["mastodon"]
    elif isinstance(names, ServerProfile):
        names = [names]
    chosen = tuple(profile_named(name) for name in names)
    if len(chosen) == 1:
        return chosen * count
    if len(chosen) != count:
        listed = ",".join(p.name for p in chosen)
        raise ValueError(
            f"{len(chosen)} profiles ({listed}) for {count} Mastodon instances: "
            "give one profile for all, or one per instance"
        )
    return chosen


__all__ = [
    "GOTOSOCIAL",
    "MASTODON",
    "PROFILES",
    "ServerProfile",
    "profile_named",
    "profiles_for",
]
