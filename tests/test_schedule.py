"""Moving a plan in time: --start values and --compress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.bot.schedule import check_compress, parse_start, shift_plan
from chatbot.errors import UsageError
from tests.factories import START, make_plan

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NY = "America/New_York"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+30s", NOW + timedelta(seconds=30)),
        ("+5m", NOW + timedelta(minutes=5)),
        ("+1h", NOW + timedelta(hours=1)),
        ("+1h30m", NOW + timedelta(hours=1, minutes=30)),
        ("+2d", NOW + timedelta(days=2)),
        ("2026-12-01T17:00Z", datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),
        ("2026-12-01T12:00-05:00", datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),
        ("2026-12-01T12:00", datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),
        ("2026-12-01 12:00", datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),
        ("2026-07-01T12:00", datetime(2026, 7, 1, 16, 0, tzinfo=UTC)),
    ],
)
def test_parse_start(value, expected):
    assert parse_start(value, timezone=NY, now=NOW) == expected


def test_a_naive_start_is_in_the_event_zone():
    parsed = parse_start("2026-12-01T12:00", timezone=NY, now=NOW)
    assert parsed.tzinfo == ZoneInfo(NY)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "--start 'soon' is not a time; use an ISO time such as 2026-12-01T12:00"),
        ("+5", "--start '+5' is not a delay; use an ISO time"),
        ("+5 m", "--start '+5 m' is not a delay"),
        ("-5m", "--start '-5m' is not a time"),
        ("2026-12-01", "--start '2026-12-01' has no time of day"),
        ("2026-13-01T12:00", "--start '2026-13-01T12:00' is not a time"),
        ("", "--start is empty"),
        ("2026-03-08T02:30", "does not exist in America/New_York (the clocks skip it)"),
    ],
)
def test_bad_start_values(value, message):
    with pytest.raises(UsageError) as caught:
        parse_start(value, timezone=NY, now=NOW)
    assert message in str(caught.value)
    assert "+5m" in str(caught.value) or "offset" in str(caught.value)


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_bad_compress(value):
    wanted = r"must be a number from 0\.01 to 1e\+06; e\.g\. --compress 60"
    with pytest.raises(UsageError, match=wanted):
        check_compress(value)


def test_shift_to_a_new_start():
    plan = make_plan()
    new_start = datetime(2027, 1, 5, 9, 30, tzinfo=ZoneInfo(NY))
    shifted = shift_plan(plan, start=new_start)
    assert shifted.start == new_start
    assert [p.due_at - shifted.start for p in shifted.posts] == [
        p.due_at - plan.start for p in plan.posts
    ]
    assert all(p.due_at.tzinfo == UTC for p in shifted.posts)
    assert [p.texts for p in shifted.posts] == [p.texts for p in plan.posts]
    assert shifted.notes[-1] == "note: moved to start at 2027-01-05 09:30:00 EST"


def test_compress_divides_offsets_and_keeps_the_start():
    plan = make_plan(spacing=timedelta(minutes=10))
    shifted = shift_plan(plan, start=None, compress=60)
    assert shifted.start == plan.start
    assert [p.due_at - shifted.start for p in shifted.posts] == [
        timedelta(seconds=s) for s in (0, 10, 20, 30, 40)
    ]
    assert [q.offset for q in shifted.questions] == [timedelta(seconds=s) for s in (10, 20, 30)]
    assert shifted.notes[-1].endswith(", 60 times faster")


def test_a_start_given_in_utc_lands_in_the_event_zone():
    shifted = shift_plan(make_plan(), start=NOW)
    assert shifted.start == NOW and shifted.start.tzinfo == ZoneInfo(NY)
    assert shifted.posts[0].due_at == NOW


def test_shifting_across_a_dst_change_keeps_real_intervals():
    # 2026-03-08 02:00 New York clocks jump to 03:00.
    start = datetime(2026, 3, 8, 1, 30, tzinfo=ZoneInfo(NY))
    shifted = shift_plan(make_plan(spacing=timedelta(minutes=30)), start=start)
    gaps = {b.due_at - a.due_at for a, b in zip(shifted.posts, shifted.posts[1:], strict=False)}
    assert gaps == {timedelta(minutes=30)}


def test_no_change_returns_the_same_plan():
    plan = make_plan()
    assert shift_plan(plan, start=None) is plan


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=4 * 3600), min_size=1, max_size=12),
    compress=st.floats(min_value=0.5, max_value=1000),
    shift=st.integers(min_value=-(10**7), max_value=10**7),
)
def test_shift_keeps_order_and_spacing_ratios(gaps, compress, shift):
    offsets, total = [], 0
    for gap in gaps:
        total += gap
        offsets.append(timedelta(seconds=total))
    plan = make_plan(questions=[f"q{n}" for n in range(len(offsets))], offsets=offsets)
    new_start = START + timedelta(seconds=shift)
    shifted = shift_plan(plan, start=new_start, compress=compress)
    before = [p.due_at for p in plan.posts]
    after = [p.due_at for p in shifted.posts]
    assert after == sorted(after)
    assert after[0] == new_start
    for old, new in zip(before, after, strict=True):
        expected = (old - plan.start) / compress
        assert abs((new - shifted.start) - expected) <= timedelta(microseconds=1)
    assert [p.label for p in shifted.posts] == [p.label for p in plan.posts]
