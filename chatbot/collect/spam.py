"""Spam flags from simple, explainable rules: stuffing, copies, drive-by link posts, lists."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from chatbot.collect.copies import IDENTICAL_MIN_WORDS, NEAR_JACCARD, copy_groups, normalise

STUFFING_TAGS = 4  # other hashtags than the event's; real chats' answers carry one or two
DRIVE_BY_WORDS = 12  # a link post with at most this many words of its own
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NOISE = re.compile(r"(?:https?://\S+|[@#][\w.\-]+)", re.UNICODE)


@dataclass(frozen=True, slots=True)
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
    a link added); the same or nearly the same text from several accounts,
    with or without a link (see ``chatbot.collect.copies`` for the thresholds);
    a link post from an account that takes no other part (no answer, no reply
    given or received, nothing without a link). The bot's, the moderators' and
    the co-hosts' posts (``moderator``) are never spam; someone else's copy of
    their text is (content-copying accounts copy the hosts' posts too).
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

    # Only a group with a link post in it can mark anything: the others are not kept.
    linked = {key for post in posts if post.has_link and (key := _fingerprint(post.text))}
    groups: dict[str, list[SpamInput]] = defaultdict(list)
    for post in posts:
        key = _fingerprint(post.text) if linked else ""
        if key in linked:
            groups[key].append(post)
    del linked
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

    del groups
    copies = _several_accounts(posts, _engaged_authors(posts, replying=False))
    for post in posts:
        if post.uri in copies:
            mark(post, copies[post.uri])

    for author, own in by_author.items():
        if author in engaged or not all(post.has_link for post in own):
            continue
        for post in own:
            if len(own_words(post.text)) <= DRIVE_BY_WORDS:
                mark(post, "link post from an account that takes no other part")
    return reasons


def _several_accounts(posts: Sequence[SpamInput], engaged: set[str]) -> dict[str, str]:
    """By URI, posts whose text, normalised, several accounts posted.

    When the first of them is by a host, or by someone who answers or whom
    others reply to or quote, that one is the original being copied: its
    author's posts stay.
    (Replying alone doesn't count: reply spam is common.)
    """
    found: dict[str, str] = {}
    for indices, near in copy_groups(normalise(post.text) for post in posts):
        group = [posts[index] for index in indices]
        authors = {post.author for post in group}
        if len(authors) < 2:
            continue
        first = min(group, key=lambda p: (p.created_at, p.uri))
        how = "nearly the same text" if near else "same text"
        at = first.created_at
        when = (at.astimezone(UTC) if at.tzinfo else at).strftime("%Y-%m-%d %H:%M UTC")
        reason = f"{how} from {len(authors)} accounts (first by @{_shown(first)} at {when})"
        for post in group:
            if post.author != first.author or not (first.moderator or first.author in engaged):
                found[post.uri] = reason
    return found


def _shown(post: SpamInput) -> str:
    return post.handle.lstrip("@") or post.author


def _engaged_authors(posts: Sequence[SpamInput], *, replying: bool = True) -> set[str]:
    """Authors who answer, reply, quote, or whom someone else replies to or quotes."""
    author_of = {post.uri: post.author for post in posts}
    engaged: set[str] = set()
    for post in posts:
        # A quote counts only when it quotes a post of the chat: any post address in
        # a text is a quote target now, and a spammer's link to some post is not taking part.
        quotes_chat = post.quote_uri is not None and post.quote_uri in author_of
        if post.answers or (replying and (post.parent_uri or quotes_chat)):
            engaged.add(post.author)
        for target in (post.parent_uri, post.quote_uri):
            other = author_of.get(target or "")
            if other is not None and other != post.author:
                engaged.add(other)
    return engaged


def _handle(handle: str) -> str:
    return handle.lstrip("@").lower()


__all__ = [
    "IDENTICAL_MIN_WORDS",
    "NEAR_JACCARD",
    "SpamInput",
    "classify",
    "has_link",
    "normalise",
    "own_words",
]
