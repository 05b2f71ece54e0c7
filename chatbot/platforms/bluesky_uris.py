"""Bluesky addresses: the parts of an at:// URI and the web links of posts and profiles."""

from __future__ import annotations

BLUESKY_WEB = "https://bsky.app"  # the default web base of Bluesky links


def rkey_of(uri: str) -> str:
    """The record key at the end of an at:// URI (the URI itself if it has none)."""
    if uri.startswith("at://"):
        parts = uri[len("at://") :].split("/")
        if len(parts) == 3 and parts[2]:
            return parts[2]
    return uri


def did_of(uri: str) -> str:
    if uri.startswith("at://"):
        return uri[len("at://") :].split("/")[0]
    return ""


def bluesky_web_url(uri: str, handle: str = "", *, web: str = BLUESKY_WEB) -> str:
    """The web page of a post under ``web`` (bsky.app, or e.g. a sandbox's own URL)."""
    did = did_of(uri)
    if not did or "/app.bsky.feed.post/" not in uri:
        return ""
    return f"{bluesky_profile_url(_shown(handle, did), web=web)}/post/{rkey_of(uri)}"


def bluesky_profile_url(actor: str, *, web: str = BLUESKY_WEB) -> str:
    """The web page of an account (handle or DID) under ``web``."""
    return f"{web.rstrip('/')}/profile/{actor}"


def _shown(handle: str, did: str) -> str:
    """What a web link names an author by: the handle, or the DID when it has none."""
    return handle if handle and handle != "handle.invalid" else did


__all__ = ["BLUESKY_WEB", "bluesky_profile_url", "bluesky_web_url", "did_of", "rkey_of"]
