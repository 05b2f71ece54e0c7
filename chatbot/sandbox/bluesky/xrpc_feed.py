"""app.bsky.*: the AppView reads (search, threads, posts, profiles, author feeds)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatbot.sandbox.bluesky import views
from chatbot.sandbox.bluesky.params import integer, required
from chatbot.sandbox.bluesky.records import POST
from chatbot.sandbox.bluesky.search import parse_query, search_posts
from chatbot.sandbox.web import HttpError, Request, Response

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.base import BlueskyBase

MAX_URIS = 25
AUTHOR_FILTERS = {
    "posts_with_replies",
    "posts_no_replies",
    "posts_with_media",
    "posts_and_author_threads",
    "posts_with_video",
}


def register(app: BlueskyBase) -> None:
    store = app.store

    def search(request: Request) -> dict[str, Any] | Response:
        if app.viewer(request) is None and not app.anonymous_search:
            page = "<html><head><title>403 Forbidden</title></head><body>"
            page += "<h1>403 Forbidden</h1>Request forbidden by administrative rules.</body></html>"
            return Response(status=403, body=page.encode(), content_type="text/html")
        query = parse_query(
            store,
            required(request, "q"),
            tags=request.args("tag"),
            author=request.arg("author"),
            mentions=request.arg("mentions"),
            since=request.arg("since"),
            until=request.arg("until"),
            lang=request.arg("lang"),
            domain=request.arg("domain"),
        )
        return search_posts(
            store,
            query,
            sort=request.arg("sort") or "latest",
            limit=integer(request, "limit", 25, 1, 100),
            cursor=request.arg("cursor"),
        )

    def post_thread(request: Request) -> dict[str, Any]:
        app.viewer(request)
        uri = required(request, "uri")
        depth = integer(request, "depth", 6, 0, 1000)
        height = integer(request, "parentHeight", 80, 0, 1000)
        thread = views.post_thread(store, uri, depth, height, app.thread_branching)
        if thread is None:
            raise HttpError(400, "NotFound", f"Post not found: {uri}")
        return thread

    def get_posts(request: Request) -> dict[str, Any]:
        app.viewer(request)
        uris = request.args("uris")
        if not uris:
            raise HttpError(400, "InvalidRequest", 'Error: Params must have the property "uris"')
        if len(uris) > MAX_URIS:
            raise HttpError(
                400, "InvalidRequest", f"Error: uris must not have more than {MAX_URIS} elements"
            )
        found = (store.post_view(uri) for uri in uris)
        return {"posts": [view for view in found if view is not None]}

    def get_profile(request: Request) -> dict[str, Any]:
        app.viewer(request)
        account = store.account(required(request, "actor"))
        if account is None:
            raise HttpError(400, "InvalidRequest", "Profile not found")
        return views.profile_detailed(store, account)

    def get_profiles(request: Request) -> dict[str, Any]:
        app.viewer(request)
        actors = request.args("actors")
        if len(actors) > MAX_URIS:
            raise HttpError(
                400, "InvalidRequest", f"Error: actors must not have more than {MAX_URIS} elements"
            )
        accounts = (store.account(actor) for actor in actors)
        return {"profiles": [views.profile_detailed(store, a) for a in accounts if a is not None]}

    def author_feed(request: Request) -> dict[str, Any]:
        app.viewer(request)
        account = store.account(required(request, "actor"))
        if account is None:
            raise HttpError(400, "InvalidRequest", "Profile not found")
        limit = integer(request, "limit", 50, 1, 100)
        cursor = request.arg("cursor")
        kind = request.arg("filter") or "posts_with_replies"
        if kind not in AUTHOR_FILTERS:
            raise HttpError(
                400, "InvalidRequest", f"Error: filter must be one of {sorted(AUTHOR_FILTERS)}"
            )
        # Newest first by record key (a TID), the author feed's order.
        posts = sorted(
            (r for r in store.all_records(account.did) if r.collection == POST),
            key=lambda r: r.rkey,
            reverse=True,
        )
        if kind in ("posts_no_replies", "posts_and_author_threads"):
            posts = [p for p in posts if not p.value.get("reply")]
        elif kind in ("posts_with_media", "posts_with_video"):
            posts = []  # the sandbox stores no media
        if cursor:
            posts = [p for p in posts if p.rkey < cursor]
        page = posts[:limit]
        feed = []
        for post in page:
            item: dict[str, Any] = {"post": views.post_view(store, post)}
            reply = post.value.get("reply")
            if reply:
                item["reply"] = {
                    "root": _ref_view(reply.get("root")),
                    "parent": _ref_view(reply.get("parent")),
                }
            feed.append(item)
        result: dict[str, Any] = {"feed": feed}
        if len(posts) > limit:
            result["cursor"] = page[-1].rkey
        return result

    def _ref_view(ref: Any) -> dict[str, Any]:
        uri = str((ref or {}).get("uri", ""))
        view = store.post_view(uri)
        return {"$type": f"{views.DEFS}#postView", **view} if view else views.not_found(uri)

    app.query("app.bsky.feed.searchPosts", search)
    app.query("app.bsky.feed.getPostThread", post_thread)
    app.query("app.bsky.feed.getPosts", get_posts)
    app.query("app.bsky.feed.getAuthorFeed", author_feed)
    app.query("app.bsky.actor.getProfile", get_profile)
    app.query("app.bsky.actor.getProfiles", get_profiles)


__all__ = ["register"]
