"""What a post shares besides its text: web links and attached media, from its raw JSON (pure).

The transcript document lists them per post (``links``, ``media``) so the
recap can count links by domain and media without the raw JSON.

- Links: http(s) addresses the post carries (Bluesky link facets and its link
  card, ``app.bsky.embed.external``; Mastodon's content links that are not
  mentions or hashtags, and its ``card``; a tweet's expanded URLs), once each,
  in order. Addresses of posts (bsky.app, Mastodon statuses, tweets) are
  quotes, stored apart (``quote_uris``), so they are not links here.
- Media: one entry per attachment, its kind (``image``, ``video``, ``gifv``,
  ``audio``, ...) and whether it has a description (alt text); no address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatbot.platforms.htmltext import html_links
from chatbot.text.bluesky import LINK
from chatbot.text.postrefs import bluesky_record_of
from chatbot.text.posturls import quote_target

__all__ = ["links_of", "media_of"]

_HTTP = ("http://", "https://")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _kept(urls: list[str]) -> list[str]:
    found: dict[str, None] = {}
    for url in urls:
        url = url.strip()
        if url.lower().startswith(_HTTP) and quote_target(url) is None:
            found.setdefault(url, None)
    return list(found)


def _bluesky_media(embed: Mapping[str, Any]) -> Mapping[str, Any]:
    """The media part of an embed (a quote with media nests it once)."""
    kind = _s(embed.get("$type"))
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return _map(embed.get("media"))
    return embed


def links_of(network: str, raw: Any) -> list[str]:
    """The web links a stored post's ``raw`` JSON shares, post addresses left out."""
    if not isinstance(raw, Mapping):
        return []
    if network == "bluesky":
        record = bluesky_record_of(raw)
        urls = [
            _s(feature.get("uri"))
            for facet in _list(record.get("facets"))
            for feature in _list(_map(facet).get("features"))
            if _s(_map(feature).get("$type")) == LINK
        ]
        card = _bluesky_media(_map(record.get("embed")))
        if _s(card.get("$type")).startswith("app.bsky.embed.external"):
            urls.append(_s(_map(card.get("external")).get("uri")))
        return _kept(urls)
    if network == "mastodon":
        urls = html_links(_s(raw.get("content")))
        urls.append(_s(_map(raw.get("card")).get("url")))
        return _kept(urls)
    if network == "twitter":
        entities = _map(_map(raw.get("extended_tweet")).get("entities")) or _map(
            raw.get("entities")
        )
        return _kept([_s(_map(u).get("expanded_url")) for u in _list(entities.get("urls"))])
    return []


def media_of(network: str, raw: Any) -> list[dict[str, Any]]:
    """The attachments of a stored post: ``{"type": ..., "alt": bool}`` each, in order."""
    if not isinstance(raw, Mapping):
        return []
    if network == "bluesky":
        media = _bluesky_media(_map(bluesky_record_of(raw).get("embed")))
        kind = _s(media.get("$type"))
        if kind.startswith("app.bsky.embed.images"):
            return [
                {"type": "image", "alt": bool(_s(_map(image).get("alt")).strip())}
                for image in _list(media.get("images"))
            ]
        if kind.startswith("app.bsky.embed.video"):
            return [{"type": "video", "alt": bool(_s(media.get("alt")).strip())}]
        return []
    if network == "mastodon":
        return [
            {
                "type": _s(_map(item).get("type")) or "unknown",
                "alt": bool(_s(_map(item).get("description")).strip()),
            }
            for item in _list(raw.get("media_attachments"))
        ]
    if network == "twitter":
        entities = _map(raw.get("extended_entities")) or _map(raw.get("entities"))
        return [
            {
                "type": {"photo": "image", "animated_gif": "gifv"}.get(
                    _s(_map(m).get("type")), _s(_map(m).get("type")) or "unknown"
                ),
                "alt": bool(_s(_map(m).get("ext_alt_text")).strip()),
            }
            for m in _list(entities.get("media"))
        ]
    return []
