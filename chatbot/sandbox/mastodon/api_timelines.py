"""Hashtag, public and account timelines with Mastodon's id paging, and the streaming endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlencode

from chatbot.sandbox.mastodon.api_accounts import flag
from chatbot.sandbox.mastodon.records import Status
from chatbot.sandbox.mastodon.render import normalize_tag
from chatbot.sandbox.mastodon.streaming import event_stream
from chatbot.sandbox.web import HttpError, Request, Response, StreamResponse, json_response

if TYPE_CHECKING:
    from chatbot.sandbox.mastodon.base import MastodonBase

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
# Query parameters Mastodon carries over into its Link header URLs.
PAGINATION_PARAMS = (
    "local",
    "remote",
    "only_media",
    "limit",
    "any",
    "all",
    "none",
    "tagged",
    "exclude_replies",
)


IdKey = Callable[[str], tuple[int, str]]


def _numeric_key(value: str) -> tuple[int, str]:
    return (int(value), "")


def _id_arg(request: Request, name: str, key: IdKey) -> tuple[int, str] | None:
    value = request.arg(name)
    if not value:
        return None
    try:
        return key(value)
    except ValueError:
        raise HttpError(400, f"{name} must be a status id") from None


def _limit(request: Request) -> int:
    try:
        limit = int(request.arg("limit") or DEFAULT_LIMIT)
    except ValueError:
        limit = DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, limit))


def paginate(
    newest_first: list[Status], request: Request, key: IdKey = _numeric_key
) -> list[Status]:
    """Mastodon's paginate_by_id: max_id/since_id take the newest below; min_id the oldest above.

    ``key`` orders ids: as numbers on Mastodon, as text (ULIDs) on GoToSocial.
    """
    limit = _limit(request)
    max_id, since_id, min_id = (_id_arg(request, n, key) for n in ("max_id", "since_id", "min_id"))
    below = [s for s in newest_first if max_id is None or key(s.id) < max_id]
    if min_id is not None:
        # The page just above min_id, so a poller never skips a burst larger than a page.
        above = [s for s in reversed(below) if key(s.id) > min_id][:limit]
        return list(reversed(above))
    return [s for s in below if since_id is None or key(s.id) > since_id][:limit]


def link_header(request: Request, base_url: str, page: list[Status]) -> dict[str, str]:
    """``Link`` with next (older: max_id) and prev (newer: min_id); none for an empty page."""
    if not page:
        return {}
    kept = [
        (k, v)
        for k, values in request.query.items()
        for v in values
        if k.rstrip("[]") in PAGINATION_PARAMS
    ]
    url = f"{base_url}{request.path}"
    next_url = f"{url}?{urlencode([*kept, ('max_id', page[-1].id)])}"
    prev_url = f"{url}?{urlencode([*kept, ('min_id', page[0].id)])}"
    return {"Link": f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'}


def _feed_parts(app: MastodonBase, request: Request) -> set[str]:
    """Which statuses of a hashtag timeline a caller may see, by the server's access
    settings (Mastodon 4.5): a disabled part is left out (an empty list, not an error);
    a part for logged-in readers only is a 401 to anyone else, unless ``local`` or
    ``remote`` asks for the other part alone."""
    access = app.store.hashtag_feeds
    asked = {"local", "remote"}
    if flag(request.arg("local")):
        asked = {"local"}
    elif flag(request.arg("remote")):
        asked = {"remote"}
    parts = {part for part in asked if access.get(part, "public") != "disabled"}
    if any(access.get(part) == "authenticated" for part in parts):
        app.auth(request)  # 401 without a token
    return parts


def register(app: MastodonBase) -> None:
    store = app.store
    profile = store.profile
    key: IdKey = (lambda value: (0, value)) if profile.ulid_ids else _numeric_key

    def timeline(request: Request, predicate: Callable[[Status], bool]) -> Response:
        viewer_id = app.viewer(request)
        local, remote = flag(request.arg("local")), flag(request.arg("remote"))
        if flag(request.arg("only_media")) or (local and remote):
            page: list[Status] = []  # no status here has media
        else:
            page = paginate(
                store.visible_statuses(
                    lambda s: (
                        (not local or s.local) and (not remote or not s.local) and predicate(s)
                    )
                ),
                request,
                key,
            )
        body = [store.status_json(s, viewer_id=viewer_id) for s in page]
        return json_response(body, headers=link_header(request, store.base_url, page))

    def tag_timeline(request: Request) -> Response:
        names = [normalize_tag(unquote(request.path_params["hashtag"]))]
        if profile.tag_needs_token:
            app.auth(request)
        if profile.tag_404_until_used and names[0] not in store.used_tags:
            # GoToSocial knows a tag only once a status has used it.
            raise HttpError(404, "Not Found: tag was not found, or not useable/listable")
        wanted_any = {normalize_tag(t) for t in request.args("any")}
        wanted_all = {normalize_tag(t) for t in request.args("all")}
        unwanted = {normalize_tag(t) for t in request.args("none")}
        shown = _feed_parts(app, request)

        def matches(s: Status) -> bool:
            if s.visibility != "public":
                return False  # unlisted posts never appear in hashtag timelines
            if ("local" if s.local else "remote") not in shown:
                return False  # switched off by the server (timelines_access)
            if profile.tag_omits_replies and s.in_reply_to_account_id not in (None, s.account_id):
                return False  # GoToSocial: replies to other accounts stay out, tagged or not
            tags = set(s.tags)
            return (
                (bool(tags & set(names)) or bool(tags & wanted_any))
                and wanted_all <= tags
                and not (tags & unwanted)
            )

        return timeline(request, matches)

    def public_timeline(request: Request) -> Response:
        # Like Mastodon's public feed: no replies to other people.
        return timeline(
            request,
            lambda s: (
                s.visibility == "public"
                and (s.in_reply_to_account_id is None or s.in_reply_to_account_id == s.account_id)
            ),
        )

    def account_statuses(request: Request) -> Response:
        account = store.account(request.path_params["id"])
        if account is None:
            raise HttpError(404, "Record not found")
        viewer_id = app.viewer(request)
        if flag(request.arg("pinned")):
            return json_response([])
        exclude_replies = flag(request.arg("exclude_replies"))
        tagged = normalize_tag(request.arg("tagged") or "") or None

        def matches(s: Status) -> bool:
            return (
                s.account_id == account.id
                and store.can_see(s, viewer_id)
                and s.visibility != "direct"
                and not (
                    exclude_replies and s.in_reply_to_id and s.in_reply_to_account_id != account.id
                )
                and (tagged is None or tagged in s.tags)
            )

        return timeline(request, matches)

    def home_timeline(request: Request) -> Response:
        token = app.auth(request)
        assert token is not None
        # Nobody follows anybody here, so home holds the account's own statuses.
        return timeline(
            request, lambda s: s.account_id == token.account_id and s.visibility != "direct"
        )

    def health(request: Request) -> Response:
        return Response(200, b"OK", "text/plain; charset=utf-8")

    def stream(request: Request, hashtag: bool) -> StreamResponse:
        value = request.bearer_token or request.arg("access_token")
        token = store.token(value)
        if value and token is None:
            raise HttpError(401, "Invalid access token")
        tag = request.arg("tag")
        if hashtag and not tag:
            raise HttpError(400, "No tag for stream provided")
        subscription = store.subscribe(
            tag if hashtag else None,
            token.account_id if token else None,
            local_only=request.path.endswith("/local"),
        )
        chunks = event_stream(store, subscription, app.closing, app.heartbeat_seconds)
        return StreamResponse(chunks, headers={"Access-Control-Allow-Origin": "*"})

    app.route("GET", "/api/v1/timelines/tag/{hashtag}", tag_timeline)
    app.route("GET", "/api/v1/timelines/public", public_timeline)
    app.route("GET", "/api/v1/timelines/home", home_timeline)
    app.route("GET", "/api/v1/accounts/{id}/statuses", account_statuses)
    if not profile.sse:
        return  # GoToSocial streams over WebSocket only: these paths are 404s there
    app.route("GET", "/api/v1/streaming/health", health, None)
    for path in ("/api/v1/streaming/hashtag", "/api/v1/streaming/hashtag/local"):
        app.route("GET", path, lambda r: stream(r, hashtag=True), None)
    for path in ("/api/v1/streaming/public", "/api/v1/streaming/public/local"):
        app.route("GET", path, lambda r: stream(r, hashtag=False), None)


__all__ = ["link_header", "paginate", "register"]
