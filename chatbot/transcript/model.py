"""Input and output records of the transcript core (pure data; ids are strings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

# "assigned": set by a moderator in review (``chatbot assign``), not by the evidence;
# "moderator": the moderators' own posts (questions, follow-ups, wrap-up);
# "words": shares the telling words of one question; "continues": carries on
# its author's answer of minutes ago; "aside": housekeeping or small talk,
# judged to answer nothing (see evidence.py for every kind).
Method = Literal[
    "assigned",
    "moderator",
    "prefix",
    "thread",
    "quote",
    "reply",
    "mention",
    "words",
    "continues",
    "time",
    "aside",
    "none",
]
METHODS: tuple[Method, ...] = get_args(Method)  # strongest evidence first


@dataclass(frozen=True, slots=True)
class ChatQuestion:
    """One question of the chat as it was posted, e.g. Q2 or Q2a.

    ``posted_at`` and ``uris`` are keyed by network name; a question not (yet)
    posted on a network simply has no entry for it. ``due_at`` is when the
    plan now has it due (after live delays): its time window opens then on a
    network it has not been posted on.
    """

    number: int
    suffix: str = ""
    text: str = ""
    posted_at: Mapping[str, datetime] = field(default_factory=dict)
    uris: Mapping[str, str] = field(default_factory=dict)
    due_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"Q{self.number}{self.suffix}"


@dataclass(frozen=True, slots=True)
class ModeratorAccount:
    """An account whose posts are the chat's own (questions, follow-ups, wrap-up)."""

    network: str
    account_id: str = ""
    handle: str = ""


@dataclass(frozen=True, slots=True)
class ChatPost:
    """A collected post, normalised by the caller.

    ``uri`` identifies the post across the whole collection: at:// URIs on
    Bluesky and status URIs on Mastodon never collide. ``parent_uri`` and
    ``root_uri`` use the same form (the caller maps Mastodon's
    ``in_reply_to_id`` to a URI). ``created_at`` is timezone-aware UTC.
    """

    network: str
    uri: str
    author_id: str
    created_at: datetime
    text: str = ""
    author_handle: str = ""
    parent_uri: str | None = None
    root_uri: str | None = None
    quote_uri: str | None = None
    mentions: tuple[str, ...] = ()  # handles or account ids, with or without '@'
    tags: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()


@dataclass(slots=True)
class Attribution:
    """Which question a post answers, how we know, and how sure we are."""

    uri: str
    question: str | None  # the first label, e.g. "Q2"
    questions: tuple[str, ...]  # every label, in the order the post gives them
    method: Method
    confidence: float  # 0..1
    is_question: bool = False  # the post is one of the moderator's question posts
    # The post the evidence came from: the parent replied to, the post quoted,
    # the post answered by @names, the author's own answer carried on.
    via: str | None = None


@dataclass(slots=True)
class ThreadNode:
    """A post's place in its reply tree (parents and children are in the collection)."""

    uri: str
    parent: str | None
    depth: int
    children: list[str]
    notes: tuple[str, ...] = ()  # "parent_missing", "self_reply", "cycle"
    missing_parent: str | None = None  # the parent URI that was not collected


@dataclass(slots=True)
class Forest:
    """Every collected post exactly once, arranged in reply trees."""

    nodes: dict[str, ThreadNode]
    roots: list[str]  # sorted by time, then URI
    order: list[str]  # parents before children (breadth first from the roots)
    posts: dict[str, ChatPost]  # the posts it was built from, by URI

    def missing_parents(self) -> list[str]:
        """URIs of parents that were referred to but not collected (to fetch)."""
        seen: dict[str, None] = {}
        for uri in self.roots:
            missing = self.nodes[uri].missing_parent
            if missing is not None:
                seen.setdefault(missing, None)
        return list(seen)


@dataclass(slots=True)
class Transcript:
    """Attribution and threading of one chat's posts."""

    attributions: dict[str, Attribution]
    forest: Forest
    questions: tuple[ChatQuestion, ...]


__all__ = [
    "METHODS",
    "Attribution",
    "ChatPost",
    "ChatQuestion",
    "Forest",
    "Method",
    "ModeratorAccount",
    "ThreadNode",
    "Transcript",
]
