"""Network adapters: one small interface over Bluesky (atproto) and Mastodon (Mastodon.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatbot.platforms.base import (
    OPT_OUT_FLAGS,
    Identity,
    NormalisedPost,
    Page,
    Platform,
    PostLimits,
    RemoteRef,
    Thread,
    iter_hashtag_pages,
    iter_hashtag_posts,
)

if TYPE_CHECKING:
    from chatbot.platforms.credentials import Credentials

NETWORKS = ("bluesky", "mastodon")


def connect(network: str, credentials: Credentials, **options: Any) -> Platform:
    """The adapter for ``network`` with the given credentials (no request is made yet).

    Bluesky takes ``persist_session=True`` to keep its session across restarts.
    """
    if network == "bluesky":
        from chatbot.platforms.bluesky import BlueskyPlatform
        from chatbot.platforms.session import SessionCache

        blue = credentials.require_bluesky()
        cache = options.pop("session_cache", None)
        if cache is None:
            # persist_session: keep the session in a 0600 file under the state dir.
            persist = options.pop("persist_session", False)
            cache = (
                SessionCache.for_account(blue.service, blue.handle) if persist else SessionCache()
            )
        return BlueskyPlatform(
            blue.handle,
            blue.password,
            service=blue.service,
            web=blue.web,
            session_cache=cache,
            **options,
        )
    if network == "mastodon":
        from chatbot.platforms.mastodon import MastodonPlatform

        masto = credentials.require_mastodon()
        return MastodonPlatform(masto.url, masto.token, **options)
    raise ValueError(f"unknown network {network!r}; expected one of {', '.join(NETWORKS)}")


__all__ = [
    "NETWORKS",
    "OPT_OUT_FLAGS",
    "Identity",
    "NormalisedPost",
    "Page",
    "Platform",
    "PostLimits",
    "RemoteRef",
    "Thread",
    "connect",
    "iter_hashtag_pages",
    "iter_hashtag_posts",
]
