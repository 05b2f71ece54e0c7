"""The sandbox Mastodon's web pages at its statuses' and accounts' ``url``: /@user/id, /@user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatbot.sandbox.mastodon.entities import iso
from chatbot.sandbox.mastodon.records import Account, Status
from chatbot.sandbox.mastodon.store import MastodonStore
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
    from chatbot.sandbox.mastodon.base import MastodonBase

SITE = "Mastodon sandbox"
RECENT = 30  # statuses on a profile page
SHOWN = ("public", "unlisted")  # what a logged-out visitor may see, as on Mastodon


def register(app: MastodonBase) -> None:
    """``GET /@{username}/{id}`` and ``GET /@{username}``: not rate limited, like the web UI."""
    store = app.store

    def status_page(request: Request) -> Response:
        with store.lock:
            account = store.lookup_account(request.path_params["username"])
            status = store.status(request.path_params["id"])
            if (
                account is None
                or status is None
                or status.account_id != account.id
                or not _visible(status)
            ):
                return not_found_page("This post was deleted, or never existed.", site=SITE)
            card = status_card(store, status)
        return post_page(card, site=SITE)

    def account_page(request: Request) -> Response:
        with store.lock:
            account = store.lookup_account(request.path_params["username"])
            if account is None:
                return not_found_page("There is no such account here.", site=SITE)
            recent = store.visible_statuses(
                lambda s: s.account_id == account.id and s.visibility in SHOWN
            )[:RECENT]
            card = ProfileCard(
                handle=f"@{account.username}",
                url=_account_path(account),
                name=account.display_name,
                bio=account.note,
                posts=[status_card(store, status) for status in recent],
            )
        return profile_page(card, site=SITE)

    app.route("GET", "/@{username}", account_page, None)
    app.route("GET", "/@{username}/{id}", status_page, None)


def _visible(status: Status) -> bool:
    return not status.deleted and status.visibility in SHOWN


def _account_path(account: Account) -> str:
    return f"/@{segment(account.username)}"


def status_card(store: MastodonStore, status: Status) -> PostCard:
    """A status as a page shows it: its source text, and its parent while that is visible."""
    author = store.account(status.account_id)
    assert author is not None, f"status {status.id} has no author"
    parent = store.status(status.in_reply_to_id) if status.in_reply_to_id else None
    parent_author = store.account(parent.account_id) if parent and _visible(parent) else None
    return PostCard(
        url=f"{_account_path(author)}/{segment(status.id)}",
        author_handle=f"@{author.username}",
        author_url=_account_path(author),
        author_name=author.display_name,
        text=status.text,
        created_at=iso(status.created_at) or "",
        edited_at=iso(status.edited_at) or "",
        warning=status.spoiler_text,
        reply=status.in_reply_to_id is not None,
        parent_url=(
            f"{_account_path(parent_author)}/{segment(parent.id)}"
            if parent and parent_author
            else ""
        ),
        parent_label=f"@{parent_author.username}" if parent_author else "",
    )


__all__ = ["register", "status_card"]
