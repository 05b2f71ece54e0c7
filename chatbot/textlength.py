"""Post lengths counted the way Bluesky and Mastodon count them (pure)."""

from __future__ import annotations

import regex

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
MASTODON_URL_LENGTH = 23

_GRAPHEME = regex.compile(r"\X")

# Mastodon only shortens links written with their scheme (it extracts URLs
# with `extract_url_without_protocol: false`). Trailing punctuation is not part
# of the link, as in twitter-text, which Mastodon's extractor derives from.
_URL = regex.compile(r"(?<![\w/@.])https?://[^\s<>\"]+", regex.IGNORECASE)
_URL_TRAILING = ".,:;!?'\")]}"

# A remote mention `@user@example.social` counts only as `@user`: Mastodon
# rewrites each mention to its local part before counting.
_MENTION = regex.compile(r"(?<![\w/@])@(?P<user>\w+(?:[\w.-]*\w)?)@[\w.-]*\w", regex.IGNORECASE)


def grapheme_count(text: str) -> int:
    """Count extended grapheme clusters: what a reader sees as one character."""
    return len(_GRAPHEME.findall(text))


def bluesky_length(text: str) -> tuple[int, int]:
    """Return ``(graphemes, utf8_bytes)`` of a Bluesky post's text."""
    return grapheme_count(text), len(text.encode("utf-8", "surrogatepass"))


def _shorten_url(match: regex.Match[str]) -> str:
    url = match.group(0)
    stripped = url.rstrip(_URL_TRAILING)
    # Keep a closing parenthesis that balances one inside the link (Wikipedia style).
    while (
        stripped != url and url[len(stripped)] == ")" and stripped.count("(") > stripped.count(")")
    ):
        stripped += ")"
    tail = url[len(stripped) :]
    if stripped.endswith("://"):
        return url  # a bare scheme is not a link
    return "x" * MASTODON_URL_LENGTH + tail


def mastodon_length(text: str) -> int:
    """Return the length Mastodon's server checks against ``max_characters``.

    Mastodon's StatusLengthValidator replaces each http(s) URL by 23
    characters and each ``@user@domain`` mention by ``@user``, then counts
    grapheme clusters (not code points): a family emoji is 1.
    """
    countable = _URL.sub(_shorten_url, text)
    countable = _MENTION.sub(lambda m: "@" + m.group("user"), countable)
    return grapheme_count(countable)
