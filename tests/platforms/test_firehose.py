"""The firehose filter: subscribeRepos frames to one chat's posts, as Jetstream's lines are.

The frames are made the way a PDS makes them (DAG-CBOR header and body, a
CAR of the record blocks; the sandbox's encoder), from the commits of the
real Jetstream capture, so both readers can be held to the same answer.
"""

from __future__ import annotations

import json
from typing import Any

import libipld
from atproto_subscription.frames import Frame, MessageFrame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.platforms.firehose import FirehoseFilter
from chatbot.platforms.jetstream import JetstreamFilter
from chatbot.sandbox.bluesky.firehose import block_cid, car, frame
from tests.platforms.test_jetstream import DELETED, EVENTS, LINES, THREAD_ROOT

POST = "app.bsky.feed.post"
ISO = "2026-07-04T12:00:00.000Z"


def commit_frame(event: dict[str, Any], seq: int) -> bytes | None:
    """A Jetstream commit event as the firehose frame that carried it (None: not a commit)."""
    commit = event.get("commit")
    if event.get("kind") != "commit" or not isinstance(commit, dict):
        return None
    path = f"{commit['collection']}/{commit['rkey']}"
    head = libipld.encode_dag_cbor({"did": event["did"], "version": 3, "rev": commit["rev"]})
    blocks = [(block_cid(head), head)]
    op: dict[str, Any] = {"action": commit["operation"], "path": path, "cid": None}
    if "record" in commit:
        try:
            record = libipld.encode_dag_cbor(commit["record"])
        except ValueError:
            return None  # text the CBOR encoder refuses (a lone surrogate): not on the wire
        op["cid"] = block_cid(record)
        blocks.append((op["cid"], record))
    body = {
        "seq": seq, "rebase": False, "tooBig": False, "repo": event["did"],
        "commit": blocks[0][0], "rev": commit["rev"], "since": None,
        "blocks": car(blocks[0][0], blocks), "ops": [op], "blobs": [], "time": ISO,
    }  # fmt: skip
    return frame({"op": 1, "t": "#commit"}, body)


def decoded(data: bytes) -> MessageFrame:
    message = Frame.from_bytes(data)
    assert isinstance(message, MessageFrame)
    return message


FRAMES = [
    decoded(data)
    for seq, event in enumerate(EVENTS, start=1)
    if (data := commit_frame(event, seq)) is not None
]


def feed(check: FirehoseFilter, frames: list[MessageFrame]) -> list[Any]:
    return [post for message in frames for post in check.feed_frame(message)]


def test_the_firehose_keeps_what_jetstream_keeps_from_the_same_commits() -> None:
    for tag, chat in (("IndieRebellion", ()), ("#INDIEREBELLION", (THREAD_ROOT, DELETED))):
        jetstream = JetstreamFilter(tag, chat).feed_many(LINES)
        firehose = feed(FirehoseFilter(tag, chat), FRAMES)
        assert jetstream  # the capture holds the chat's posts
        assert [(p.uri, p.text, p.deleted, p.parent_uri) for p in firehose] == [
            (p.uri, p.text, p.deleted, p.parent_uri) for p in jetstream
        ]
        assert all(post.raw.get("source") == "firehose" for post in firehose)


def test_seq_is_the_cursor_and_the_real_records_come_back_whole() -> None:
    check = FirehoseFilter("IndieRebellion")
    kept = feed(check, FRAMES)
    assert check.seq == max(message.body["seq"] for message in FRAMES)
    assert check.frames == len(FRAMES) and check.malformed == 0
    rkey = kept[0].uri.rsplit("/", 1)[1]
    original = next(
        e["commit"]["record"] for e in EVENTS if e.get("commit", {}).get("rkey") == rkey
    )
    assert kept[0].raw["commit"]["record"] == original


def test_an_outdated_cursor_is_noted() -> None:
    info = decoded(frame({"op": 1, "t": "#info"}, {"name": "OutdatedCursor"}))
    check = FirehoseFilter("x")
    assert check.feed_frame(info) == []
    assert check.outdated


def test_a_commit_that_touches_no_post_is_never_decoded() -> None:
    like = {"action": "create", "path": "app.bsky.feed.like/3mptbyospqk2i", "cid": None}
    body = {"seq": 7, "repo": "did:plc:x", "ops": [like], "blocks": b"not a CAR", "time": ISO}
    check = FirehoseFilter("x")
    assert check.feed_frame(decoded(frame({"op": 1, "t": "#commit"}, body))) == []
    assert check.malformed == 0 and check.seq == 7


ops = st.lists(
    st.fixed_dictionaries(
        {
            "action": st.sampled_from(["create", "update", "delete", "other"]),
            "path": st.one_of(st.text(max_size=30), st.just(f"{POST}/3mptbyospqk2i")),
            "cid": st.one_of(st.none(), st.binary(max_size=40)),
        }
    ),
    max_size=3,
)
bodies = st.fixed_dictionaries(
    {
        "seq": st.integers(min_value=0, max_value=2**40),
        "repo": st.text(max_size=20),
        "rev": st.text(max_size=15),
        "ops": ops,
        "blocks": st.binary(max_size=80),
        "time": st.one_of(st.just(ISO), st.text(max_size=10)),
    },
    optional={"rebase": st.booleans(), "tooBig": st.booleans(), "commit": st.binary(max_size=36)},
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_any_commit_body_is_kept_let_go_or_counted_malformed_never_raised(
    body: dict[str, Any],
) -> None:
    check = FirehoseFilter("x", {f"at://{body['repo']}/{POST}/3mptbyospqk2i"})
    try:
        message = decoded(frame({"op": 1, "t": "#commit"}, body))
    except Exception:
        return
    check.feed_frame(message)
    assert check.frames == 1


@settings(max_examples=30, deadline=None)
@given(st.permutations(FRAMES), st.lists(st.integers(0, len(FRAMES) - 1), max_size=20))
def test_order_and_repeats_do_not_change_what_the_chat_holds(
    shuffled: list[MessageFrame], again: list[int]
) -> None:
    chat = (THREAD_ROOT, DELETED)
    in_order = FirehoseFilter("IndieRebellion", chat)
    feed(in_order, FRAMES)
    mixed = FirehoseFilter("IndieRebellion", chat)
    feed(mixed, shuffled + [FRAMES[index] for index in again])
    assert mixed.state() == in_order.state()


def test_events_in_the_capture_round_trip_as_json() -> None:
    kept = feed(FirehoseFilter("IndieRebellion"), FRAMES)
    json.dumps([post.raw for post in kept])  # stored raw JSON: links as {"$link": ...}
