"""Hashtag streaming through Mastodon.py's stream_hashtag and a StreamListener in a thread."""

from __future__ import annotations

import queue
import time

import pytest
import requests
from mastodon import Mastodon, StreamListener

from .conftest import Sandbox

pytestmark = pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonDeprecationWarning")


class Collector(StreamListener):
    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, object]] = queue.Queue()
        self.heartbeats = 0

    def on_update(self, status):
        self.events.put(("update", status))

    def on_status_update(self, status):
        self.events.put(("status.update", status))

    def on_delete(self, status_id):
        self.events.put(("delete", status_id))

    def handle_heartbeat(self):
        self.heartbeats += 1

    def next(self) -> tuple[str, object]:
        return self.events.get(timeout=5)


def _wait_for_subscribers(sandbox: Sandbox, count: int = 1) -> None:
    deadline = time.monotonic() + 5
    while len(sandbox.store._subscriptions) < count:
        assert time.monotonic() < deadline, "the stream never subscribed"
        time.sleep(0.01)


def test_update_edit_and_delete_arrive_in_order(sandbox: Sandbox, alice: Mastodon):
    listener = Collector()
    handle = alice.stream_hashtag("SM35", listener, run_async=True)
    try:
        _wait_for_subscribers(sandbox)
        alice.status_post("not for this stream #other")
        alice.status_post("unlisted #sm35", visibility="unlisted")
        posted = alice.status_post("Q1 #sm35")
        alice.status_update(posted, "Q1 edited #sm35")
        alice.status_delete(posted)

        name, status = listener.next()
        assert name == "update" and status.id == posted.id and "Q1" in status.content
        name, status = listener.next()
        assert name == "status.update" and "edited" in status.content and status.edited_at
        name, status_id = listener.next()
        assert name == "delete" and str(status_id) == str(posted.id)
        assert listener.events.empty()
    finally:
        handle.close()
        handle.join(timeout=5)
    assert not handle.is_alive()
    # The server notices the closed connection at its next heartbeat and forgets the stream.
    deadline = time.monotonic() + 5
    while sandbox.store._subscriptions:
        assert time.monotonic() < deadline, "the stream was never unsubscribed"
        time.sleep(0.05)


def test_crowd_posts_reach_the_stream(sandbox: Sandbox, alice: Mastodon):
    listener = Collector()
    handle = alice.stream_hashtag("sm35", listener, run_async=True)
    try:
        _wait_for_subscribers(sandbox)
        account = sandbox.store.create_account("crowd")
        made = sandbox.store.create_status(account["id"], "A1 #SM35")
        name, status = listener.next()
        assert name == "update" and str(status.id) == made["id"]
    finally:
        handle.close()
        handle.join(timeout=5)


def test_heartbeats_keep_the_connection_alive(sandbox: Sandbox, alice: Mastodon):
    listener = Collector()
    handle = alice.stream_hashtag("sm35", listener, run_async=True)
    try:
        deadline = time.monotonic() + 5
        while listener.heartbeats < 3:  # ":)" on connect, then ":thump" every 0.3 s here
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert handle.is_receiving()
    finally:
        handle.close()
        handle.join(timeout=5)


def test_streams_end_when_the_server_closes(sandbox: Sandbox, alice: Mastodon):
    listener = Collector()
    handle = alice.stream_hashtag("sm35", listener, run_async=True)
    _wait_for_subscribers(sandbox)
    sandbox.app.closing.set()
    handle.join(timeout=5)
    assert not handle.is_alive()
    assert sandbox.store._subscriptions == []


def test_health_and_bad_requests(sandbox: Sandbox, alice: Mastodon):
    assert alice.stream_healthy()
    missing = requests.get(f"{sandbox.url}/api/v1/streaming/hashtag", timeout=5)
    assert missing.status_code == 400
    bad = requests.get(
        f"{sandbox.url}/api/v1/streaming/hashtag?tag=x",
        headers={"Authorization": "Bearer nope"},
        timeout=5,
    )
    assert bad.status_code == 401


def test_raw_event_format(sandbox: Sandbox, alice: Mastodon):
    with requests.get(
        f"{sandbox.url}/api/v1/streaming/hashtag/local?tag=sm35", stream=True, timeout=5
    ) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = response.iter_lines()
        assert next(lines) == b":)"
        _wait_for_subscribers(sandbox)
        posted = alice.status_post("Q #sm35")
        alice.status_delete(posted)
        got = [line for line in (next(lines) for _ in range(8)) if not line.startswith(b":")]
    assert got[0] == b"event: update" and got[1].startswith(b'data: {"id":"')
    assert b"event: delete" in got and f"data: {posted.id}".encode() in got
