"""Favouriting and boosting statuses (POST /api/v1/statuses/:id/favourite, /reblog, and undo)."""

from __future__ import annotations

from chatbot.sandbox.mastodon.base import MastodonBase
from chatbot.sandbox.mastodon.scopes import require
from chatbot.sandbox.web import HttpError, Request, Response, json_response

# Mastodon's own scopes for each: write:favourites, and write:statuses for a boost.
_SCOPES = {"favourite": "write:favourites", "reblog": "write:statuses"}


def register(app: MastodonBase) -> None:
    store = app.store

    def react(kind: str, on: bool):  # type: ignore[no-untyped-def]
        def handler(request: Request) -> Response:
            token = app.auth(request)
            assert token is not None and token.account_id is not None
            require(token, _SCOPES[kind])
            status = store.status(request.path_params["id"])
            if status is None or not store.can_see(status, token.account_id):
                raise HttpError(404, "Record not found")
            if kind == "reblog" and on and status.visibility not in ("public", "unlisted"):
                raise HttpError(422, "Validation failed: Reblog of status is not allowed")
            store.react(kind, status, token.account_id, on)
            return json_response(store.status_json(status, viewer_id=token.account_id))

        return handler

    for kind in ("favourite", "reblog"):
        app.route("POST", f"/api/v1/statuses/{{id}}/{kind}", react(kind, True))
        app.route("POST", f"/api/v1/statuses/{{id}}/un{kind}", react(kind, False))


__all__ = ["register"]
