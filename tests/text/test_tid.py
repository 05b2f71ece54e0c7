"""TIDs as atproto.com/specs/tid defines them: encoding, decoding, validity, order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.text.tid import (
    MAX_CLOCK_ID,
    MAX_TIMESTAMP_US,
    TID_ALPHABET,
    decode_tid,
    encode_tid,
    is_valid_tid,
    tid_for_datetime,
    to_microseconds,
)

timestamps = st.integers(0, MAX_TIMESTAMP_US)
clock_ids = st.integers(0, MAX_CLOCK_ID)


def test_encoding_matches_the_spec():
    # Integer zero is all "2"s; with the top bit zero the largest TID starts with
    # "b", though the spec's syntax accepts a first character up to "j".
    assert encode_tid(0, 0) == "2" * 13
    assert encode_tid(MAX_TIMESTAMP_US, MAX_CLOCK_ID) == "b" + "z" * 12
    micros, _ = decode_tid("3jzfcijpj2z2a")  # the spec's example, made mid-2023
    assert datetime.fromtimestamp(micros / 1e6, UTC).date() == date(2023, 6, 30)
    assert is_valid_tid("jzzzzzzzzzzzz")


@settings(deadline=None)
@given(timestamps, clock_ids)
def test_encode_decode_round_trip_and_validity(timestamp, clock_id):
    tid = encode_tid(timestamp, clock_id)
    assert len(tid) == 13 and set(tid) <= set(TID_ALPHABET)
    assert is_valid_tid(tid) and tid[0] in "234567ab"
    assert decode_tid(tid) == (timestamp, clock_id)


@settings(deadline=None)
@given(timestamps, clock_ids, timestamps, clock_ids)
def test_tids_sort_as_text_like_their_values(t1, c1, t2, c2):
    assert (encode_tid(t1, c1) < encode_tid(t2, c2)) == ((t1, c1) < (t2, c2))


@given(st.text(alphabet=TID_ALPHABET, min_size=13, max_size=13))
def test_validity_is_the_specs_syntax(value):
    assert is_valid_tid(value) == (value[0] in "234567abcdefghij")


@pytest.mark.parametrize(
    "value", ["3jzfcijpj2z2a", "7777777777777", "3jui7kd2z2y2e", "3n37wtdzjaluq"]
)
def test_real_record_keys_are_valid(value):
    assert is_valid_tid(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "3jzfcijpj2z2",  # 12 characters
        "3jzfcijpj2z2aa",  # 14
        "kjzfcijpj2z2a",  # first character past "j": more than 64 bits
        "3jzfcijpj2z2A",  # upper case is not in the alphabet
        "3jzfcijpj2z21",  # nor is "1"
        "self",
        "1111111111111",
    ],
)
def test_invalid_tids_are_refused(value):
    assert not is_valid_tid(value)
    with pytest.raises(ValueError):
        decode_tid(value)


@pytest.mark.parametrize(("timestamp", "clock_id"), [(-1, 0), (MAX_TIMESTAMP_US + 1, 0), (0, 1024)])
def test_out_of_range_parts_are_refused(timestamp, clock_id):
    with pytest.raises(ValueError):
        encode_tid(timestamp, clock_id)


@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)),
    st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))]),
)
def test_tid_for_datetime_keeps_every_microsecond(moment, zone):
    # The sandbox's old float conversion could be a microsecond off; the rule is exact.
    aware = moment.replace(tzinfo=zone)
    micros, clock_id = decode_tid(tid_for_datetime(aware, 7))
    assert clock_id == 7
    assert datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros) == aware
    assert micros == to_microseconds(aware)
