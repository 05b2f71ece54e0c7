"""Untrusted post content to safe HTML: an nh3 allow-list for Mastodon, escaping for Bluesky."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlsplit

import nh3
from markupsafe import Markup

__all__ = ["LINK_REL", "bluesky_html", "mastodon_html", "public_url", "safe_url"]

LINK_REL = "nofollow ugc noopener"
LINK_FEATURE = "app.bsky.richtext.facet#link"

# What a Mastodon status may keep: text formatting and links, nothing that
# loads, runs or styles. Every attribute not listed here is dropped.
_TAGS = {"p", "br", "a", "span", "strong", "b", "em", "i", "u", "s", "del", "code", "pre"}
_TAGS |= {"blockquote", "ul", "ol", "li"}


def _keep(tag: str, attribute: str, value: str) -> str | None:
    # url_schemes only judges absolute URLs: relative ones ("/x", "#y") go too.
    if attribute == "href":
        return public_url(value)
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style", "template", "noscript", "title", "textarea"},
    attributes={"a": {"href"}, "*": set()},  # "*": no lang/title on every tag
    allowed_classes={"span": {"invisible", "ellipsis"}},
    url_schemes={"http", "https"},
    link_rel=LINK_REL,
    strip_comments=True,
    attribute_filter=_keep,
)


# An absolute http(s) URL with a host, and nothing that could leave an attribute.
_WEB_URL = re.compile(r"https?://[^/\s\"'<>`\\\x00-\x20\x7f][^\s\"'<>`\\\x00-\x20\x7f]*", re.I)


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL without control characters, else ``None``."""
    if isinstance(url, str) and _WEB_URL.fullmatch(url):
        return url
    return None


# Names that never reach a public server: a link to one is dead for every reader.
_LOCAL_SUFFIXES = (".localhost", ".test", ".invalid", ".local", ".internal", ".home.arpa")


_SIMPLE_HOST = re.compile(r"https?://([a-z0-9.-]+)(?::\d{1,5})?(?:[/?#]|$)", re.I)


def _public_host(host: str) -> bool:
    host = host.rstrip(".").lower()
    if not host or host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return False
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        try:  # browsers read "127.1", "2130706433" and "0x7f.1" as IPv4 too
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return True  # a domain name
    return address.is_global


def public_url(url: object) -> str | None:
    """``url`` if :func:`safe_url` keeps it and its host is on the public internet.

    Loopback, private and link-local addresses and the reserved local names
    (``localhost``, ``*.test``, ...) are dropped: the sandbox's
    ``http://127.0.0.1:.../`` pages die with the sandbox, so a published page
    never links to them.
    """
    found = safe_url(url)
    if found is None:
        return None
    simple = _SIMPLE_HOST.match(found)
    if simple is not None:  # most addresses: no brackets, no user, no odd port
        host: str | None = simple.group(1)
    else:
        try:
            host = urlsplit(found).hostname
        except ValueError:
            return None
    return found if host and _public_host(host) else None


def mastodon_html(html: str) -> Markup:
    """Mastodon's status HTML through the allow-list; links keep only http(s) hrefs."""
    cleaned = _CLEANER.clean(html)
    return Markup(cleaned)


def _link(url: str, text: str) -> str:
    return f'<a href="{escape(url)}" rel="{LINK_REL}">{escape(text)}</a>'


def _text(piece: str) -> str:
    return escape(piece).replace("\n", "<br>")


def bluesky_html(text: str, facets: Sequence[Mapping[str, Any]] = ()) -> Markup:
    """Bluesky text escaped, with link facets made links when they point to http(s) URLs.

    Facets index UTF-8 bytes; overlapping, out-of-range or non-link facets
    leave the text as it is.
    """
    data = text.encode("utf-8", "surrogatepass")
    links: list[tuple[int, int, str]] = []
    for facet in facets:
        if not isinstance(facet, Mapping):
            continue
        index = facet.get("index")
        if not isinstance(index, Mapping):
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        if not 0 <= start < end <= len(data):
            continue
        for feature in facet.get("features") or ():
            if not isinstance(feature, Mapping) or feature.get("$type") != LINK_FEATURE:
                continue
            url = public_url(feature.get("uri"))
            if url is not None:
                links.append((start, end, url))
                break
    links.sort()
    out: list[str] = []
    at = 0
    for start, end, url in links:
        if start < at:
            continue  # overlaps the previous link
        out.append(_text(data[at:start].decode("utf-8", "replace")))
        out.append(_link(url, data[start:end].decode("utf-8", "replace")))
        at = end
    out.append(_text(data[at:].decode("utf-8", "replace")))
    return Markup("".join(out))
