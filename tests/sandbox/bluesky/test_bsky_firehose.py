"""The sandbox's firehose at subscribeRepos, read with the atproto SDK's own firehose client."""

from __future__ import annotations

import threading
from typing import Any

from atproto import CAR, models
from atproto_firehose import FirehoseSubscribeReposClient, parse_subscribe_repos_message
from atproto_subscription.exceptions import SubscriptionError
from atproto_subscription.frames import MessageFrame

from tests.sandbox.bluesky.conftest import Sandbox

POST = "app.bsky.feed.post"


def read(bsky: Sandbox, count: int, cursor: int | None = None) -> list[Any]:
    """The first ``count`` messages (as the SDK's models) of a subscription from ``cursor``."""
    params = {"cursor": cursor} if cursor is not None else None
    client = FirehoseSubscribeReposClient(
        params, base_uri=bsky.url.replace("http://", "ws://") + "/xrpc", recv_timeout=5
    )
    got: list[Any] = []
    failure: list[BaseException] = []

    def on_message(frame: MessageFrame) -> None:
        got.append(parse_subscribe_repos_message(frame))
        if len(got) >= count:
            client.stop()

    def run() -> None:
        try:
            client.start(on_message)
        except SubscriptionError as error:
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    client.stop()
    assert not thread.is_alive(), f"{len(got)} of {count} messages came"
    if failure:
        raise failure[0]
    return got


def test_commits_carry_the_records_in_a_car_as_a_pds_sends_them(bsky: Sandbox) -> None:
    store = bsky.store
    did = store.create_account("ada.test", "pw").did
    post = store.create_post(did, "A1 hello #HeldOut2")
    reply = store.create_post(did, "a reply", reply_to=post["uri"])
    store.delete_post(post["uri"])
    first, second, third = read(bsky, 3, cursor=0)
    assert all(isinstance(m, models.ComAtprotoSyncSubscribeRepos.Commit) for m in (first, second))
    assert [m.seq for m in (first, second, third)] == [1, 2, 3]
    assert first.repo == did and first.since is None and second.since == first.rev
    assert first.rev < second.rev < third.rev
    op = first.ops[0]
    assert (op.action, op.path) == ("create", f"{POST}/{post['uri'].rsplit('/', 1)[1]}")
    assert str(op.cid) == post["cid"]  # the record's CID is the one the PDS gave it
    car = CAR.from_bytes(first.blocks)
    assert car.root == first.commit
    record = car.blocks[op.cid]
    assert record["text"] == "A1 hello #HeldOut2"
    assert record["facets"][0]["features"][0]["tag"] == "HeldOut2"
    assert CAR.from_bytes(second.blocks).blocks[second.ops[0].cid]["reply"]["parent"] == {
        "uri": post["uri"],
        "cid": post["cid"],
    }
    assert second.ops[0].path == f"{POST}/{reply['uri'].rsplit('/', 1)[1]}"
    assert (third.ops[0].action, third.ops[0].cid) == ("delete", None)
    assert len(CAR.from_bytes(third.blocks).blocks) == 1  # the commit alone


def test_a_cursor_replays_what_came_after_it_then_live_ones_follow(bsky: Sandbox) -> None:
    store = bsky.store
    did = store.create_account("bo.test", "pw").did
    for number in range(3):
        store.create_post(did, f"post {number}")
    later = threading.Timer(0.3, lambda: store.create_post(did, "live one"))
    later.start()
    messages = read(bsky, 3, cursor=1)
    later.join()
    assert [m.seq for m in messages] == [2, 3, 4]
    texts = [CAR.from_bytes(m.blocks).blocks[m.ops[0].cid]["text"] for m in messages]
    assert texts == ["post 1", "post 2", "live one"]


def test_a_cursor_in_the_future_is_refused_with_an_error_frame(bsky: Sandbox) -> None:
    did = bsky.store.create_account("cy.test", "pw").did
    bsky.store.create_post(did, "one")
    try:
        read(bsky, 1, cursor=50)
    except SubscriptionError as error:
        assert "FutureCursor" in str(error)
    else:
        raise AssertionError("no error frame")


def test_an_old_cursor_is_told_outdated_and_starts_at_the_oldest_kept(bsky: Sandbox) -> None:
    did = bsky.store.create_account("di.test", "pw").did
    for number in range(5):
        bsky.store.create_post(did, f"post {number}")
    bsky.app.firehose.keep = 2
    info, *kept = read(bsky, 3, cursor=1)
    assert isinstance(info, models.ComAtprotoSyncSubscribeRepos.Info)
    assert info.name == "OutdatedCursor"
    assert [m.seq for m in kept] == [4, 5]


def test_dropped_connections_resume_from_the_last_seq_the_client_was_given(
    bsky: Sandbox,
) -> None:
    did = bsky.store.create_account("ed.test", "pw").did
    for number in range(4):
        bsky.store.create_post(did, f"post {number}")
    bsky.app.firehose.drop_after_events = 2
    client = FirehoseSubscribeReposClient(
        {"cursor": 0}, base_uri=bsky.url.replace("http://", "ws://") + "/xrpc", recv_timeout=5
    )
    seqs: list[int] = []

    def on_message(frame: MessageFrame) -> None:
        seqs.append(frame.body["seq"])
        client.update_params({"cursor": frame.body["seq"]})
        if len(seqs) >= 4:
            client.stop()

    thread = threading.Thread(target=client.start, args=(on_message,), daemon=True)
    thread.start()
    thread.join(30)
    client.stop()
    assert seqs == [1, 2, 3, 4]  # each connection dropped after two, resumed after the last
