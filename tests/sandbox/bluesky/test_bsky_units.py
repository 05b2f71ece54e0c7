"""TIDs, CIDs, facets and grapheme counts: the pure pieces of the Bluesky sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from atproto import client_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.clock import ManualClock
from chatbot.sandbox.bluesky.cid import RecordEncodingError, record_cid
from chatbot.sandbox.bluesky.richtext import record_tags
from chatbot.sandbox.bluesky.tid import TidGenerator
from chatbot.text.bluesky import build_facets as make_facets
from chatbot.text.tid import decode_tid, encode_tid, is_valid_tid, tid_for_datetime
from chatbot.text.unicode import grapheme_count as grapheme_length

from .conftest import REAL


@settings(deadline=None)  # a loaded CI machine must not make these flaky
@given(st.integers(0, (1 << 53) - 1), st.integers(0, 1023))
def test_tid_round_trips_and_is_valid(timestamp: int, clock_id: int) -> None:
    tid = encode_tid(timestamp, clock_id)
    assert len(tid) == 13 and is_valid_tid(tid)
    assert decode_tid(tid) == (timestamp, clock_id)


@settings(deadline=None)
@given(st.integers(0, (1 << 53) - 2), st.integers(0, (1 << 53) - 2))
def test_tids_sort_like_their_timestamps(a: int, b: int) -> None:
    assert (encode_tid(a) < encode_tid(b)) == (a < b)


@pytest.mark.parametrize(
    "value",
    ["3jzfcijpj2z2a", "7777777777777", "3jui7kd2z2y2e"],
)
def test_real_record_keys_are_valid_tids(value: str) -> None:
    assert is_valid_tid(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "3jzfcijpj2z2",
        "3jzfcijpj2z2aa",
        "kjzfcijpj2z2a",
        "3jzfcijpj2z2A",
        "self",
        "1111111111111",
    ],
)
def test_invalid_tids_are_refused(value: str) -> None:
    assert not is_valid_tid(value)
    with pytest.raises(ValueError):
        decode_tid(value)


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


def _tag_text() -> st.SearchStrategy[tuple[str, list[str]]]:
    word = st.text(
        st.characters(blacklist_categories=("Z", "P", "C", "S")), min_size=1, max_size=8
    ).filter(lambda s: not s.isdigit())
    filler = st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="#＃"), max_size=12
    )
    return st.lists(st.tuples(filler, word), min_size=1, max_size=5).map(
        lambda parts: (
            "".join(f"{pad} #{tag} " for pad, tag in parts),
            [tag for _, tag in parts],
        )
    )


@settings(deadline=None)
@given(_tag_text())
def test_tag_facets_cover_exactly_their_tag_in_utf8_bytes(case: tuple[str, list[str]]) -> None:
    text, tags = case
    data = text.encode("utf-8")
    facets = [f for f in make_facets(text) if f["features"][0]["$type"].endswith("#tag")]
    assert [f["features"][0]["tag"] for f in facets] == tags
    for facet in facets:
        span = data[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode("utf-8")
        assert span == "#" + facet["features"][0]["tag"]


@settings(deadline=None)
@given(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.text(st.characters(whitelist_categories=("Ll",)), min_size=1, max_size=10),
)
def test_facets_agree_with_the_clients_textbuilder(prefix: str, tag: str) -> None:
    text = prefix.replace("#", "").encode("utf-8", "ignore").decode() + " "
    builder = client_utils.TextBuilder().text(text).tag("#" + tag, tag)
    expected = builder.build_facets()[0].index
    ours = make_facets(builder.build_text())
    found = [f for f in ours if f["features"][0].get("tag") == tag]
    assert found and found[-1]["index"] == {
        "byteStart": expected.byte_start,
        "byteEnd": expected.byte_end,
    }


def test_mentions_resolve_and_links_stop_before_punctuation() -> None:
    text = "🦋 hi @bob.test and @nobody.test, see https://example.com/a?b=1. #Chat!"
    facets = make_facets(text, {"bob.test": "did:plc:bob"}.get)
    kinds = [(f["features"][0]["$type"].rsplit("#", 1)[1], f["index"]) for f in facets]
    data = text.encode()
    spans = [data[i["byteStart"] : i["byteEnd"]].decode() for _, i in kinds]
    assert [k for k, _ in kinds] == ["mention", "link", "tag"]
    assert spans == ["@bob.test", "https://example.com/a?b=1", "#Chat"]


def test_real_jetstream_post_offsets_are_reproduced() -> None:
    event = json.loads((REAL / "jetstream_post_create_tags.json").read_text())
    record = event["commit"]["record"]
    ours = [f for f in make_facets(record["text"]) if f["features"][0].get("tag")]
    theirs = [f for f in record["facets"] if f["features"][0].get("tag")]
    assert [f["index"] for f in ours] == [f["index"] for f in theirs]
    assert record_tags(record) >= {"howtotellaitoshutup", "indierebellion"}


def test_graphemes_count_emoji_sequences_once() -> None:
    assert grapheme_length("👩‍👩‍👧‍👦e\u0301") == 2
