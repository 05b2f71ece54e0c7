"""Start times: DST gaps and overlaps, the past, time zones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatbot.errors import QuestionFileError
from chatbot.questionfile import check_text, parse_text

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def file_with(start: str, zone: str = "America/New_York") -> str:
    return f"---\nhashtag: t\ntitle: T\nstart: {start}\ntimezone: {zone}\n---\nQ1. A\nQ2. B\n"


def test_a_start_inside_the_spring_forward_gap_is_an_error_naming_the_valid_times():
    plan, problems = check_text(file_with("2027-03-14 02:30"), path="f.md", now=NOW)
    assert plan is None
    assert [p.format() for p in problems] == [
        "f.md:4:8: error: 2027-03-14 02:30 does not exist in America/New_York: clocks jump "
        "from 02:00 straight to 03:00 (EST to EDT)\n"
        "    fix: choose a time before 02:00 or from 03:00 on"
    ]


def test_a_start_in_the_fall_back_overlap_takes_the_first_one_with_a_note():
    plan, problems = check_text(file_with("2027-11-07 01:30"), path="f.md", now=NOW)
    assert plan is not None
    assert plan.start.tzname() == "EDT"
    assert plan.posts[0].due_at == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    # The second question, ten minutes on, is still ten minutes later in real time.
    assert plan.posts[1].due_at == datetime(2027, 11, 7, 5, 40, tzinfo=UTC)
    assert [(p.severity, p.line, p.column) for p in problems] == [("note", 4, 8)]
    assert "happens twice in America/New_York" in problems[0].message
    assert "EDT (UTC-04:00), which is 05:30 UTC" in problems[0].message
    assert plan.notes == (problems[0].format(),)


def test_a_gap_of_half_an_hour_is_reported_too():
    with pytest.raises(QuestionFileError, match="from 02:00 straight to 02:30"):
        parse_text(file_with("2027-10-03 02:15", "Australia/Lord_Howe"), now=NOW)


@pytest.mark.parametrize(
    ("start", "allow_past", "ok"),
    [
        ("2026-10-31 12:00", False, False),
        ("2026-10-31 12:00", True, True),
        ("2026-11-01 12:00", False, True),
    ],
)
def test_a_start_in_the_past_needs_allow_past(start, allow_past, ok):
    plan, problems = check_text(file_with(start, "UTC"), now=NOW, allow_past=allow_past)
    assert (plan is not None) is ok
    if not ok:
        assert "is in the past" in problems[0].message
        assert "--allow-past" in problems[0].hint


def test_start_keeps_the_zone_and_posts_are_utc():
    plan = parse_text(file_with("2027-01-05 09:00", "Asia/Kolkata"), now=NOW)
    assert plan.start.isoformat() == "2027-01-05T09:00:00+05:30"
    assert plan.posts[0].due_at.isoformat() == "2027-01-05T03:30:00+00:00"


@pytest.mark.parametrize(
    ("zone", "suggestion"),
    [
        ("America/New_Yrok", "America/New_York"),
        ("america/new_york", "America/New_York"),
        ("Europe/Londn", "Europe/London"),
        ("Eastern Standard Time", "America/New_York"),
        ("PST", "America/Los_Angeles"),
    ],
)
def test_zone_typos_get_a_suggestion(zone, suggestion):
    plan, problems = check_text(file_with("2027-01-05 09:00", zone), now=NOW)
    assert plan is None
    assert f'(did you mean "{suggestion}"?)' in problems[0].message
