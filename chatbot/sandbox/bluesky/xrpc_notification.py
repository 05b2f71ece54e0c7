"""app.bsky.notification.listNotifications: mentions of, and replies to, the caller's account.

Shaped as the AppView answers (the lexicon's ``notification`` objects, newest
first by indexing time, an opaque cursor for the next, older page, and the
``reasons`` filter).  Only the two reasons a post can carry are made here:
``mention`` (a facet names the caller) and ``reply`` (a reply to one of the
caller's posts); likes, reposts and follows have no part in a chat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatbot.sandbox.bluesky import views
from chatbot.sandbox.bluesky.model import StoredRecord
from chatbot.sandbox.bluesky.params import integer
from chatbot.sandbox.bluesky.times import iso
from chatbot.sandbox.web import HttpError, Request

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.base import BlueskyBase

REASONS = ("mention", "reply")
MENTION = "app.bsky.richtext.facet#mention"


def _mentions(record: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for facet in record.get("facets") or ():
        for feature in (facet or {}).get("features") or ():
            if isinstance(feature, dict) and feature.get("$type") == MENTION:
                found.add(str(feature.get("did", "")))
    return found


def _reason(post: StoredRecord, did: str) -> tuple[str, str | None] | None:
    """Why ``post`` notifies ``did``: (reason, reasonSubject), or None.

    A reply to one of the account's posts is a ``reply`` even when it also
    mentions the account, as on the AppView.
    """
    if post.did == did:
        return None
    parent = str(((post.value.get("reply") or {}).get("parent") or {}).get("uri", ""))
    if parent.startswith(f"at://{did}/"):
        return "reply", parent
    if did in _mentions(post.value):
        return "mention", None
    return None


def _cursor(post: StoredRecord) -> str:
    return f"{iso(post.indexed_at)}::{post.cid}"


def register(app: BlueskyBase) -> None:
    store = app.store

    def list_notifications(request: Request) -> dict[str, Any]:
        account = app.authed(request)
        limit = integer(request, "limit", 50, 1, 100)
        wanted = set(request.args("reasons")) or set(REASONS)
        cursor = request.arg("cursor") or None
        found: list[tuple[StoredRecord, str, str | None]] = []
        for post in store.posts():
            why = _reason(post, account.did)
            if why is not None and why[0] in wanted:
                found.append((post, *why))
        found.sort(key=lambda item: _cursor(item[0]), reverse=True)
        if cursor is not None:
            if "::" not in cursor:
                raise HttpError(400, "InvalidRequest", "Malformed cursor")
            found = [item for item in found if _cursor(item[0]) < cursor]
        page = found[:limit]
        notifications = []
        for post, reason, subject in page:
            item: dict[str, Any] = {
                "uri": post.uri,
                "cid": post.cid,
                "author": views.post_view(store, post)["author"],
                "reason": reason,
                "record": post.value,
                "isRead": False,
                "indexedAt": iso(post.indexed_at),
                "labels": [],
            }
            if subject:
                item["reasonSubject"] = subject
            notifications.append(item)
        answer: dict[str, Any] = {"notifications": notifications, "priority": False}
        if len(found) > limit and page:
            answer["cursor"] = _cursor(page[-1][0])
        return answer

    app.query("app.bsky.notification.listNotifications", list_notifications)


__all__ = ["REASONS", "register"]
