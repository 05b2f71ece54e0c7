"""Stored post rows as the transcript core's ChatPosts, quote links resolved to stored posts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from chatbot.text.posturls import PostIndex
from chatbot.transcript import ChatPost


def chat_posts(rows: Iterable[Any]) -> list[ChatPost]:
    """One ChatPost per row, with its mentions and the stored post it quotes.

    A quote by link names a post as its address showed it (a Bluesky handle,
    a Mastodon web link); the first quote target that is one of ``rows``
    becomes ``quote_uri``, so the attributor's quote evidence can follow it.
    ``rows`` (stored ``Post`` rows or result rows with the same column names)
    are read once, in order, and none is kept: they may come a batch at a
    time from the database and be let go as they are read.
    """
    index = PostIndex()
    posts: list[ChatPost] = []
    quoting: list[tuple[int, list[str]]] = []  # a post's place and its quote targets
    for row in rows:
        index.add(row.network, row.uri, row.url, row.author_id, row.author_handle)
        targets = row.quote_uris or ([row.quote_uri] if row.quote_uri else [])
        if targets:
            quoting.append((len(posts), list(targets)))
        posts.append(
            ChatPost(
                network=row.network,
                uri=row.uri,
                author_id=row.author_id,
                created_at=row.created_at,
                text=row.text,
                author_handle=row.author_handle,
                parent_uri=row.parent_uri,
                root_uri=row.root_uri,
                mentions=tuple(row.mentions or ()),
                tags=tuple(row.tags or ()),
            )
        )
    # A quote may name a post stored after it: resolved once every post is indexed.
    for place, targets in quoting:
        posts[place] = replace(posts[place], quote_uri=index.first(targets))
    return posts


__all__ = ["chat_posts"]
