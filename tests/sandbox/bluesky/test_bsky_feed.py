"""AppView reads through the real client: search, threads, posts, profiles, author feeds."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from atproto import client_utils, models
from atproto_client import exceptions

from chatbot.clock import ManualClock
from chatbot.sandbox.bluesky import NO_UNAUTHENTICATED, BlueskyApp

from .conftest import Sandbox


def _search(client, **params):
    return client.app.bsky.feed.search_posts(models.AppBskyFeedSearchPosts.Params(**params))


def test_search_by_tag_matches_facets_and_text_case_insensitively(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    alice = bsky.store.create_account("alice.test", "x")
    client.send_post(client_utils.TextBuilder().text("Q1 ").tag("#SM35", "SM35"))
    bsky.store.create_post(alice.did, "A1 plain text tag #sm35", facets=[])
    bsky.store.create_post(alice.did, "A1 with facet #Sm35 and #other")
    bsky.store.create_post(alice.did, "not tagged sm35 #sm350")
    hits = _search(client, q="#sm35", tag=["sm35"])
    assert len(hits.posts) == 3 and hits.hits_total == 3
    both = _search(client, q="*", tag=["SM35", "other"])
    assert [p.record.text for p in both.posts] == ["A1 with facet #Sm35 and #other"]
    by_author = _search(client, q="#sm35", author="alice.test")
    assert {p.author.handle for p in by_author.posts} == {"alice.test"}
    anonymous = bsky.client()
    assert len(_search(anonymous, q="#sm35").posts) == 3


def test_search_can_refuse_logged_out_callers_like_the_public_appview(make_sandbox) -> None:
    sandbox = make_sandbox(BlueskyApp(anonymous_search=False))
    with pytest.raises(exceptions.UnauthorizedError) as caught:
        _search(sandbox.client(), q="#sm35")
    assert caught.value.response.status_code == 403
    assert _search(sandbox.client("mod.test"), q="#sm35").posts == []


def test_search_window_and_cursor_paging_neither_skip_nor_repeat(
    bsky: Sandbox, clock: ManualClock
) -> None:
    alice = bsky.store.create_account("alice.test", "x")
    start = clock.now()
    made = []
    for i in range(23):
        clock.advance(seconds=10)
        made.append(bsky.store.create_post(alice.did, f"A{i} #chat")["uri"])
    client = bsky.client()
    since = (start + timedelta(seconds=25)).isoformat()  # excludes posts 0 and 1
    until = (start + timedelta(seconds=200)).isoformat()  # excludes 19.. (until is exclusive)
    seen: list[str] = []
    cursor = None
    while True:
        page = _search(
            client, q="#chat", tag=["chat"], since=since, until=until, limit=5, cursor=cursor
        )
        seen += [p.uri for p in page.posts]
        # New posts arriving mid-paging land before the cursor and never shift it.
        clock.advance(seconds=1)
        bsky.store.create_post(alice.did, "late #chat")
        cursor = page.cursor
        if not cursor:
            break
    assert seen == list(reversed(made[2:19]))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x", "limit": "101"}, "limit can not be greater than 100"),
        ({"q": "x", "limit": "0"}, "limit can not be less than 1"),
        ({"limit": "5"}, 'must have the property "q"'),
        ({"q": "x", "since": "yesterday"}, "since must be a datetime"),
        ({"q": "x", "sort": "best"}, "sort must be"),
    ],
)
def test_search_parameters_are_checked_by_the_server(
    bsky: Sandbox, params: dict[str, str], message: str
) -> None:
    # The client validates some of these itself, so ask over plain HTTP.
    answer = httpx.get(f"{bsky.url}/xrpc/app.bsky.feed.searchPosts", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"] == "InvalidRequest" and message in answer.json()["message"]


def test_search_can_lag_behind_like_the_real_index(bsky: Sandbox, clock: ManualClock) -> None:
    bsky.store.search_lag = timedelta(seconds=5)
    alice = bsky.store.create_account("alice.test", "x")
    post = bsky.store.create_post(alice.did, "fresh #chat")
    client = bsky.client()
    assert _search(client, q="#chat").posts == []
    assert client.get_posts([post["uri"]]).posts  # hydration does not lag
    clock.advance(seconds=5)
    assert [p.uri for p in _search(client, q="#chat").posts] == [post["uri"]]


def _thread(client, uri: str, **kwargs):
    return client.get_post_thread(uri, **kwargs).thread


def test_thread_with_deleted_middle_reply_and_not_found_parent(bsky: Sandbox, clock) -> None:
    client = bsky.client("mod.test")
    root = client.send_post("Q1 root")
    root_ref = models.create_strong_ref(root)
    mid = client.send_post(
        "mid", reply_to=models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=root_ref)
    )
    leaf = client.send_post(
        "leaf",
        reply_to=models.AppBskyFeedPost.ReplyRef(
            root=root_ref, parent=models.create_strong_ref(mid)
        ),
    )
    clock.advance(seconds=1)
    other = client.send_post(
        "other", reply_to=models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=root_ref)
    )
    thread = _thread(client, root.uri)
    # Newest first, as the reference AppView (tests/conformance/test_threads.py).
    assert [r.post.record.text for r in thread.replies] == ["other", "mid"]
    assert thread.replies[1].replies[0].post.record.text == "leaf"
    assert thread.post.reply_count == 2
    client.delete_post(mid.uri)
    thread = _thread(client, root.uri)
    assert [r.post.uri for r in thread.replies] == [other.uri]  # the whole branch vanished
    leaf_view = _thread(client, leaf.uri)
    assert leaf_view.parent.py_type == "app.bsky.feed.defs#notFoundPost"
    assert leaf_view.parent.uri == mid.uri and leaf_view.parent.not_found
    with pytest.raises(exceptions.BadRequestError) as caught:
        _thread(client, mid.uri)
    assert caught.value.response.content.error == "NotFound"


def test_thread_depth_and_parent_height(bsky: Sandbox) -> None:
    alice = bsky.store.create_account("alice.test", "x")
    uris = [bsky.store.create_post(alice.did, "0")["uri"]]
    for i in range(1, 6):
        uris.append(bsky.store.create_post(alice.did, str(i), reply_to=uris[-1])["uri"])
    client = bsky.client()
    top = _thread(client, uris[0], depth=2)
    assert top.replies[0].replies[0].replies is None  # beyond depth: no replies key
    mid = _thread(client, uris[3], parent_height=1)
    assert mid.parent.post.uri == uris[2] and mid.parent.parent is None
    record = bsky.store.post_view(uris[5])["record"]
    assert record["reply"]["root"]["uri"] == uris[0]  # the root is derived from the parent


def test_threadgate_hidden_replies_are_returned_with_the_gate(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    spammer = bsky.store.create_account("spam.test", "x")
    root = client.send_post("Q1")
    spam = bsky.store.create_post(spammer.did, "buy followers", reply_to=root.uri)
    client.com.atproto.repo.create_record(
        {
            "repo": client.me.did,
            "collection": "app.bsky.feed.threadgate",
            "rkey": root.uri.rsplit("/", 1)[1],
            "record": {
                "$type": "app.bsky.feed.threadgate",
                "post": root.uri,
                "createdAt": "2026-11-26T12:00:00.000Z",
                "hiddenReplies": [spam["uri"]],
            },
        }
    )
    answer = client.get_post_thread(root.uri)
    assert answer.threadgate.record.hidden_replies == [spam["uri"]]
    assert [r.post.uri for r in answer.thread.replies] == [spam["uri"]]
    assert answer.thread.post.threadgate.uri == answer.threadgate.uri


def test_get_posts_skips_missing_and_caps_at_25(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    first = client.send_post("one")
    missing = first.uri[:-1] + ("a" if first.uri[-1] != "a" else "b")
    assert [p.uri for p in client.get_posts([first.uri, missing]).posts] == [first.uri]
    answer = httpx.get(f"{bsky.url}/xrpc/app.bsky.feed.getPosts", params={"uris": [first.uri] * 26})
    assert answer.status_code == 400 and answer.json()["error"] == "InvalidRequest"


def test_profile_shows_self_labels_and_counts(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    alice = bsky.store.create_account("alice.test", "x", display_name="Alice", description="hi")
    post = bsky.store.create_post(alice.did, "hello #sm35")
    bsky.store.set_self_labels(alice.did, [NO_UNAUTHENTICATED])
    profile = client.get_profile("alice.test")
    assert (profile.display_name, profile.description, profile.posts_count) == ("Alice", "hi", 1)
    assert [label.val for label in profile.labels] == [NO_UNAUTHENTICATED]
    view = client.get_posts([post["uri"]]).posts[0]
    assert [label.val for label in view.author.labels] == [NO_UNAUTHENTICATED]
    profiles = client.app.bsky.actor.get_profiles(
        {"actors": ["alice.test", "mod.test", "nobody.test"]}
    )
    assert [p.handle for p in profiles.profiles] == ["alice.test", "mod.test"]
    with pytest.raises(exceptions.BadRequestError):
        client.get_profile("nobody.test")


def test_self_labels_can_be_set_with_put_record(bsky: Sandbox) -> None:
    client = bsky.client("bob.test")
    client.com.atproto.repo.put_record(
        {
            "repo": client.me.did,
            "collection": "app.bsky.actor.profile",
            "rkey": "self",
            "record": {
                "$type": "app.bsky.actor.profile",
                "displayName": "Bob",
                "labels": {
                    "$type": "com.atproto.label.defs#selfLabels",
                    "values": [{"val": NO_UNAUTHENTICATED}],
                },
            },
        }
    )
    assert [label.val for label in client.get_profile("bob.test").labels] == [NO_UNAUTHENTICATED]


def test_author_feed_pages_newest_first_and_shows_reply_context(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    root = client.send_post("root")
    alice = bsky.store.create_account("alice.test", "x")
    replies = [
        bsky.store.create_post(alice.did, f"r{i}", reply_to=root.uri)["uri"] for i in range(3)
    ]
    feed = client.get_author_feed("alice.test", limit=2)
    assert [item.post.uri for item in feed.feed] == replies[:0:-1]
    assert feed.feed[0].reply.parent.uri == root.uri
    rest = client.get_author_feed("alice.test", cursor=feed.cursor, limit=2)
    assert [item.post.uri for item in rest.feed] == [replies[0]] and rest.cursor is None


def test_quotes_and_counts_appear_in_views(bsky: Sandbox) -> None:
    alice = bsky.store.create_account("alice.test", "x")
    original = bsky.store.create_post(alice.did, "original")
    quote = bsky.store.create_post(alice.did, "quoting", quote=original["uri"])
    assert quote["embed"]["record"]["uri"] == original["uri"]
    assert bsky.store.post_view(original["uri"])["quoteCount"] == 1
    found = bsky.store.find_posts(author_did=alice.did)
    assert [p["record"]["text"] for p in found] == ["original", "quoting"]
