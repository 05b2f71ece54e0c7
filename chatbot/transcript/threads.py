"""Reply trees over collected posts: parents, depths, children, orphans and broken cycles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, compress, count, islice
from operator import attrgetter, eq

from .model import Attribution, ChatPost, Forest, ThreadNode
from .perf import gc_paused

__all__ = ["build_forest", "question_threads", "ranked", "subtree"]


# attrgetter keeps sorting in C; aware datetimes compare exactly.
_by_time = attrgetter("created_at")
_by_uri = attrgetter("uri")


def ranked(posts: Iterable[ChatPost]) -> list[ChatPost]:
    """``posts`` sorted by time, then URI: a total order, whatever the input order."""
    result = sorted(posts, key=_by_time)
    times = [post.created_at for post in result]
    # Ties on time are rare: sort just those runs by URI, rather than every
    # post by a (time, URI) key, which costs twice as much. The ties are
    # found in one C-level pass (``index`` where the next post has the same
    # time), not a Python loop over every post.
    ties = compress(count(), map(eq, times, islice(times, 1, None)))
    done = 0  # the runs before this index are sorted
    for index in ties:
        if index < done:
            continue  # inside a run already sorted
        stop = index + 2
        while stop < len(result) and times[stop] == times[index]:
            stop += 1
        result[index:stop] = sorted(result[index:stop], key=_by_uri)
        done = stop
    return result


def build_forest(posts: Iterable[ChatPost]) -> Forest:
    """Arrange ``posts`` in reply trees; every post appears exactly once.

    A post whose parent was not collected is a root noted ``parent_missing``
    (with ``missing_parent`` set so the caller can fetch it); a post naming
    itself as parent is a root noted ``self_reply``; a cycle of bad data is
    cut at its earliest post, which becomes a root noted ``cycle``. Nothing
    here recurses, so a 10,000-deep chain is as safe as a flat one. Roots
    and children are in time order; of two copies of one URI the first wins
    (the store keeps one row per URI anyway).
    """
    with gc_paused():
        return _build(posts)


def _build(posts: Iterable[ChatPost]) -> Forest:
    by_uri: dict[str, ChatPost] = {}
    for post in posts:
        by_uri.setdefault(post.uri, post)
    nodes: dict[str, ThreadNode] = {}
    roots: list[str] = []
    children: dict[str, list[str]] = {}
    # Visiting posts in time order leaves every children list already sorted.
    for post in ranked(by_uri.values()):
        uri = post.uri
        parent = post.parent_uri
        if parent is None:
            nodes[uri] = ThreadNode(uri, None, 0, [])
            roots.append(uri)
        elif parent == uri:
            nodes[uri] = ThreadNode(uri, None, 0, [], ("self_reply",))
            roots.append(uri)
        elif parent not in by_uri:
            nodes[uri] = ThreadNode(uri, None, 0, [], ("parent_missing",), parent)
            roots.append(uri)
        else:
            nodes[uri] = ThreadNode(uri, parent, 0, [])
            siblings = children.get(parent)
            if siblings is None:
                children[parent] = [uri]
            else:
                siblings.append(uri)
    for parent, kids in children.items():
        nodes[parent].children = kids  # in time order already
    order: list[str] = []
    _walk(roots, nodes, children, order)
    if len(order) < len(nodes):
        _break_cycles(by_uri, nodes, children, order)
        roots = [
            post.uri for post in ranked(by_uri[uri] for uri in nodes if nodes[uri].parent is None)
        ]
    return Forest(nodes=nodes, roots=roots, order=order, posts=by_uri)


def _walk(
    starts: Sequence[str],
    nodes: dict[str, ThreadNode],
    children: Mapping[str, list[str]],
    order: list[str],
) -> None:
    # Breadth first, a level at a time: the order lists parents before
    # children, which is what attribution needs, and depth is the parent's
    # plus one (``starts`` are roots, at depth 0). A level's children are
    # gathered by C-level passes, as most posts have none: only the replies
    # are visited one by one, for their depth.
    get = children.get
    level = list(starts)
    depth = 0
    while level:
        order.extend(level)
        depth += 1
        level = list(chain.from_iterable(filter(None, map(get, level))))
        for kid in level:
            nodes[kid].depth = depth


def _break_cycles(
    by_uri: Mapping[str, ChatPost],
    nodes: dict[str, ThreadNode],
    children: Mapping[str, list[str]],
    order: list[str],
) -> None:
    # Posts not reached from any root lie on a cycle or hang below one. Each
    # such component holds exactly one cycle (every post has one parent):
    # follow parents until a post repeats, cut the cycle at its earliest post
    # so the result does not depend on input order, and walk from there.
    reached = set(order)
    pending = ranked(by_uri[uri] for uri in nodes if uri not in reached)
    for start in pending:
        if start.uri in reached:
            continue
        path: dict[str, None] = {}
        uri = start.uri
        while uri not in path:
            path[uri] = None
            parent = nodes[uri].parent
            assert parent is not None  # an unreached post always has a parent
            uri = parent
        members = list(path)
        cycle = members[members.index(uri) :]
        cut = ranked(by_uri[member] for member in cycle)[0].uri
        node = nodes[cut]
        siblings = children.get(node.parent or "")
        if siblings is not None:
            siblings.remove(cut)
        node.parent = None
        node.depth = 0
        node.notes = (*node.notes, "cycle")
        before = len(order)
        _walk([cut], nodes, children, order)
        reached.update(order[before:])


def subtree(forest: Forest, uri: str) -> list[str]:
    """``uri`` and everything below it, depth first in time order (no recursion)."""
    out: list[str] = []
    stack = [uri]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(forest.nodes[current].children))
    return out


def question_threads(
    forest: Forest,
    attributions: Mapping[str, Attribution],
    question_uris: Iterable[str] = (),
) -> dict[str | None, list[str]]:
    """Where each question's conversation starts: label -> thread-opening URIs.

    A post opens a thread under its question when its parent is absent, is a
    question post, or was attributed to another question; the question posts
    themselves are headings, not entries. Entries are in time order.
    """
    headings = set(question_uris)
    result: dict[str | None, list[str]] = {}
    for uri in forest.order:
        if uri in headings:
            continue
        attribution = attributions.get(uri)
        if attribution is not None and attribution.is_question:
            continue  # a heading
        label = attribution.question if attribution is not None else None
        parent = forest.nodes[uri].parent
        if parent is not None and parent not in headings:
            parent_attr = attributions.get(parent)
            parent_label = parent_attr.question if parent_attr is not None else None
            parent_is_question = parent_attr is not None and parent_attr.is_question
            if parent_label == label and not parent_is_question:
                continue
        result.setdefault(label, []).append(uri)
    posts = forest.posts
    return {
        label: [item.uri for item in ranked(posts[uri] for uri in uris)]
        for label, uris in result.items()
    }
