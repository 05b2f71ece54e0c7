"""Whom a post mentions and which posts it quotes, read from its network's JSON (pure).

One reading shared by the normalisers (as posts arrive) and migration 5
(from the ``raw`` JSON of rows stored before), so the two cannot disagree.

- Mentions: Bluesky mention facets' DIDs; Mastodon ``mentions[].acct``; a
  tweet's ``user_mentions`` / ``mentions`` screen names (the ``@names`` in the
  text of a CSV row). These are the forms the posts' own authors are stored
  under (``author_id`` on Bluesky, ``author_handle`` elsewhere).
- Quote targets (see :mod:`chatbot.text.posturls`): the embedded record or
  quoted status first, then post addresses in link facets, link cards,
  expanded tweet links and the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from chatbot.text.bluesky import LINK, MENTION
from chatbot.text.posturls import quote_targets, tweet_uri

Refs = tuple[tuple[str, ...], tuple[str, ...]]  # (mentions, quote targets)
_TWEET_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_NONE: Refs = ((), ())


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _once(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def embedded_quote(embed: Any) -> str | None:
    """The at:// URI of the record a Bluesky embed quotes (record views nest once more)."""
    if not isinstance(embed, Mapping):
        return None
    kind = _s(embed.get("$type"))
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return embedded_quote(embed.get("record"))
    if kind.startswith("app.bsky.embed.record"):
        inner = embed.get("record")
        if isinstance(inner, Mapping):
            uri = inner.get("uri")
            if isinstance(uri, str):
                return uri
            return embedded_quote(inner)
    return None


def _card_link(embed: Any) -> str:
    """The address of a Bluesky link card (also beside media), or ""."""
    embed = _map(embed)
    kind = _s(embed.get("$type"))
    if kind.startswith("app.bsky.embed.external"):
        return _s(_map(embed.get("external")).get("uri"))
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return _card_link(embed.get("media"))
    return ""


def bluesky_refs(record: Mapping[str, Any]) -> Refs:
    """Mentions and quote targets of an ``app.bsky.feed.post`` record."""
    mentions: list[str] = []
    links: list[str] = []
    for facet in _list(record.get("facets")):
        for feature in _list(_map(facet).get("features")):
            feature = _map(feature)
            kind = feature.get("$type", "")
            if kind == MENTION and feature.get("did"):
                mentions.append(_s(feature.get("did")))
            elif kind == LINK:
                links.append(_s(feature.get("uri")))
    embed = record.get("embed")
    card = _card_link(embed)
    if card:
        links.append(card)
    quoted = embedded_quote(embed) if embed else None
    found = quote_targets(_s(record.get("text")), links=links)
    if not mentions and not found:
        return (), (quoted,) if quoted else ()
    return _once(mentions), _once([quoted or "", *found])


def mastodon_refs(status: Mapping[str, Any]) -> Refs:
    """Mentions and quote targets of a Mastodon status (plain JSON)."""
    mentions = [_s(_map(m).get("acct")) for m in _list(status.get("mentions"))]
    quote = _map(status.get("quote"))
    quoted = _s(_map(quote.get("quoted_status")).get("uri"))
    card = _s(_map(status.get("card")).get("url"))
    # Mention and hashtag links are not post addresses; quote_targets skips them.
    content = _s(status.get("content")) or _s(status.get("text"))
    found = quote_targets(content, links=[card] if card else [])
    return _once(mentions), _once([quoted, *found])


def tweet_refs(data: Mapping[str, Any]) -> Refs:
    """Mentions and quote targets of a tweet: API v1.1, v2, or a CSV row (text only)."""
    entities = _map(_map(data.get("extended_tweet")).get("entities")) or _map(data.get("entities"))
    text = (
        _s(_map(data.get("extended_tweet")).get("full_text"))
        or _s(_map(data.get("note_tweet")).get("text"))
        or _s(data.get("full_text"))
        or _s(data.get("text"))
    )
    if "user_mentions" in entities or "user" in data or "id_str" in data:  # API v1.1
        mentions = [_s(_map(m).get("screen_name")) for m in _list(entities.get("user_mentions"))]
    elif "mentions" in entities or "author_id" in data:  # API v2
        mentions = [_s(_map(m).get("username")) for m in _list(entities.get("mentions"))]
    else:  # a CSV row: the @names in the text
        mentions = _TWEET_MENTION.findall(text)
    links = [_s(_map(u).get("expanded_url")) for u in _list(entities.get("urls"))]
    links += _s(data.get("urls")).split()  # a CSV row's optional columns: urls, quoted_id
    quoted = _s(data.get("quoted_status_id_str")) or _s(data.get("quoted_id"))
    for ref in _list(data.get("referenced_tweets")):
        if _map(ref).get("type") == "quoted" and not quoted:
            quoted = _s(_map(ref).get("id"))
    found = quote_targets(text, links=links)
    return _once(mentions), _once([tweet_uri(quoted) if quoted else "", *found])


def bluesky_record_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The post record inside what a Bluesky row keeps: a post view, getRecord, Jetstream."""
    for inner in (raw.get("record"), raw.get("value"), _map(raw.get("commit")).get("record")):
        if isinstance(inner, Mapping):
            return inner
    return raw


def refs_of(network: str, raw: Any) -> Refs:
    """Mentions and quote targets of a stored post's ``raw`` JSON (migration 5's backfill)."""
    if not isinstance(raw, Mapping):
        return _NONE
    if network == "bluesky":
        return bluesky_refs(bluesky_record_of(raw))
    if network == "mastodon":
        return mastodon_refs(raw)
    if network == "twitter":
        return tweet_refs(raw)
    return _NONE


__all__ = [
    "Refs",
    "bluesky_record_of",
    "bluesky_refs",
    "embedded_quote",
    "mastodon_refs",
    "refs_of",
    "tweet_refs",
]
