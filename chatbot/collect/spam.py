"""Spam flags from simple, explainable rules: stuffing, copies, drive-by link posts, lists."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

STUFFING_TAGS = 4  # other hashtags than the event's; real chats' answers carry one or two
DRIVE_BY_WORDS = 12  # a link post with at most this many words of its own
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NOISE = re.compile(r"(?:https?://\S+|[@#][\w.\-]+)", re.UNICODE)


@dataclass(frozen=True)
class SpamInput:
    """What the rules look at in one post."""

    uri: str
    author: str  # network + account id: one key per account
    handle: str
    created_at: datetime
    text: str
    tags: tuple[str, ...] = ()
    has_link: bool = False
    parent_uri: str | None = None
    quote_uri: str | None = None
    answers: bool = False  # carries an answer prefix ("A1 ...")
    moderator: bool = False  # the bot's or a moderator's own post


def own_words(text: str) -> list[str]:
    """The words of a post that are not links, mentions or hashtags."""
    return _WORD.findall(_NOISE.sub(" ", text))


def has_link(text: str) -> bool:
    return _URL.search(text) is not None


def _fingerprint(text: str) -> str:
    words = [word.lower() for word in own_words(text)]
    return " ".join(words) if len(words) >= 4 else ""


def classify(
    posts: Sequence[SpamInput],
    hashtag: str,
    *,
    block: Iterable[str] = (),
    allow: Iterable[str] = (),
) -> dict[str, str]:
    """The spam reason of every post judged spam, by URI (the others are not listed).

    Rules, each explainable in the reason: an author on the block list; an
    author on the allow list is never spam; hashtag stuffing; the same text
    with a link from several accounts (or a copy of someone else's post with
    a link added); a link post from an account that takes no other part (no
    answer, no reply given or received, nothing without a link).
    """
    blocked = {_handle(h) for h in block}
    allowed = {_handle(h) for h in allow}
    event_tag = hashtag.lstrip("#").lower()
    reasons: dict[str, str] = {}
    by_author: dict[str, list[SpamInput]] = defaultdict(list)
    for post in posts:
        by_author[post.author].append(post)
    engaged = _engaged_authors(posts)

    def mark(post: SpamInput, reason: str) -> None:
        if post.moderator or _handle(post.handle) in allowed or post.uri in reasons:
            return
        reasons[post.uri] = reason

    for post in posts:
        if _handle(post.handle) in blocked:
            mark(post, "blocked account")
        others = {t.lower() for t in post.tags} - {event_tag}
        if len(others) >= STUFFING_TAGS:
            mark(post, f"hashtag stuffing ({len(others) + 1} hashtags)")

    groups: dict[str, list[SpamInput]] = defaultdict(list)
    for post in posts:
        key = _fingerprint(post.text)
        if key:
            groups[key].append(post)
    for group in groups.values():
        authors = {post.author for post in group}
        if len(authors) < 2:
            continue
        first = min(group, key=lambda p: (p.created_at, p.uri))
        for post in group:
            if not post.has_link:
                continue
            if first.has_link:
                mark(post, f"same text with a link from {len(authors)} accounts")
            elif post.author != first.author:
                mark(post, "copy of another account's post with a link added")

    for author, own in by_author.items():
        if author in engaged or not all(post.has_link for post in own):
            continue
        for post in own:
            if len(own_words(post.text)) <= DRIVE_BY_WORDS:
                mark(post, "link post from an account that takes no other part")
    return reasons


def _engaged_authors(posts: Sequence[SpamInput]) -> set[str]:
    """Authors who answer, reply, quote, or whom someone else replies to or quotes."""
    author_of = {post.uri: post.author for post in posts}
    engaged: set[str] = set()
    for post in posts:
        if post.answers or post.parent_uri or post.quote_uri:
            engaged.add(post.author)
        for target in (post.parent_uri, post.quote_uri):
            other = author_of.get(target or "")
            if other is not None and other != post.author:
                engaged.add(other)
    return engaged


def _handle(handle: str) -> str:
    return handle.lstrip("@").lower()


__all__ = ["SpamInput", "classify", "has_link", "own_words"]
