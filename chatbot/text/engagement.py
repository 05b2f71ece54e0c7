"""How many likes, reposts, quotes and replies a post has, read from its network's JSON (pure).

One reading shared by the store (as posts arrive), ``chatbot collect
--refresh-counts`` and the migration that fills the counts of rows stored
before (from their ``raw`` JSON), so none of them can disagree.

- Bluesky post views (searchPosts, getPosts, getPostThread) carry
  ``likeCount``, ``repostCount``, ``quoteCount`` and ``replyCount``. A record
  alone (getRecord, Jetstream, the firehose) carries none: no counts, not zero.
- Mastodon statuses carry ``favourites_count``, ``reblogs_count``,
  ``replies_count`` and, since 4.5, ``quotes_count``: as the server that
  answered knows them (a server counts what reached it).
- Tweets (imports): API v2 ``public_metrics`` or v1.1's ``favorite_count``,
  ``retweet_count`` (and ``reply_count``/``quote_count`` where given).

A count the payload does not give is ``None`` (unknown), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["COUNT_FIELDS", "Engagement", "engagement_of"]

# The post table's columns, in Engagement's order.
COUNT_FIELDS = ("like_count", "repost_count", "quote_count", "reply_count")

_BLUESKY = ("likeCount", "repostCount", "quoteCount", "replyCount")
_MASTODON = ("favourites_count", "reblogs_count", "quotes_count", "replies_count")
_TWEET_V2 = ("like_count", "retweet_count", "quote_count", "reply_count")
_TWEET_V1 = ("favorite_count", "retweet_count", "quote_count", "reply_count")


class Engagement(NamedTuple):
    """A post's counts as its network gave them; ``None``: not given."""

    likes: int | None = None
    reposts: int | None = None
    quotes: int | None = None
    replies: int | None = None

    @property
    def known(self) -> bool:
        return any(value is not None for value in self)

    @property
    def total(self) -> int:
        """Likes, reposts, quotes and replies added up (unknown ones as 0)."""
        return sum(value or 0 for value in self)

    def columns(self) -> dict[str, int | None]:
        """The post table's values: ``like_count``, ``repost_count``, ..."""
        return dict(zip(COUNT_FIELDS, self, strict=True))


def _count(value: Any) -> int | None:
    # bool is an int in Python; a negative count is a broken payload.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _read(data: Mapping[str, Any], names: tuple[str, str, str, str]) -> Engagement:
    return Engagement(*(_count(data.get(name)) for name in names))


def engagement_of(network: str, raw: Any) -> Engagement:
    """The counts in a post's JSON as stored (``Post.raw``); all ``None`` when it has none."""
    if not isinstance(raw, Mapping):
        return Engagement()
    if network == "bluesky":
        return _read(raw, _BLUESKY)
    if network == "mastodon":
        return _read(raw, _MASTODON)
    if network == "twitter":
        metrics = raw.get("public_metrics")
        if isinstance(metrics, Mapping):
            return _read(metrics, _TWEET_V2)
        return _read(raw, _TWEET_V1)
    return Engagement()
