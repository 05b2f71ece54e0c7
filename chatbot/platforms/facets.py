"""Bluesky rich-text facets (hashtags, mentions, links) over UTF-8 byte ranges (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import regex

FACET = "app.bsky.richtext.facet"
TAG = "app.bsky.richtext.facet#tag"
MENTION = "app.bsky.richtext.facet#mention"
LINK = "app.bsky.richtext.facet#link"

# Bluesky's lexicon caps a tag at 64 graphemes / 640 bytes.
MAX_TAG_LENGTH = 64

# Characters that never belong to a tag though they are not whitespace.
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2\ufeff"
_TAG = regex.compile(rf"(?:^|(?<=\s))[#＃](?P<body>[^\s{_INVISIBLE}]+)")
_MENTION = regex.compile(
    r"(?:^|(?<=[\s(]))@(?P<handle>[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+)"
)
_LINK = regex.compile(r"(?:^|(?<=[\s(\[{<\"']))https?://[^\s<>\"]+", regex.IGNORECASE)
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
_LINK_TRAILING = ".,:;!?'\")]}"


@dataclass(frozen=True)
class Span:
    """One facet candidate: ``kind`` is tag, mention or link; offsets are UTF-8 bytes."""

    kind: str
    byte_start: int
    byte_end: int
    value: str  # tag without '#', handle without '@', or the URL


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of the character at ``index``."""
    return len(text[:index].encode("utf-8", "surrogatepass"))


def find_spans(text: str) -> list[Span]:
    """Every hashtag, mention and http(s) link in ``text``, sorted by position."""
    spans = _links(text)
    taken = [(s.byte_start, s.byte_end) for s in spans]

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for span in _tags(text) + _mentions(text):
        if free(span.byte_start, span.byte_end):
            spans.append(span)
            taken.append((span.byte_start, span.byte_end))
    return sorted(spans, key=lambda s: s.byte_start)


def _tags(text: str) -> list[Span]:
    found = []
    for match in _TAG.finditer(text):
        body = _TRAILING_PUNCT.sub("", match.group("body"))
        if not body or body.isdigit() or len(body) > MAX_TAG_LENGTH:
            continue
        start = match.start()
        end = match.start("body") + len(body)
        found.append(Span("tag", byte_offset(text, start), byte_offset(text, end), body))
    return found


def _mentions(text: str) -> list[Span]:
    found = []
    for match in _MENTION.finditer(text):
        handle = match.group("handle")
        tld = handle.rsplit(".", 1)[-1]
        if not tld[:1].isalpha():
            continue
        start, end = match.start(), match.end()
        found.append(Span("mention", byte_offset(text, start), byte_offset(text, end), handle))
    return found


def _links(text: str) -> list[Span]:
    found = []
    for match in _LINK.finditer(text):
        url = match.group(0)
        stripped = url.rstrip(_LINK_TRAILING)
        # Keep a ")" that closes a "(" inside the link (Wikipedia-style URLs).
        while (
            stripped != url
            and url[len(stripped)] == ")"
            and stripped.count("(") > stripped.count(")")
        ):
            stripped += ")"
        if stripped.lower() in ("http://", "https://") or stripped.endswith("://"):
            continue
        start = match.start()
        found.append(
            Span(
                "link",
                byte_offset(text, start),
                byte_offset(text, start + len(stripped)),
                stripped,
            )
        )
    return found


def build_facets(
    text: str, resolve_handle: Callable[[str], str | None] | None = None
) -> list[dict[str, Any]]:
    """Facets for ``text`` as lexicon JSON.

    ``resolve_handle`` turns a handle into a DID; mentions it can't resolve (or
    all mentions, without it) stay plain text, as on bsky.app.
    """
    facets = []
    for span in find_spans(text):
        if span.kind == "tag":
            feature: dict[str, Any] = {"$type": TAG, "tag": span.value}
        elif span.kind == "link":
            feature = {"$type": LINK, "uri": span.value}
        else:
            did = resolve_handle(span.value) if resolve_handle else None
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
    """Pair each facet with the text its byte range covers (for reading posts back)."""
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
    "LINK",
    "MENTION",
    "TAG",
    "Span",
    "build_facets",
    "byte_offset",
    "facet_slices",
    "find_spans",
]
