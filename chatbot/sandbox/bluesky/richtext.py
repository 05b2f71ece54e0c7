"""Rich text: facets with UTF-8 byte offsets, grapheme counts, and the tags of a post."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import regex

FACET = "app.bsky.richtext.facet"
# A tag, mention or link starts a post or follows whitespace (or "(" for mentions/links).
_TAG_RE = regex.compile(r"(?:^|(?<=\s))[#＃]([^\s#＃]+)")
_MENTION_RE = regex.compile(
    r"(?:^|(?<=[\s(]))@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
_LINK_RE = regex.compile(r"(?:^|(?<=[\s(]))(https?://[^\s]+)")
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
_LINK_TRAILING = regex.compile(r"[.,;:!?\"')\]]+$")
MAX_TAG_GRAPHEMES = 64


def grapheme_length(text: str) -> int:
    """User-perceived characters, the unit of Bluesky's 300-character limit."""
    return len(regex.findall(r"\X", text))


def byte_length(text: str) -> int:
    return len(text.encode("utf-8"))


def _byte_slice(text: str, start: int, end: int) -> dict[str, int]:
    # Facet offsets count UTF-8 bytes, not code points: an emoji before a tag moves it by 4.
    byte_start = byte_length(text[:start])
    return {"byteStart": byte_start, "byteEnd": byte_start + byte_length(text[start:end])}


def _clean_tag(raw: str) -> str:
    return _TRAILING_PUNCT.sub("", raw)


def find_tags(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, tag)`` in code points for each ``#tag`` in text (end covers the tag)."""
    found = []
    for match in _TAG_RE.finditer(text):
        tag = _clean_tag(match.group(1))
        # Like the Bluesky app: no empty tags, no bare numbers ("#1"), at most 64 graphemes.
        if not tag or tag.isdigit() or grapheme_length(tag) > MAX_TAG_GRAPHEMES:
            continue
        start = match.start()
        found.append((start, start + 1 + len(tag), tag))
    return found


def make_facets(
    text: str, resolve_handle: Callable[[str], str | None] | None = None
) -> list[dict[str, Any]]:
    """Tag, mention and link facets of ``text``, sorted by position.

    Mentions whose handle ``resolve_handle`` can't turn into a DID are left out,
    as the Bluesky app does.
    """
    facets: list[dict[str, Any]] = []
    for start, end, tag in find_tags(text):
        facets.append(_facet(text, start, end, {"$type": f"{FACET}#tag", "tag": tag}))
    for match in _MENTION_RE.finditer(text):
        did = resolve_handle(match.group(1).lower()) if resolve_handle else None
        if did:
            feature = {"$type": f"{FACET}#mention", "did": did}
            facets.append(_facet(text, match.start(), match.end(), feature))
    for match in _LINK_RE.finditer(text):
        uri = _LINK_TRAILING.sub("", match.group(1))
        if len(uri) > len("https://"):
            start = match.start(1)
            feature = {"$type": f"{FACET}#link", "uri": uri}
            facets.append(_facet(text, start, start + len(uri), feature))
    return sorted(facets, key=lambda facet: facet["index"]["byteStart"])


def _facet(text: str, start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    return {"$type": FACET, "index": _byte_slice(text, start, end), "features": [feature]}


def record_tags(record: dict[str, Any]) -> set[str]:
    """Lower-cased tags of a post: tag facets, the ``tags`` field, and ``#tags`` in its text."""
    tags = {tag.lower() for _, _, tag in find_tags(str(record.get("text", "")))}
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") == f"{FACET}#tag" and isinstance(feature.get("tag"), str):
                tags.add(feature["tag"].lower())
    tags.update(str(tag).lower() for tag in record.get("tags") or [])
    return tags


def record_mentions(record: dict[str, Any]) -> set[str]:
    """DIDs mentioned by a post's facets."""
    dids = set()
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") == f"{FACET}#mention" and feature.get("did"):
                dids.add(str(feature["did"]))
    return dids


__all__ = [
    "byte_length",
    "find_tags",
    "grapheme_length",
    "make_facets",
    "record_mentions",
    "record_tags",
]
