"""Threads as the AppView shows them: order, depth, deleted and missing posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatbot.collect.sources import reply_count
from chatbot.collect.threadfill import Ledger, complete
from chatbot.platforms.base import RemoteRef
from chatbot.platforms.bluesky import THREAD_DEPTH, BlueskyPlatform
from chatbot.platforms.keys import post_key

from .conftest import Target, eventually


@dataclass
class Scene:
    """question <- a <- b <- c, and question <- z (the newest), by three accounts."""

    target: Target
    bot: BlueskyPlatform
    ann: BlueskyPlatform
    refs: dict[str, RemoteRef]

    def raw_thread(self, name: str, **params: Any) -> dict[str, Any]:
        uri = self.refs[name].uri
        answer = self.target.query(
            self.bot.client(), "app.bsky.feed.getPostThread", uri=uri, **params
        )
        return answer["thread"]  # type: ignore[no-any-return]

    def replies_indexed(self) -> bool:
        return len(self.bot.thread(self.refs["q"]).replies) == 4


def scene(target: Target, tag: str) -> Scene:
    def key(post: str) -> str:
        return post_key(tag, post, datetime.now(UTC).replace(microsecond=0))

    bot, ann, ben = (target.platform(target.create_account(n)) for n in ("bot", "ann", "ben"))
    q = bot.post(f"Q1 #{tag}", key=key("q1"))
    a = ann.post("a", key=key("a"), reply_to=q)
    b = ben.post("b", key=key("b"), reply_to=a, root=q)
    c = ann.post("c", key=key("c"), reply_to=b, root=q)
    z = ben.post("z", key=key("z"), reply_to=q)
    return Scene(target, bot, ann, {"q": q, "a": a, "b": b, "c": c, "z": z})


def texts(node: dict[str, Any]) -> list[Any]:
    """The reply tree of a raw thread node as nested [text, [children]]."""
    return [[r["post"]["record"]["text"], texts(r)] for r in node.get("replies") or []]


def test_replies_newest_first_and_depth(target: Target, tag: str) -> None:
    s = scene(target, tag)
    eventually(s.replies_indexed, what="all four replies")
    assert texts(s.raw_thread("q", depth=10)) == [["z", []], ["a", [["b", [["c", []]]]]]]

    shallow = s.raw_thread("q", depth=1)
    assert [r["post"]["record"]["text"] for r in shallow["replies"]] == ["z", "a"]
    assert all("replies" not in r for r in shallow["replies"])  # beyond depth: no key
    assert "replies" not in s.raw_thread("q", depth=0)

    node, chain = s.raw_thread("c"), []
    while node:
        chain.append(node["post"]["record"]["text"])
        node = node.get("parent")
    assert chain == ["c", "b", "a", f"Q1 #{tag}"]


def test_deleted_reply_takes_its_branch_and_leaves_no_placeholder(target: Target, tag: str) -> None:
    s = scene(target, tag)
    eventually(s.replies_indexed, what="all four replies")
    s.ann.delete(s.refs["a"])

    def pruned() -> Any:
        thread = s.bot.thread(s.refs["q"])
        return thread if len(thread.replies) == 1 else None

    thread = eventually(pruned, what="the deleted branch leaves the thread")
    assert [p.uri for p in thread.replies] == [s.refs["z"].uri]
    assert thread.missing == [] and not thread.incomplete

    # Seen from below, the deleted post is a notFoundPost parent.
    below = s.raw_thread("b")
    assert below["parent"] == {
        "$type": "app.bsky.feed.defs#notFoundPost",
        "uri": s.refs["a"].uri,
        "notFound": True,
    }
    assert [r["post"]["uri"] for r in below["replies"]] == [s.refs["c"].uri]

    # getPosts leaves deleted posts out.
    uris = [s.refs[name].uri for name in ("q", "a", "b")]
    posts = target.query(s.bot.client(), "app.bsky.feed.getPosts", uris=uris)["posts"]
    assert {p["uri"] for p in posts} == {s.refs["q"].uri, s.refs["b"].uri}
    assert s.bot.fetch(s.refs["a"]) is None


def test_thread_of_a_deleted_or_missing_post(target: Target, tag: str) -> None:
    s = scene(target, tag)
    # Until the AppView has the post, its thread is "not found" as well.
    eventually(lambda: s.bot.thread(s.refs["c"]).anchor, what="the post indexed")
    s.ann.delete(s.refs["c"])
    never = s.refs["c"].uri.rsplit("/", 1)[0] + "/2222222222222"
    for uri in (s.refs["c"].uri, never):
        ref = RemoteRef("bluesky", uri.rsplit("/", 1)[1], uri)

        def gone(ref: RemoteRef = ref) -> Any:
            thread = s.bot.thread(ref)
            return thread if thread.deleted else None

        thread = eventually(gone, what="the post gone")
        assert thread.missing == [uri] and thread.incomplete and thread.replies == []


def test_a_reply_to_a_deleted_post_is_accepted(target: Target, tag: str) -> None:
    s = scene(target, tag)
    s.ann.delete(s.refs["a"])
    late = s.bot.post(f"late #{tag}", key=f"{tag}/late", reply_to=s.refs["a"], root=s.refs["q"])
    assert late.uri and late.cid


def test_a_cut_thread_is_read_whole_where_its_counts_say(target: Target, tag: str) -> None:
    """Twelve replies to one answer, and a chain going on below the depth the bot asks:
    replyCount is the true count at every post, and reading again at the posts whose count
    is above what came back (collect.threadfill) finds every reply, on both networks."""

    def key(post: str) -> str:
        return post_key(tag, post, datetime.now(UTC).replace(microsecond=0))

    bot, ann = (target.platform(target.create_account(n)) for n in ("bot", "ann"))
    q = bot.post(f"Q1 #{tag}", key=key("q"))
    a = ann.post("a", key=key("a"), reply_to=q)
    made = [a] + [ann.post(f"w{n}", key=key(f"w{n}"), reply_to=a, root=q) for n in range(12)]
    parent = made[1]  # the oldest of the twelve: the first a cut level leaves out
    for n in range(THREAD_DEPTH + 1):
        parent = ann.post(f"c{n}", key=key(f"c{n}"), reply_to=parent, root=q)
        made.append(parent)
    eventually(lambda: bot.thread(parent).anchor, what="the last reply indexed")
    assert len(bot.thread(q).replies) < len(made)  # one read: cut

    ledger = Ledger()

    def read(uri: str) -> list[str]:
        thread = bot.thread(RemoteRef("bluesky", uri.rsplit("/", 1)[1], uri))
        posts = [p for p in [thread.anchor, *thread.replies] if p is not None]
        seen = [(p.uri, p.parent_uri, reply_count(p)) for p in posts]
        return ledger.record_read(uri, seen if thread.anchor else None)

    reads = 1 + complete(ledger, read(q.uri), read)
    assert set(ledger.counts) == {q.uri} | {ref.uri for ref in made}
    assert ledger.unseen() == 0 and reads <= 4
