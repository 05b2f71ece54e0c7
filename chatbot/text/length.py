"""Post lengths counted the way Bluesky and Mastodon count them (pure)."""

from __future__ import annotations

from chatbot.text.mastodon import CHARACTERS_RESERVED_PER_URL, countable_length
from chatbot.text.unicode import grapheme_count, utf8_length

__all__ = [
    "BLUESKY_MAX_BYTES",
    "BLUESKY_MAX_GRAPHEMES",
    "MASTODON_DEFAULT_LIMIT",
    "MASTODON_URL_LENGTH",
    "bluesky_length",
    "grapheme_count",
    "mastodon_length",
]

# app.bsky.feed.post's lexicon caps `text` at both of these; whichever is hit
# first rejects the post, so a text of 4-byte characters fails on bytes first.
BLUESKY_MAX_GRAPHEMES = 300
BLUESKY_MAX_BYTES = 3000

# Mastodon's default `max_characters`; instances may raise it.
MASTODON_DEFAULT_LIMIT = 500
# `characters_reserved_per_url`: every link counts as this many, whatever its length.
MASTODON_URL_LENGTH = CHARACTERS_RESERVED_PER_URL


def bluesky_length(text: str) -> tuple[int, int]:
    """Return ``(graphemes, utf8_bytes)`` of a Bluesky post's text."""
    return grapheme_count(text), utf8_length(text)


def mastodon_length(text: str) -> int:
    """Return the length Mastodon's server checks against ``max_characters``.

    Mastodon's StatusLengthValidator replaces each http(s) URL by 23
    characters and each ``@user@domain`` mention by ``@user``, then counts
    grapheme clusters (not code points): a family emoji is 1. The links and
    mentions are found as the sandbox server finds them (one extractor,
    :mod:`chatbot.text.mastodon`).
    """
    return countable_length(text)
