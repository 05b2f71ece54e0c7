"""GET /api/v2/search for a status's address, as a person pasting a link into search uses it.

Only what the bot needs: ``q`` a status's ActivityPub id or web address.
Found when this instance has it; with ``resolve=true`` and a user's token,
an instance that does not have it yet fetches it from its origin first (and
its parents), as Mastodon does (``MastodonStore.resolver``, set by the
sandbox's federation). Anything else finds nothing: an empty result, never
an error, as Mastodon answers a search that matches nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatbot.sandbox.mastodon.api_accounts import flag
from chatbot.sandbox.mastodon.entities import status_addresses
from chatbot.sandbox.mastodon.records import Status
from chatbot.sandbox.mastodon.scopes import require
from chatbot.sandbox.web import Request, Response, json_response

if TYPE_CHECKING:
    from chatbot.sandbox.mastodon.base import MastodonBase


def register(app: MastodonBase) -> None:
    store = app.store

    def by_address(address: str, viewer_id: str | None) -> Status | None:
        with store.lock:
            for status in store.statuses.values():
                if status.deleted or not store.can_see(status, viewer_id):
                    continue
                if address in status_addresses(store, status):
                    return status
        return None

    def search(request: Request) -> Response:
        token = app.auth(request, required=False, user=False)
        require(token, "read:search")
        viewer_id = token.account_id if token else None
        address = (request.arg("q") or "").strip()
        kind = request.arg("type") or "statuses"
        found: list[Status] = []
        if address.startswith(("http://", "https://")) and kind == "statuses":
            status = by_address(address, viewer_id)
            resolver = store.resolver
            if status is None and flag(request.arg("resolve")) and viewer_id and resolver:
                resolved = resolver(address)
                status = store.status(resolved) if resolved else None
            if status is not None and store.can_see(status, viewer_id):
                found.append(status)
        statuses = [store.status_json(s, viewer_id=viewer_id) for s in found]
        return json_response({"accounts": [], "statuses": statuses, "hashtags": []})

    app.route("GET", "/api/v2/search", search)


__all__ = ["register"]
