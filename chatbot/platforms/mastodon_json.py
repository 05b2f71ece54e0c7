"""Mastodon JSON (a Status, a status context) as NormalisedPosts and Threads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chatbot.platforms.base import NormalisedPost, Thread
from chatbot.platforms.htmltext import html_links, html_to_text
from chatbot.platforms.postfields import (
    _bio_flags,
    _dedupe,
    _new_post,
    _opt_s,
    _s,
    parse_time,
    plain,
)
from chatbot.text.postrefs import mastodon_refs


def from_mastodon_status(status: Mapping[str, Any]) -> NormalisedPost:
    """Normalise a Mastodon Status (plain JSON or a Mastodon.py entity)."""
    data = plain(status)
    account = data.get("account") or {}
    flags = set()
    if account.get("noindex") is True:
        flags.add("noindex")
    if account.get("indexable") is False:
        flags.add("unindexable")
    flags |= _bio_flags(html_to_text(_s(account.get("note"))))
    content = data.get("content")
    html = _s(content)
    # A delete answers with the source `text` and no `content`.
    text = html_to_text(html) if content is not None else _s(data.get("text"))
    tags = [_s(t.get("name")).lower() for t in data.get("tags") or [] if isinstance(t, Mapping)]
    mentions, quotes = mastodon_refs(data)
    followers = account.get("followers_count")
    return _new_post(
        network="mastodon",
        uri=_s(data.get("uri")),
        id=_s(data.get("id")),
        url=_s(data.get("url")),
        cid="",
        author_id=_s(account.get("id")),
        author_handle=_s(account.get("acct")),
        author_display_name=_s(account.get("display_name")),
        author_followers=followers if isinstance(followers, int) else None,
        author_flags=frozenset(flags),
        created_at=parse_time(data.get("created_at")),
        edited_at=parse_time(data.get("edited_at")),
        text=text,
        html=html,
        links=_dedupe(html_links(html)),
        tags=_dedupe(tags),
        mentions=mentions,
        parent_uri=None,  # Mastodon gives only in_reply_to_id; thread() fills URIs it knows
        root_uri=None,
        quote_uri=quotes[0] if quotes else None,
        visibility=_s(data.get("visibility")) or "public",
        lang=_opt_s(data.get("language")),
        raw=data,
        parent_id=_opt_s(data.get("in_reply_to_id")),
        deleted=False,
        quote_uris=quotes,
    )


def mastodon_thread(anchor: Mapping[str, Any] | None, context: Mapping[str, Any]) -> Thread:
    """Anchor + descendants of a status context, with parent/root URIs filled in."""
    data = plain(context)
    top = from_mastodon_status(anchor) if anchor is not None else None
    posts = [from_mastodon_status(s) for s in data.get("descendants") or []]
    known = {p.id: p for p in posts}
    if top is not None:
        known[top.id] = top
    root_uri = None
    ancestors = data.get("ancestors") or []
    if ancestors:
        root_uri = _opt_s(ancestors[0].get("uri"))
        if top is not None:
            top = replace(top, parent_uri=_opt_s(ancestors[-1].get("uri")), root_uri=root_uri)
    elif top is not None:
        root_uri = top.uri
    replies = []
    for post in posts:
        parent = known.get(post.parent_id or "")
        replies.append(replace(post, parent_uri=parent.uri if parent else None, root_uri=root_uri))
    incomplete = any(p.parent_id and p.parent_id not in known for p in posts)
    return Thread(anchor=top, replies=replies, incomplete=incomplete or top is None)


__all__ = ["from_mastodon_status", "mastodon_thread"]
