"""Status ids: ULIDs (GoToSocial) and snowflakes (Mastodon) sort as their times do."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.sandbox.mastodon.ids import (
    ULID_LENGTH,
    SnowflakeIds,
    UlidIds,
    decode_ulid,
    encode_ulid,
    snowflake_ms,
    ulid_ms,
)

values = st.integers(min_value=0, max_value=(1 << 128) - 1)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(values, values)
def test_ulid_text_order_is_number_order(a: int, b: int) -> None:
    text_a, text_b = encode_ulid(a), encode_ulid(b)
    assert len(text_a) == ULID_LENGTH
    assert decode_ulid(text_a) == a and decode_ulid(text_a.lower()) == a
    assert (text_a < text_b) == (a < b)


@given(st.lists(moments, min_size=1, max_size=30), st.integers(0, 1000))
def test_minted_ulids_sort_by_time_and_never_repeat(times: list[datetime], seed: int) -> None:
    ids = UlidIds(seed)
    minted = [(moment, ids.mint(moment, monotonic=False)) for moment in times]
    assert len({text for _, text in minted}) == len(minted)
    for moment, text in minted:
        assert ulid_ms(text) == int(moment.timestamp() * 1000)
    for (t1, a), (t2, b) in itertools.pairwise(minted):
        if t1 != t2:
            assert (a < b) == (t1 < t2)


@given(st.integers(0, 50))
def test_ids_from_now_only_grow_even_when_the_clock_steps_back(steps: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minter, key in ((UlidIds(), str), (SnowflakeIds(), int)):
        previous = None
        for n in range(steps + 2):
            moment = start + timedelta(milliseconds=(n % 3) - 1)  # stutters
            current = minter.mint(moment)
            if previous is not None:
                assert key(current) > key(previous)  # type: ignore[operator]
            previous = current


def test_snowflakes_keep_their_time() -> None:
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert snowflake_ms(SnowflakeIds().mint(moment)) == int(moment.timestamp() * 1000)


@pytest.mark.parametrize("text", ["", "0" * 25, "I" * 26, "8" + "0" * 25])
def test_malformed_ulids_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        decode_ulid(text)
