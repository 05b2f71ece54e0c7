"""MastodonApp: the sandbox Mastodon server with all its routes, and ``serve`` to start one."""

from __future__ import annotations

from chatbot.sandbox.mastodon import (
    api_accounts,
    api_media,
    api_nodeinfo,
    api_notifications,
    api_reactions,
    api_search,
    api_statuses,
    api_tags,
    api_timelines,
    api_websocket,
    pages,
)
from chatbot.sandbox.mastodon.base import MastodonBase
from chatbot.sandbox.mastodon.store import MastodonStore
from chatbot.sandbox.server import SandboxHTTPServer


class MastodonApp(MastodonBase):
    """Speaks the part of Mastodon's REST and streaming API the bot uses, for Mastodon.py."""

    def register_routes(self) -> None:
        modules = (
            *(api_accounts, api_statuses, api_timelines, api_websocket, api_nodeinfo),
            *(api_search, api_tags, api_media, api_reactions, api_notifications, pages),
        )
        for module in modules:
            module.register(self)


def serve(
    store: MastodonStore | None = None,
    *,
    port: int = 0,
    **options: object,
) -> SandboxHTTPServer:
    """Start a sandbox Mastodon on 127.0.0.1 (``port`` 0: any free one) and return the server."""
    app = MastodonApp(store, **options)  # type: ignore[arg-type]
    server = SandboxHTTPServer(app, port=port)
    app.store.base_url = server.url
    return server.start()


__all__ = ["MastodonApp", "serve"]
