"""How Mastodon reads a status's text: its links, hashtags and mentions, and its length (pure).

One implementation for both sides: the bot's length check before posting
(:mod:`chatbot.text.length`) and the sandbox server's validator and HTML
renderer (``chatbot.sandbox.mastodon.render``), so the two can't disagree on
what counts as a link. The patterns follow Mastodon's extractor (twitter-text
derived), simplified; the sandbox's faithfulness tests hold them to recorded
statuses.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from chatbot.text.unicode import grapheme_count

CHARACTERS_RESERVED_PER_URL = 23  # every link counts as this many, whatever its length

# Mastodon's extractor patterns, simplified: a tag needs at least one letter or underscore
# (so "#1" is not a tag) and must not follow a word character, "=", "/" or ")" (so URL
# fragments and "a#b" are not tags). Mastodon also allows "·", "・" and ZWNJ inside a tag.
_TAG_MIDDLE = r"[[:word:]_\u00b7\u30fb\u200c]"
HASHTAG_RE = regex.compile(
    rf"(?<![=/)\p{{Alnum}}])#((?:[[:word:]_]{_TAG_MIDDLE}*)?[[:alpha:]_](?:{_TAG_MIDDLE}*[[:word:]_])?)",
    regex.IGNORECASE,
)
MENTION_RE = regex.compile(
    r"(?<![=/[:word:]])@(([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@([[:word:].-]+[[:word:]]+))?)",
    regex.IGNORECASE,
)
# Only URLs with a scheme are linked (Mastodon passes extract_url_without_protocol: false).
URL_RE = regex.compile(
    r"(?<![\w@$#/])(https?://[^\s<>\"'/?#]+(?:[/?#][^\s<>\"]*)?)", regex.IGNORECASE
)
_TRAILING_PUNCTUATION = ".,:;!?'\"*"


@dataclass(frozen=True)
class Entity:
    kind: str  # "url", "hashtag" or "mention"
    start: int
    end: int
    value: str  # the URL, the tag name, or the mention without "@"


def _trim_url(url: str) -> str:
    # A sentence's closing punctuation or an unbalanced ")" is not part of the link.
    while url and (
        url[-1] in _TRAILING_PUNCTUATION or (url[-1] == ")" and url.count("(") < url.count(")"))
    ):
        url = url[:-1]
    return url


def extract_entities(text: str) -> list[Entity]:
    """URLs, hashtags and mentions in ``text``, in order, never overlapping (URLs win)."""
    found: list[Entity] = []
    for match in URL_RE.finditer(text):
        url = _trim_url(match.group(1))
        if len(url) > len("https://"):
            found.append(Entity("url", match.start(1), match.start(1) + len(url), url))
    for match in HASHTAG_RE.finditer(text):
        found.append(Entity("hashtag", match.start(), match.end(), match.group(1)))
    for match in MENTION_RE.finditer(text):
        found.append(Entity("mention", match.start(), match.end(), match.group(1)))
    order = {"url": 0, "mention": 1, "hashtag": 2}
    found.sort(key=lambda e: (e.start, order[e.kind]))
    result: list[Entity] = []
    for entity in found:
        if result and entity.start < result[-1].end:
            continue
        result.append(entity)
    return result


def countable_length(text: str, spoiler_text: str = "") -> int:
    """Length as Mastodon's validator counts it: graphemes; a URL is 23; @user@host is @user."""
    pieces: list[str] = []
    last = 0
    for entity in extract_entities(text):
        if entity.kind == "hashtag":
            continue
        pieces.append(text[last : entity.start])
        if entity.kind == "url":
            pieces.append("x" * CHARACTERS_RESERVED_PER_URL)
        else:
            pieces.append("@" + entity.value.split("@")[0])
        last = entity.end
    pieces.append(text[last:])
    return grapheme_count(spoiler_text + "".join(pieces))


__all__ = [
    "CHARACTERS_RESERVED_PER_URL",
    "HASHTAG_RE",
    "MENTION_RE",
    "URL_RE",
    "Entity",
    "countable_length",
    "extract_entities",
]
