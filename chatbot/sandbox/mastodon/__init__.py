"""A Mastodon-compatible sandbox server for the unmodified Mastodon.py client, over HTTP."""

from chatbot.sandbox.mastodon.app import MastodonApp, serve
from chatbot.sandbox.mastodon.ratelimit import Limit, RateLimits
from chatbot.sandbox.mastodon.store import MastodonStore, NotFound, ValidationError

__all__ = [
    "Limit",
    "MastodonApp",
    "MastodonStore",
    "NotFound",
    "RateLimits",
    "ValidationError",
    "serve",
]
