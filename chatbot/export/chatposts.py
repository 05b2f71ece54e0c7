"""Stored post rows as the transcript core's ChatPosts, quote links resolved to stored posts."""

from __future__ import annotations

from collections.abc import Sequence

from chatbot.models import Post
from chatbot.text.posturls import PostIndex
from chatbot.transcript import ChatPost


def chat_posts(rows: Sequence[Post]) -> list[ChatPost]:
    """One ChatPost per row, with its mentions and the stored post it quotes.

    A quote by link names a post as its address showed it (a Bluesky handle,
    a Mastodon web link); the first quote target that is one of ``rows``
    becomes ``quote_uri``, so the attributor's quote evidence can follow it.
    """
    index = PostIndex.of(rows)
    return [
        ChatPost(
            network=row.network,
            uri=row.uri,
            author_id=row.author_id,
            created_at=row.created_at,
            text=row.text,
            author_handle=row.author_handle,
            parent_uri=row.parent_uri,
            root_uri=row.root_uri,
            quote_uri=index.first(row.quote_uris or ([row.quote_uri] if row.quote_uri else [])),
            mentions=tuple(row.mentions or ()),
            tags=tuple(row.tags or ()),
        )
        for row in rows
    ]


__all__ = ["chat_posts"]
