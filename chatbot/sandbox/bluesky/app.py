"""BlueskyApp: the sandbox's XRPC server (PDS + AppView in one) with all its routes."""

from __future__ import annotations

from chatbot.sandbox.bluesky import (
    firehose,
    jetstream,
    pages,
    xrpc_feed,
    xrpc_notification,
    xrpc_repo,
    xrpc_server,
)
from chatbot.sandbox.bluesky.base import BlueskyBase
from chatbot.sandbox.bluesky.firehose import FirehoseLog, FirehoseOptions
from chatbot.sandbox.bluesky.jetstream import JetstreamLog, JetstreamOptions


class BlueskyApp(BlueskyBase):
    """Serves ``/xrpc/...`` like a PDS that proxies ``app.bsky.*`` to its AppView.

    It also answers bsky.app's page paths (``/profile/...``) with small HTML
    pages, so links with this server as their web base lead somewhere, and
    serves its commits as Jetstream at ``/subscribe`` (:attr:`jetstream` holds
    that stream's faults: change its fields) and as the firehose at
    ``/xrpc/com.atproto.sync.subscribeRepos`` (faults in :attr:`firehose`).
    """

    jetstream: JetstreamOptions
    jetstream_log: JetstreamLog
    firehose: FirehoseOptions
    firehose_log: FirehoseLog

    def register_routes(self) -> None:
        for module in (xrpc_server, xrpc_repo, xrpc_feed, xrpc_notification, pages):
            module.register(self)
        self.jetstream = JetstreamOptions()
        self.jetstream_log = JetstreamLog(self.store)
        jetstream.register(self, self.jetstream_log, self.jetstream)
        self.firehose = FirehoseOptions()
        self.firehose_log = FirehoseLog(self.store)
        firehose.register(self, self.firehose_log, self.firehose)
        super().register_routes()


__all__ = ["BlueskyApp"]
