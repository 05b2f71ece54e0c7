"""Reply trees: completeness, depths, orphans, bad data, deep chains, and conversation figures."""

from __future__ import annotations

import random
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.transcript import (
    ChatPost,
    attribute,
    build_forest,
    conversation_share,
    longest_threads,
    question_threads,
    reply_pairs,
    subtree,
)
from tests.transcript.util import HOST, post, question_posts, questions, uri


def name(full: str) -> str:
    return full.rsplit("/", 1)[1]


def test_children_are_sorted_by_time_and_depth_counts_from_the_root() -> None:
    posts = [
        post("root", 0, "A1: x"),
        post("late", 5, "b", author="bob", parent="root"),
        post("early", 2, "c", author="carol", parent="root"),
        post("deeper", 6, "d", parent="early"),
    ]
    forest = build_forest(posts)
    assert forest.roots == [uri("root")]
    assert [name(child) for child in forest.nodes[uri("root")].children] == ["early", "late"]
    assert forest.nodes[uri("deeper")].depth == 2
    assert [name(item) for item in subtree(forest, uri("root"))] == [
        "root",
        "early",
        "deeper",
        "late",
    ]


def test_orphans_are_roots_that_name_their_missing_parent() -> None:
    forest = build_forest([post("orphan", 3, "x", parent="gone")])
    node = forest.nodes[uri("orphan")]
    assert (node.parent, node.depth, node.notes) == (None, 0, ("parent_missing",))
    assert forest.missing_parents() == [uri("gone")]


def test_self_reply_and_cycles_terminate() -> None:
    selfish = ChatPost(
        "bluesky", uri("me"), "did:plc:a", post("x", 1).created_at, "", "a", uri("me")
    )
    cycle = [
        post("c1", 1, parent="c3"),
        post("c2", 2, parent="c1"),
        post("c3", 3, parent="c2"),
        post("below", 4, parent="c2"),
    ]
    forest = build_forest([selfish, *cycle])
    assert forest.nodes[uri("me")].notes == ("self_reply",)
    # the cycle is cut at its earliest post, whatever the input order
    assert forest.nodes[uri("c1")].notes == ("cycle",)
    assert forest.nodes[uri("c1")].parent is None
    assert forest.nodes[uri("below")].depth == 2
    assert sorted(forest.order) == sorted(item.uri for item in [selfish, *cycle])
    result = attribute(cycle, questions(), [HOST])
    assert set(result) == {item.uri for item in cycle}


def test_ten_thousand_deep_chain_without_recursion() -> None:
    depth = 10_000
    chain = [post("n0", 0, "A1: start")]
    chain += [post(f"n{i}", i / 1000, "and", parent=f"n{i - 1}") for i in range(1, depth)]
    random.Random(1).shuffle(chain)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # anything recursive would fail loudly
    try:
        forest = build_forest(chain)
        result = attribute(chain, questions(), [HOST], forest=forest)
        sizes = longest_threads(forest)
        walked = subtree(forest, uri("n0"))
    finally:
        sys.setrecursionlimit(limit)
    assert forest.nodes[uri(f"n{depth - 1}")].depth == depth - 1
    assert result[uri(f"n{depth - 1}")].question == "Q1"
    assert sizes[0].posts == depth and sizes[0].depth == depth - 1
    assert len(walked) == depth


def test_a_long_cycle_terminates() -> None:
    ring = [post(f"r{i}", i, parent=f"r{(i + 1) % 5000}") for i in range(5000)]
    forest = build_forest(ring)
    assert len(forest.order) == 5000
    assert forest.roots == [uri("r0")]
    assert forest.nodes[uri("r1")].depth == 4999


@st.composite
def graphs(draw: st.DrawFn) -> list[ChatPost]:
    """Random reply graphs: parents inside, outside, self and cycles all allowed."""
    count = draw(st.integers(1, 60))
    posts = []
    for index in range(count):
        target = draw(st.one_of(st.none(), st.integers(0, count + 2)))
        parent = None if target is None else f"g{target}"
        posts.append(post(f"g{index}", draw(st.integers(0, 30)), parent=parent))
    return posts


@settings(max_examples=200, deadline=None)
@given(posts=graphs(), seed=st.integers(0, 2**32))
def test_forest_properties(posts: list[ChatPost], seed: int) -> None:
    forest = build_forest(posts)
    uris = [item.uri for item in posts]
    assert sorted(forest.order) == sorted(uris)  # every post exactly once
    assert len(set(forest.order)) == len(uris)
    seen: set[str] = set()
    for item in forest.order:
        node = forest.nodes[item]
        if node.parent is None:
            assert node.depth == 0
        else:
            assert node.parent in seen  # parents come first
            assert node.depth == forest.nodes[node.parent].depth + 1
            assert item in forest.nodes[node.parent].children
        seen.add(item)
    children = [child for node in forest.nodes.values() for child in node.children]
    assert len(children) == len(set(children)) == len(uris) - len(forest.roots)
    random.Random(seed).shuffle(posts)
    again = build_forest(posts)
    assert again.order == forest.order
    assert {key: (n.parent, n.depth, n.notes) for key, n in again.nodes.items()} == {
        key: (n.parent, n.depth, n.notes) for key, n in forest.nodes.items()
    }


def test_question_threads_group_conversations_under_their_question() -> None:
    posts = [
        *question_posts(2),
        post("a", 1, "yes", parent="q1"),
        post("b", 2, "and", author="bob", parent="a"),
        post("c", 12, "A1: late, by hashtag"),
        post("d", 13, "A2 in Q1's thread", author="dan", parent="q1"),
    ]
    qs = questions(2)
    forest = build_forest(posts)
    result = attribute(posts, qs, [HOST], forest=forest)
    heads = question_threads(forest, result, [uri("q1"), uri("q2")])
    assert [name(item) for item in heads["Q1"]] == ["a", "c"]
    assert [name(item) for item in heads["Q2"]] == ["d"]


def test_reply_pairs_longest_threads_and_conversation_share() -> None:
    posts = [
        *question_posts(1),
        post("a", 1, "A1 x", author="alice", parent="q1"),
        post("b", 2, "y", author="bob", parent="a"),
        post("c", 3, "z", author="alice", parent="b"),
        post("d", 4, "w", author="bob", parent="c"),
        post("e", 5, "more", author="bob", parent="d"),  # to self
        post("f", 6, "lone", author="carol"),
    ]
    forest = build_forest(posts)
    pairs = [(p.from_handle, p.to_handle, p.count) for p in reply_pairs(posts, forest)]
    assert pairs == [
        ("bob.bsky.social", "alice.bsky.social", 2),
        ("alice.bsky.social", "bob.bsky.social", 1),
        ("alice.bsky.social", "host.bsky.social", 1),
    ]
    (biggest,) = longest_threads(forest)
    assert (name(biggest.root), biggest.posts, biggest.depth) == ("q1", 6, 5)
    share = conversation_share(posts, forest, [HOST], [uri("q1")])
    assert (share.participant_posts, share.to_participants, share.to_moderators, share.to_self) == (
        6,
        3,
        1,
        1,
    )
    assert share.ratio == 0.5
