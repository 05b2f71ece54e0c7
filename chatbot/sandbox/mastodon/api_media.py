"""Uploading media (``POST /api/v2/media``), reading an upload back, and serving its file."""

from __future__ import annotations

from chatbot.sandbox.mastodon.base import MastodonBase, translate_errors
from chatbot.sandbox.mastodon.media import media_json
from chatbot.sandbox.mastodon.scopes import require
from chatbot.sandbox.web import HttpError, Request, Response, json_response


def register(app: MastodonBase) -> None:
    store = app.store

    def upload(request: Request) -> Response:
        token = app.auth(request)
        assert token is not None and token.account_id is not None
        require(token, "write:media")
        files = request.files().get("file")
        if not files:
            raise HttpError(400, "param is missing or the value is empty: file")
        now = store.now()
        media = store.media.upload(
            store.mint_id(now), token.account_id, files[0].data, request.param("description"), now
        )
        # v2 answers 202 while the upload is still processing (its url is null).
        status = 200 if media.ready_at <= now else 202
        return json_response(media_json(store.base_url, media, now), status)

    def get_media(request: Request) -> Response:
        token = app.auth(request)
        assert token is not None and token.account_id is not None
        media = store.media.get(request.path_params["id"])
        if media is None or media.account_id != token.account_id:
            raise HttpError(404, "Record not found")
        now = store.now()
        return json_response(
            media_json(store.base_url, media, now), 200 if media.ready_at <= now else 206
        )

    def media_file(request: Request) -> Response:
        media = store.media.get(request.path_params["id"])
        if media is None or media.ready_at > store.now():
            raise HttpError(404, "Record not found")
        return Response(200, media.data, content_type=media.mime)

    app.route("POST", "/api/v2/media", translate_errors(upload), "media")
    app.route("POST", "/api/v1/media", translate_errors(upload), "media")
    app.route("GET", "/api/v1/media/{id}", get_media)
    app.router.add("GET", "/system/media_attachments/files/{id}/{name}", media_file)


__all__ = ["register"]
