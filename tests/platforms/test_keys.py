"""Post keys and the record keys (TIDs) and idempotency keys made from them."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.platforms.keys import due_of_key, idempotency_key, post_key, record_key
from chatbot.text.tid import TID_ALPHABET, decode_tid, encode_tid, is_valid_tid

names = st.text(min_size=1, max_size=40)
dues = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


def test_post_key_carries_its_due_time():
    due = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    key = post_key("sm35-2026-11-26", "q3", due)
    assert key == "sm35-2026-11-26/q3@1795705200000000"
    assert due_of_key(key) == due
    assert due_of_key("no time here") is None
    with pytest.raises(ValueError):
        post_key("e", "p", datetime(2026, 1, 1))


def test_record_key_timestamp_is_within_a_second_of_the_due_time():
    due = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    micros, _clock = decode_tid(record_key(post_key("e", "q1", due)))
    moment = datetime.fromtimestamp(micros / 1e6, UTC)
    assert due <= moment < due + timedelta(seconds=1)


@given(event=names, post=names, due=dues, network=st.sampled_from(["bluesky", "x"]))
def test_record_key_is_a_valid_deterministic_tid(event, post, due, network):
    key = post_key(event, post, due)
    tid = record_key(key, network)
    assert is_valid_tid(tid)
    assert set(tid) <= set(TID_ALPHABET) and tid[0] in "234567abcdefghij"
    assert record_key(key, network) == tid
    micros, clock = decode_tid(tid)
    assert encode_tid(micros, clock) == tid
    assert 0 <= clock < 1024


@given(key=st.text(min_size=1, max_size=80))
def test_any_key_gives_a_valid_tid(key):
    assert is_valid_tid(record_key(key))


@given(
    a=st.tuples(names, names, dues),
    b=st.tuples(names, names, dues),
)
def test_distinct_posts_get_distinct_keys(a, b):
    if a == b:
        return
    ka, kb = post_key(*a), post_key(*b)
    if ka == kb:  # e.g. "a/b" + "c" and "a" + "b/c": the same key by construction
        return
    assert record_key(ka) != record_key(kb)
    assert idempotency_key(ka) != idempotency_key(kb)


def test_same_due_second_different_posts_spread_over_the_second():
    due = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    tids = {record_key(post_key("e", f"q{i}", due)) for i in range(2000)}
    assert len(tids) == 2000


def test_networks_get_different_tokens_for_one_key():
    key = post_key("e", "q1", datetime(2026, 1, 1, tzinfo=UTC))
    assert record_key(key, "bluesky") != record_key(key, "other")
    token = idempotency_key(key)
    assert token == idempotency_key(key) and token.startswith("chatbot-") and len(token) == 40
    with pytest.raises(ValueError):
        idempotency_key("")


# Computed by the code before the TID rules moved to chatbot.text (issue 18): a
# post scheduled before an upgrade must get the same record key and idempotency
# key after it, or a retry would post it twice.
PINNED = [
    (
        ("sm35-2026-11-26", "q1", datetime(2026, 11, 26, 15, 0, tzinfo=UTC)),
        "3n37wtdzjaluq",
        "chatbot-6ad60cf8479d26420a74caca519f3c6d",
    ),
    (
        ("sm35-2026-11-26", "q3", datetime(2026, 11, 26, 15, 20, tzinfo=UTC)),
        "3n37xx3tp3pmj",
        "chatbot-011e5456acd4a4b8006251e7d4521bfe",
    ),
    (
        ("chat-2025-01-02", "welcome", datetime(2025, 1, 2, 9, 30, 15, tzinfo=UTC)),
        "3leqrboje7ewx",
        "chatbot-ba97183b30e4af96872e591a1c5afa52",
    ),
    (
        ("évé", "q😀", datetime(2030, 6, 1, tzinfo=UTC)),
        "3q7ykr7rqjyhf",
        "chatbot-46676818851d28b6bda7c089e027b800",
    ),
]


@pytest.mark.parametrize(("parts", "rkey", "token"), PINNED)
def test_keys_of_already_scheduled_posts_never_change(parts, rkey, token):
    key = post_key(*parts)
    assert record_key(key) == rkey
    assert idempotency_key(key) == token


def test_keys_without_a_due_time_never_change():
    assert record_key("no time here") == "3jrqmggklvm6a"
    assert record_key("no time here", "other") == "3jygaddhcj23a"
    assert record_key("legacy-key") == "3jv5tv2xcvgmy"
