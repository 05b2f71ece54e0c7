"""BlueskyApp: the sandbox's XRPC server (PDS + AppView in one) with all its routes."""

from __future__ import annotations

from chatbot.sandbox.bluesky import pages, xrpc_feed, xrpc_repo, xrpc_server
from chatbot.sandbox.bluesky.base import BlueskyBase


class BlueskyApp(BlueskyBase):
    """Serves ``/xrpc/...`` like a PDS that proxies ``app.bsky.*`` to its AppView.

    It also answers bsky.app's page paths (``/profile/...``) with small HTML
    pages, so links with this server as their web base lead somewhere.
    """

    def register_routes(self) -> None:
        for module in (xrpc_server, xrpc_repo, xrpc_feed, pages):
            module.register(self)
        super().register_routes()


__all__ = ["BlueskyApp"]
