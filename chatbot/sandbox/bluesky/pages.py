"""The sandbox Bluesky's web pages, at bsky.app's paths: a post and a profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from chatbot.sandbox.bluesky.records import POST, PROFILE, RecordError, parse_at_uri
from chatbot.sandbox.bluesky.store import NO_UNAUTHENTICATED, BlueskyStore
from chatbot.sandbox.pages import (
    PostCard,
    ProfileCard,
    not_found_page,
    post_page,
    profile_page,
    segment,
)
from chatbot.sandbox.web import Request, Response

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.base import BlueskyBase

SITE = "Bluesky sandbox"
RECENT = 30  # posts on a profile page


def register(app: BlueskyBase) -> None:
    """``GET /profile/{handle-or-did}`` and ``GET /profile/{handle-or-did}/post/{rkey}``."""
    store = app.store

    def post(request: Request) -> Response:
        account = store.account(unquote(request.path_params["actor"]))
        rkey = unquote(request.path_params["rkey"])
        view = store.post_view(f"at://{account.did}/{POST}/{rkey}") if account else None
        if view is None:
            return not_found_page("This post was deleted, or never existed.", site=SITE)
        return post_page(post_card(store, view), site=SITE)

    def profile(request: Request) -> Response:
        account = store.account(unquote(request.path_params["actor"]))
        if account is None:
            return not_found_page("There is no such account here.", site=SITE)
        record = store.get_record(account.did, PROFILE, "self")
        value = record.value if record else {}
        views = store.find_posts(author_did=account.did)[-RECENT:]
        card = ProfileCard(
            handle=f"@{account.handle}",
            url=f"/profile/{segment(account.handle)}",
            name=str(value.get("displayName") or ""),
            bio=str(value.get("description") or ""),
            posts=[post_card(store, view) for view in reversed(views)],
            hidden=NO_UNAUTHENTICATED in _labels(value),
        )
        return profile_page(card, site=SITE)

    app.router.add("GET", "/profile/{actor}", profile)
    app.router.add("GET", "/profile/{actor}/post/{rkey}", post)


def _labels(profile: dict[str, Any]) -> set[str]:
    values = (profile.get("labels") or {}).get("values") or []
    return {str(item.get("val")) for item in values if isinstance(item, dict)}


def _shown(author: dict[str, Any]) -> str:
    handle = str(author.get("handle") or "")
    return handle if handle and handle != "handle.invalid" else str(author.get("did") or "")


def _path(view: dict[str, Any]) -> str:
    try:
        _, _, rkey = parse_at_uri(str(view.get("uri")))
    except RecordError:
        return ""
    return f"/profile/{segment(_shown(view.get('author') or {}))}/post/{segment(rkey)}"


def post_card(store: BlueskyStore, view: dict[str, Any]) -> PostCard:
    """A post view as a page shows it, with a link to its parent while that exists."""
    author = view.get("author") or {}
    record = view.get("record") or {}
    shown = _shown(author)
    parent_uri = ((record.get("reply") or {}).get("parent") or {}).get("uri")
    parent = store.post_view(str(parent_uri)) if parent_uri else None
    labels = {str(label.get("val")) for label in author.get("labels") or ()}
    return PostCard(
        url=_path(view),
        author_handle=f"@{shown}",
        author_url=f"/profile/{segment(shown)}",
        author_name=str(author.get("displayName") or ""),
        text=str(record.get("text") or ""),
        created_at=str(record.get("createdAt") or ""),
        reply=bool(parent_uri),
        parent_url=_path(parent) if parent else "",
        parent_label=f"@{_shown(parent.get('author') or {})}" if parent else "",
        hidden=NO_UNAUTHENTICATED in labels,
    )


__all__ = ["post_card", "register"]
