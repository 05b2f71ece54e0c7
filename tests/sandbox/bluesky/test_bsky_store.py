"""The in-process store API the crowd simulator drives directly."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chatbot.clock import ManualClock
from chatbot.sandbox.bluesky import NO_UNAUTHENTICATED, BlueskyStore, StoreError
from chatbot.text.tid import is_valid_tid


@pytest.fixture
def store(clock: ManualClock) -> BlueskyStore:
    return BlueskyStore(clock, seed=3)


def test_create_post_builds_facets_with_resolved_mentions(store: BlueskyStore) -> None:
    alice = store.create_account("alice.test", "x", display_name="Alice")
    bob = store.create_account("bob.test", "x")
    view = store.create_post(alice.did, "🦋 A1 great point @bob.test #SM35 https://example.com")
    features = [f["features"][0] for f in view["record"]["facets"]]
    assert {"$type": "app.bsky.richtext.facet#mention", "did": bob.did} in features
    assert {"$type": "app.bsky.richtext.facet#tag", "tag": "SM35"} in features
    assert view["author"]["displayName"] == "Alice"
    assert is_valid_tid(view["uri"].rsplit("/", 1)[1])
    assert view["record"]["langs"] == ["en"]


def test_replies_derive_their_root_and_missing_parents_are_refused(store: BlueskyStore) -> None:
    alice = store.create_account("alice.test", "x")
    root = store.create_post(alice.did, "root")
    child = store.create_post(alice.did, "child", reply_to=root["uri"])
    grandchild = store.create_post(alice.did, "grandchild", reply_to=child["uri"])
    reply = grandchild["record"]["reply"]
    assert reply["root"] == {"uri": root["uri"], "cid": root["cid"]}
    assert reply["parent"] == {"uri": child["uri"], "cid": child["cid"]}
    store.delete_post(child["uri"])
    with pytest.raises(StoreError):
        store.create_post(alice.did, "orphan", reply_to=child["uri"])


def test_find_posts_filters_by_author_and_tag_oldest_first(
    store: BlueskyStore, clock: ManualClock
) -> None:
    alice = store.create_account("alice.test", "x")
    bob = store.create_account("bob.test", "x")
    old = store.create_post(bob.did, "late but backdated #Chat", created_at=clock.now())
    clock.advance(minutes=1)
    first = store.create_post(alice.did, "first #chat")
    store.create_post(alice.did, "untagged")
    assert [p["uri"] for p in store.find_posts(tag="#CHAT")] == [old["uri"], first["uri"]]
    assert [p["record"]["text"] for p in store.find_posts(author_did=alice.did, tag="chat")] == [
        "first #chat"
    ]
    store.delete_post(first["uri"])
    assert store.post_view(first["uri"]) is None
    assert [p["uri"] for p in store.find_posts(tag="chat")] == [old["uri"]]


def test_explicit_rkey_and_created_at_are_kept(store: BlueskyStore, clock: ManualClock) -> None:
    alice = store.create_account("alice.test", "x")
    when = clock.now() - timedelta(hours=1)
    view = store.create_post(alice.did, "Q1", rkey="3kabcdefghij2", created_at=when)
    assert view["uri"].endswith("/3kabcdefghij2")
    assert view["record"]["createdAt"].startswith(when.strftime("%Y-%m-%dT%H:%M:%S"))
    with pytest.raises(StoreError) as caught:
        store.create_post(alice.did, "Q1 again", rkey="3kabcdefghij2")
    assert (caught.value.status, caught.value.error) == (500, "InternalServerError")


def test_self_labels_show_on_authors_and_can_be_cleared(store: BlueskyStore) -> None:
    alice = store.create_account("alice.test", "x", display_name="Alice")
    post = store.create_post(alice.did, "hello")
    store.set_self_labels(alice.did, [NO_UNAUTHENTICATED])
    view = store.post_view(post["uri"])
    assert view is not None
    assert [label["val"] for label in view["author"]["labels"]] == [NO_UNAUTHENTICATED]
    assert view["author"]["displayName"] == "Alice"  # the profile keeps its other fields
    store.set_self_labels(alice.did, [])
    assert store.post_view(post["uri"])["author"]["labels"] == []  # type: ignore[index]


def test_accounts_are_unique_and_handles_valid(store: BlueskyStore) -> None:
    store.create_account("alice.test", "x")
    with pytest.raises(StoreError) as caught:
        store.create_account("ALICE.test", "y")
    assert caught.value.error == "HandleNotAvailable"
    for bad in ("alice", "-a.test", "a..test", "a b.test"):
        with pytest.raises(StoreError):
            store.create_account(bad, "x")
    assert store.account("@alice.test") is not None
    assert store.check_password("alice.test", "x") is not None
    assert store.check_password("alice.test", "y") is None


def test_listeners_see_every_write(store: BlueskyStore) -> None:
    seen: list[tuple[str, str]] = []
    store.add_listener(lambda op, record: seen.append((op, record.collection)))
    alice = store.create_account("alice.test", "x")
    post = store.create_post(alice.did, "hi")
    store.set_self_labels(alice.did, ["x"])
    store.delete_post(post["uri"])
    assert seen == [
        ("create", "app.bsky.feed.post"),
        ("create", "app.bsky.actor.profile"),
        ("delete", "app.bsky.feed.post"),
    ]


def test_concurrent_posting_loses_nothing_and_keys_stay_unique(store: BlueskyStore) -> None:
    accounts = [store.create_account(f"user{i}.test", "x") for i in range(8)]
    root = store.create_post(accounts[0].did, "Q1 #chat")

    def crowd(did: str) -> None:
        for n in range(25):
            store.create_post(did, f"A1 {n} #chat", reply_to=root["uri"])

    threads = [threading.Thread(target=crowd, args=(a.did,)) for a in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posts = store.find_posts(tag="chat")
    assert len(posts) == 1 + 8 * 25 == len({p["uri"] for p in posts})
    assert store.post_view(root["uri"])["replyCount"] == 200  # type: ignore[index]
