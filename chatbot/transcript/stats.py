"""Conversation figures from the reply forest: who replied to whom, longest threads, ratios."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import ChatPost, Forest, ModeratorAccount
from .questions import is_moderator, moderator_keys

__all__ = [
    "ConversationShare",
    "ReplyPair",
    "ThreadSize",
    "conversation_share",
    "longest_threads",
    "reply_pairs",
]


@dataclass(frozen=True, slots=True)
class ReplyPair:
    """``count`` replies by one account to another (self-replies excluded)."""

    network: str
    from_id: str
    from_handle: str
    to_id: str
    to_handle: str
    count: int


@dataclass(frozen=True, slots=True)
class ThreadSize:
    """One reply tree: its root, how many posts it holds and how deep it goes."""

    root: str
    posts: int
    depth: int  # deepest reply's depth; 0 for a lone post


@dataclass(frozen=True, slots=True)
class ConversationShare:
    """How much of the participants' talk went to each other rather than the host."""

    participant_posts: int
    to_participants: int  # replies to another participant
    to_moderators: int  # replies to a moderator's post
    to_self: int  # continuing one's own thread

    @property
    def ratio(self) -> float:
        """Share of participants' posts that reply to another participant (0..1)."""
        return self.to_participants / self.participant_posts if self.participant_posts else 0.0


def _index(posts: Iterable[ChatPost]) -> dict[str, ChatPost]:
    by_uri: dict[str, ChatPost] = {}
    for post in posts:
        by_uri.setdefault(post.uri, post)
    return by_uri


def reply_pairs(posts: Iterable[ChatPost], forest: Forest) -> list[ReplyPair]:
    """Who replied to whom and how often, most frequent first (ties by ids)."""
    by_uri = _index(posts)
    counts: Counter[tuple[str, str, str]] = Counter()
    handles: dict[tuple[str, str], str] = {}
    for uri, node in forest.nodes.items():
        if node.parent is None:
            continue
        post, parent = by_uri[uri], by_uri[node.parent]
        if post.author_id == parent.author_id:
            continue
        counts[(post.network, post.author_id, parent.author_id)] += 1
        handles[(post.network, post.author_id)] = post.author_handle
        handles[(post.network, parent.author_id)] = parent.author_handle
    pairs = [
        ReplyPair(net, src, handles[(net, src)], dst, handles[(net, dst)], count)
        for (net, src, dst), count in counts.items()
    ]
    pairs.sort(key=lambda pair: (-pair.count, pair.network, pair.from_id, pair.to_id))
    return pairs


def longest_threads(forest: Forest, limit: int = 5) -> list[ThreadSize]:
    """The ``limit`` biggest reply trees (posts, then depth), lone posts left out."""
    # forest.order is breadth first across all trees with parents before
    # children, so one pass finds every post's root without recursion.
    root_of: dict[str, str] = {}
    size: Counter[str] = Counter()
    deepest: dict[str, int] = {}
    for uri in forest.order:
        node = forest.nodes[uri]
        root = uri if node.parent is None else root_of[node.parent]
        root_of[uri] = root
        size[root] += 1
        if node.depth > deepest.get(root, 0):
            deepest[root] = node.depth
    sizes = [ThreadSize(root, count, deepest.get(root, 0)) for root, count in size.items()]
    sizes = [entry for entry in sizes if entry.posts > 1]
    sizes.sort(key=lambda entry: (-entry.posts, -entry.depth, entry.root))
    return sizes[:limit]


def conversation_share(
    posts: Iterable[ChatPost],
    forest: Forest,
    moderators: Iterable[ModeratorAccount],
    question_uris: Mapping[str, str] | Iterable[str] = (),
) -> ConversationShare:
    """Count participants' replies by whom they answer.

    A reply to a question post counts as a reply to the moderators even when
    the question post itself was not collected.
    """
    by_uri = _index(posts)
    mods = moderator_keys(moderators)
    questions = set(question_uris)
    total = to_people = to_mods = to_self = 0
    for uri, post in by_uri.items():
        if is_moderator(post, mods):
            continue
        total += 1
        parent_uri = forest.nodes[uri].parent
        if parent_uri is None:
            if post.parent_uri is not None and post.parent_uri in questions:
                to_mods += 1
            continue
        parent = by_uri[parent_uri]
        if parent.author_id == post.author_id:
            to_self += 1
        elif parent_uri in questions or is_moderator(parent, mods):
            to_mods += 1
        else:
            to_people += 1
    return ConversationShare(total, to_people, to_mods, to_self)
