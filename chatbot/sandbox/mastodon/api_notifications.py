"""GET /api/v1/notifications: the mentions of the caller's account, as Mastodon lists them.

Only ``mention`` notifications are made (a status naming the account, replies
included, as Mastodon makes them); ``types[]`` and ``exclude_types[]`` filter
as on Mastodon, so asking for other types gives an empty page.  A
notification's id is its status's (Mastodon keeps a sequence of its own; both
page the same way: newest first, ``max_id``/``since_id``/``min_id``, a Link
header), and its JSON is Mastodon 4.x's (``id``, ``type``, ``created_at``,
``group_key``, ``account``, ``status``).
"""

from __future__ import annotations

from typing import Any

from chatbot.sandbox.mastodon import entities
from chatbot.sandbox.mastodon.api_timelines import link_header, paginate
from chatbot.sandbox.mastodon.base import MastodonBase
from chatbot.sandbox.mastodon.records import Status
from chatbot.sandbox.mastodon.scopes import require
from chatbot.sandbox.web import Request, Response, json_response

TYPES = ("mention",)


def register(app: MastodonBase) -> None:
    store = app.store
    key = (lambda value: (0, value)) if store.profile.ulid_ids else (lambda v: (int(v), ""))

    def notifications(request: Request) -> Response:
        token = app.auth(request)
        assert token is not None and token.account_id is not None
        require(token, "read:notifications")
        viewer = token.account_id
        wanted = set(request.args("types")) or set(TYPES)
        wanted -= set(request.args("exclude_types"))
        if "mention" not in wanted:
            return json_response([])

        def mentions_viewer(status: Status) -> bool:
            return (
                status.account_id != viewer
                and viewer in status.mention_ids
                and store.can_see(status, viewer)
            )

        page = paginate(store.visible_statuses(mentions_viewer), request, key)
        body = [_notification(status, viewer) for status in page]
        return json_response(body, headers=link_header(request, store.base_url, page))

    def _notification(status: Status, viewer: str) -> dict[str, Any]:
        with store.lock:
            author = store.account(status.account_id)
            account = entities.account_json(store, author) if author is not None else None
        return {
            "id": status.id,
            "type": "mention",
            "created_at": entities.iso(status.created_at),
            "group_key": f"ungrouped-{status.id}",
            "account": account,
            "status": store.status_json(status, viewer_id=viewer),
        }

    app.route("GET", "/api/v1/notifications", notifications)


__all__ = ["TYPES", "register"]
