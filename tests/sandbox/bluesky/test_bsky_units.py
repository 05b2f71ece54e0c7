"""The sandbox's own pure pieces: its TID generator, CIDs and the tags it indexes.

The text rules it shares with the bot (TIDs, facets, graphemes) are tested in tests/text/.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chatbot.clock import ManualClock
from chatbot.sandbox.bluesky.cid import RecordEncodingError, record_cid
from chatbot.sandbox.bluesky.richtext import record_tags
from chatbot.sandbox.bluesky.tid import TidGenerator
from chatbot.text.tid import decode_tid, tid_for_datetime

from .conftest import REAL


def test_real_rkeys_in_the_recordings_decode_to_their_createdat() -> None:
    for name in ("jetstream_post_create_tags.json", "jetstream_post_create_reply.json"):
        commit = json.loads((REAL / name).read_text())["commit"]
        micros, _ = decode_tid(commit["rkey"])
        created = datetime.fromisoformat(commit["record"]["createdAt"].replace("Z", "+00:00"))
        assert abs(micros / 1e6 - created.timestamp()) < 60


def test_generator_is_monotonic_even_when_the_clock_stands_still() -> None:
    clock = ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
    tids = TidGenerator(clock, seed=1)
    keys = [tids.next() for _ in range(100)]
    assert keys == sorted(set(keys))
    assert keys[0] == tid_for_datetime(clock.now(), tids.clock_id)


def test_cid_matches_the_real_pds() -> None:
    record = json.loads((REAL / "getRecord_post.json").read_text())
    assert record_cid(record["value"]) == record["cid"]


def test_records_with_floats_are_refused() -> None:
    with pytest.raises(RecordEncodingError):
        record_cid({"$type": "x.y.z", "n": 1.5})


def test_a_real_posts_tags_are_indexed_from_its_facets_and_text() -> None:
    record = json.loads((REAL / "jetstream_post_create_tags.json").read_text())["commit"]["record"]
    assert record_tags(record) == {"howtotellaitoshutup", "indierebellion"}
    assert record_tags({"text": "#A #b", "tags": ["C"]}) == {"a", "b", "c"}
