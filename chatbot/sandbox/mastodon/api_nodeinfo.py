"""NodeInfo: which software the server runs, for clients that ask before they adapt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatbot.sandbox.web import Request, Response, json_response

if TYPE_CHECKING:
    from chatbot.sandbox.mastodon.base import MastodonBase

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"


def register(app: MastodonBase) -> None:
    store = app.store

    def well_known(request: Request) -> Response:
        return json_response({"links": [{"rel": SCHEMA, "href": f"{store.base_url}/nodeinfo/2.0"}]})

    def nodeinfo(request: Request) -> Response:
        with store.lock:
            users = sum(1 for a in store.accounts.values() if a.local)
            posts = sum(1 for s in store.statuses.values() if s.local and not s.deleted)
        profile = store.profile
        return json_response(
            {
                "version": "2.0",
                "software": {"name": profile.software, "version": profile.version},
                "protocols": ["activitypub"],
                "services": {"outbound": [], "inbound": []},
                "usage": {"users": {"total": users}, "localPosts": posts},
                "openRegistrations": True,
                "metadata": {"nodeName": "chatbot sandbox"},
            }
        )

    app.route("GET", "/.well-known/nodeinfo", well_known, None)
    app.route("GET", "/nodeinfo/2.0", nodeinfo, None)


__all__ = ["register"]
