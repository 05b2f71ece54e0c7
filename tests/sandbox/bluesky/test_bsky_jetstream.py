"""The sandbox's Jetstream at /subscribe, read with the `websockets` client like a real one."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import requests
from atproto import client_utils
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.sandbox.bluesky.conftest import REAL, Sandbox

POST = "app.bsky.feed.post"
CAPTURE = [json.loads(line) for line in (REAL / "jetstream_v1_capture.jsonl").open()]


def subscribe(bsky: Sandbox, query: str = "") -> ClientConnection:
    url = bsky.url.replace("http://", "ws://") + "/subscribe" + (f"?{query}" if query else "")
    return connect(url, open_timeout=5, close_timeout=1)


def events(socket: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [json.loads(socket.recv(timeout=5)) for _ in range(count)]


def real(operation: str) -> dict[str, Any]:
    return next(
        e
        for e in CAPTURE
        if e.get("commit", {}).get("collection") == POST and e["commit"]["operation"] == operation
    )


def test_a_post_and_its_deletion_arrive_live_shaped_like_the_real_stream(bsky: Sandbox) -> None:
    client = bsky.client("ada.test")
    author = bsky.store.account("ada.test")
    assert author is not None
    with subscribe(bsky, f"wantedCollections={POST}") as socket:
        made = client.send_post(client_utils.TextBuilder().text("A1 hello ").tag("#live", "live"))
        client.delete_post(made.uri)
        create, delete = events(socket, 2)
    # The same fields in the same order as the real capture's post create and delete.
    assert list(create) == list(real("create")) == ["did", "time_us", "kind", "commit"]
    assert list(create["commit"]) == list(real("create")["commit"])
    assert list(delete["commit"]) == list(real("delete")["commit"])
    assert create["did"] == author.did
    assert f"at://{author.did}/{POST}/{create['commit']['rkey']}" == made.uri
    assert create["commit"]["cid"] == made.cid
    assert create["commit"]["record"]["text"] == "A1 hello #live"
    assert create["commit"]["record"]["facets"][0]["features"][0]["tag"] == "live"
    assert delete["commit"]["rkey"] == create["commit"]["rkey"]
    assert delete["time_us"] > create["time_us"]
    assert delete["commit"]["rev"] > create["commit"]["rev"]


def test_a_cursor_replays_from_that_time_then_goes_live(bsky: Sandbox, clock: Any) -> None:
    did = bsky.store.create_account("bob.test", "pw").did
    for number in range(3):
        bsky.store.create_post(did, f"post {number}")
        clock.advance(seconds=1)
    with subscribe(bsky, f"wantedCollections={POST}") as live:
        bsky.store.create_post(did, "post 3")
        times = [e["time_us"] for e in events(live, 1)]
    with subscribe(bsky, f"wantedCollections={POST}&cursor=0") as socket:
        replayed = [e["commit"]["record"]["text"] for e in events(socket, 4)]
    assert replayed == ["post 0", "post 1", "post 2", "post 3"]
    with subscribe(bsky, f"wantedCollections={POST}&cursor={times[0]}") as socket:
        assert [e["commit"]["record"]["text"] for e in events(socket, 1)] == ["post 3"]
        bsky.store.create_post(did, "post 4")
        assert events(socket, 1)[0]["commit"]["record"]["text"] == "post 4"


def test_collections_and_dids_are_filtered(bsky: Sandbox) -> None:
    ada = bsky.store.create_account("ada.test", "pw").did
    bob = bsky.store.create_account("bob.test", "pw").did
    post = bsky.store.create_post(ada, "by ada")
    bsky.store.create_post(bob, "by bob")
    bsky.store.create_record(
        bob,
        "app.bsky.feed.like",
        {
            "$type": "app.bsky.feed.like",
            "subject": {"uri": post["uri"], "cid": post["cid"]},
            "createdAt": "2026-01-01T00:00:00Z",
        },
    )
    with subscribe(bsky, f"cursor=0&wantedCollections={POST}&wantedDids={bob}") as socket:
        only = events(socket, 1)
    assert only[0]["did"] == bob and only[0]["commit"]["record"]["text"] == "by bob"
    with subscribe(bsky, "cursor=0&wantedCollections=app.bsky.feed.*") as socket:
        kinds = [e["commit"]["collection"] for e in events(socket, 3)]
    assert kinds == [POST, POST, "app.bsky.feed.like"]


def test_faults_drop_connections_and_repeat_reversed_events_at_the_switch(bsky: Sandbox) -> None:
    did = bsky.store.create_account("cy.test", "pw").did
    for number in range(5):
        bsky.store.create_post(did, f"post {number}")
    bsky.app.jetstream.switch_repeats = 2
    with subscribe(bsky, f"wantedCollections={POST}&cursor=0") as socket:
        texts = [e["commit"]["record"]["text"] for e in events(socket, 7)]
    assert texts == ["post 0", "post 1", "post 2", "post 4", "post 3", "post 3", "post 4"]
    bsky.app.jetstream.switch_repeats = 0
    bsky.app.jetstream.drop_after_events = 2
    with subscribe(bsky, f"wantedCollections={POST}&cursor=0") as socket:
        assert len(events(socket, 2)) == 2
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=5)


def test_a_cursor_older_than_the_lookback_starts_at_the_oldest_event_kept(
    bsky: Sandbox, clock: Any
) -> None:
    did = bsky.store.create_account("dee.test", "pw").did
    bsky.store.create_post(did, "old")
    clock.advance(hours=40)
    bsky.store.create_post(did, "recent")
    bsky.app.jetstream.lookback = timedelta(hours=36)
    with subscribe(bsky, f"wantedCollections={POST}&cursor=1") as socket:
        assert events(socket, 1)[0]["commit"]["record"]["text"] == "recent"
    future = int((clock.now() + timedelta(hours=1)).timestamp() * 1_000_000)
    with subscribe(bsky, f"wantedCollections={POST}&cursor={future}") as socket:
        bsky.store.create_post(did, "live")
        assert events(socket, 1)[0]["commit"]["record"]["text"] == "live"


def test_faults_are_set_over_http_and_bad_values_change_nothing(bsky: Sandbox) -> None:
    control = f"{bsky.url}/_sandbox/jetstream"
    answer = requests.post(control, json={"drop_after_seconds": 30, "switch_repeats": 3}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["drop_after_seconds"] == 30 and answer.json()["switch_repeats"] == 3
    assert bsky.app.jetstream.drop_after_seconds == 30
    for bad in ({"switch_repeats": -1}, {"drop_after_events": 1.5}, {"speed": 2}, [1]):
        refused = requests.post(control, json=bad, timeout=5)
        assert refused.status_code == 400 and refused.json()["error"] == "InvalidRequest"
    assert requests.get(control, timeout=5).json() == answer.json()
    requests.post(control, json={"drop_after_seconds": None}, timeout=5)
    assert bsky.app.jetstream.drop_after_seconds is None
