"""Posting, reading, editing and deleting statuses, and a status's thread context."""

from __future__ import annotations

from chatbot.sandbox.mastodon.api_accounts import flag
from chatbot.sandbox.mastodon.base import MastodonBase, translate_errors
from chatbot.sandbox.mastodon.federation import REFRESH_SECONDS
from chatbot.sandbox.mastodon.records import VISIBILITIES, Status
from chatbot.sandbox.mastodon.scopes import require
from chatbot.sandbox.mastodon.store import WEB_APPLICATION
from chatbot.sandbox.web import HttpError, Request, Response, json_response

MAX_BATCH = 40  # statuses one GET /api/v1/statuses answers at most (as Mastodon)


def register(app: MastodonBase) -> None:
    store = app.store

    def visible(request: Request, viewer_id: str | None) -> Status:
        status = store.status(request.path_params["id"])
        if status is None or not store.can_see(status, viewer_id):
            raise HttpError(404, "Record not found")
        return status

    def reader(request: Request) -> str | None:
        """The caller's account (None: anonymous); a token sent must allow reading statuses."""
        needed = app.profile.statuses_need_token
        token = app.auth(request, required=needed, user=needed)
        require(token, "read:statuses")
        return token.account_id if token else None

    def owned(request: Request) -> tuple[Status, str]:
        token = app.auth(request)
        assert token is not None and token.account_id is not None
        require(token, "write:statuses")
        status = visible(request, token.account_id)
        if status.account_id != token.account_id:
            raise HttpError(403, "This action is not allowed")
        return status, token.account_id

    def post_status(request: Request) -> Response:
        token = app.auth(request)
        assert token is not None and token.account_id is not None
        require(token, "write:statuses")
        if request.param("scheduled_at"):
            raise HttpError(
                422, "The sandbox does not schedule statuses; post at the due time instead"
            )
        # None: the account's default (source.privacy): unlisted for new GoToSocial accounts.
        visibility = (request.param("visibility") or "").lower() or None
        if visibility is not None and visibility not in VISIBILITIES:
            raise HttpError(
                422, f"Validation failed: Visibility is not included in the list: {visibility}"
            )
        application = (
            {"name": token.app.name, "website": token.app.website}
            if token.app
            else dict(WEB_APPLICATION)
        )
        status = store.post(
            token.account_id,
            request.param("status") or "",
            in_reply_to_id=request.param("in_reply_to_id") or None,
            visibility=visibility,
            language=request.param("language") or "en",
            spoiler_text=request.param("spoiler_text") or "",
            sensitive=flag(request.param("sensitive")),
            quote_id=request.param("quoted_status_id") or request.param("quote_id") or None,
            application=application,
            idempotency_key=request.header("Idempotency-Key") or None,
            media_ids=request.params("media_ids"),
        )
        return json_response(store.status_json(status, viewer_id=token.account_id))

    def get_status(request: Request) -> Response:
        viewer_id = reader(request)
        return json_response(store.status_json(visible(request, viewer_id), viewer_id=viewer_id))

    def edit_status(request: Request) -> Response:
        status, account_id = owned(request)
        sensitive = request.param("sensitive")
        edited = store.update(
            status.id,
            request.param("status") or "",
            spoiler_text=request.param("spoiler_text"),
            sensitive=flag(sensitive) if sensitive is not None else None,
            language=request.param("language") or None,
        )
        return json_response(store.status_json(edited, viewer_id=account_id))

    def delete_status(request: Request) -> Response:
        status, account_id = owned(request)
        removed = store.remove(status.id)
        return json_response(store.status_json(removed, viewer_id=account_id, deleted=True))

    def context(request: Request) -> Response:
        viewer_id = reader(request)
        status = visible(request, viewer_id)
        ancestors, descendants = store.context(status, viewer_id)
        headers: dict[str, str] = {}
        fetcher = store.reply_fetcher
        refreshing = app.profile.async_refresh and viewer_id and not status.local
        # Replies on their way from the origin: the client is told to ask again later.
        if refreshing and fetcher is not None and fetcher(status.id):
            refresh = f'id="context:{status.id}", retry={REFRESH_SECONDS}, result_count=0'
            headers["Mastodon-Async-Refresh"] = refresh
        return json_response(
            {
                "ancestors": [store.status_json(s, viewer_id=viewer_id) for s in ancestors],
                "descendants": [store.status_json(s, viewer_id=viewer_id) for s in descendants],
            },
            headers=headers,
        )

    app.route("POST", "/api/v1/statuses", translate_errors(post_status), "statuses")

    def get_statuses(request: Request) -> Response:
        # Mastodon 4.3+: the statuses among id[] the reader may see, in the order asked;
        # ids it does not know or may not see are left out, never an error.
        if not app.profile.statuses_batch:
            raise HttpError(404, "Record not found")
        viewer_id = reader(request)
        ids = request.args("id")[:MAX_BATCH]
        found = [store.status(status_id) for status_id in ids]
        shown = [s for s in found if s is not None and store.can_see(s, viewer_id)]
        return json_response([store.status_json(s, viewer_id=viewer_id) for s in shown])

    app.route("GET", "/api/v1/statuses", get_statuses)
    app.route("GET", "/api/v1/statuses/{id}", get_status)
    app.route("PUT", "/api/v1/statuses/{id}", translate_errors(edit_status), "statuses")
    app.route("DELETE", "/api/v1/statuses/{id}", translate_errors(delete_status), "deletes")
    app.route("GET", "/api/v1/statuses/{id}/context", context)


__all__ = ["register"]
