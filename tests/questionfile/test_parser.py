"""The parser, table by table: what a moderator writes and the plan it becomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatbot.errors import QuestionFileError
from chatbot.questionfile import parse_text

NOW = datetime(2026, 11, 1, tzinfo=UTC)
HEAD = "---\nhashtag: test1\ntitle: Test chat\nstart: 2027-06-01 12:00\ntimezone: Europe/Berlin\n"


def plan_of(body: str, settings: str = "", **options):
    return parse_text(HEAD + settings + "---\n" + body, path="t.md", now=NOW, **options)


def problems_of(body: str, settings: str = "") -> list[str]:
    with pytest.raises(QuestionFileError) as caught:
        plan_of(body, settings)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


@pytest.mark.parametrize(
    ("line", "label", "text"),
    [
        ("Q1. Why?", "Q1", "Why?"),
        ("Q1: Why?", "Q1", "Why?"),
        ("Q1) Why?", "Q1", "Why?"),
        ("1. Why?", "Q1", "Why?"),
        ("1) Why?", "Q1", "Why?"),
        ("q1 - Why?", "Q1", "Why?"),
        ("Q1 Why?", "Q1", "Why?"),
        ("Q 1. Why?", "Q1", "Why?"),
        ("  Q1.   Why?  ", "Q1", "Why?"),
        ("Q1a. Why?", "Q1a", "Why?"),
        ("Q1A. Why?", "Q1a", "Why?"),
        ("Q1. [Poll] Why?", "Q1", "[Poll] Why?"),
        ("Q1. 1.5 million people: why?", "Q1", "1.5 million people: why?"),
    ],
)
def test_question_line_styles(line, label, text):
    plan = plan_of(line + "\n")
    assert [(q.label, q.text) for q in plan.questions] == [(label, text)]


@pytest.mark.parametrize(
    ("body", "texts"),
    [
        ("Q1. One\ncontinued\n", ["One continued"]),
        ("Q1. One\n\nsecond paragraph\nQ2. Two\n", ["One\n\nsecond paragraph", "Two"]),
        ("Q1. One \\\nnew line\n", ["One\nnew line"]),
        ("Q1. One\n2026 was a year\n", ["One 2026 was a year"]),
        ("Q1. One\n<!-- not posted -->\nQ2. Two\n", ["One", "Two"]),
        ("Q1. One <!-- hidden --> visible\n", ["One  visible"]),
    ],
)
def test_question_text_spans_lines_like_markdown(body, texts):
    assert [q.text for q in plan_of(body).questions] == texts


def test_default_times_follow_the_interval_after_the_welcome():
    plan = plan_of("## Welcome\n\nHi #test1\n\n## Questions\n\nQ1. A\nQ2. B\n\n## Wrap-up\n\nBye\n")
    start = datetime(2027, 6, 1, 10, 0, tzinfo=UTC)  # 12:00 CEST
    assert [(p.label, p.due_at - start) for p in plan.posts] == [
        ("welcome", timedelta(0)),
        ("Q1", timedelta(minutes=10)),
        ("Q2", timedelta(minutes=20)),
        ("wrapup", timedelta(minutes=30)),
    ]
    assert all(p.due_at.tzinfo is UTC for p in plan.posts)


def test_without_a_questions_heading_the_first_question_ends_the_welcome():
    plan = plan_of("## Welcome\n\nHi all!\nQ1 is first.\n\nQ1. A\nQ2. B\n\n## Wrap-up\n\nBye\n")
    assert [(q.label, q.text) for q in plan.questions] == [("Q1", "A"), ("Q2", "B")]
    assert [p.label for p in plan.posts] == ["welcome", "Q1", "Q2", "wrapup"]
    assert "Hi all! Q1 is first." in plan.posts[0].texts["bluesky"]
    assert "Q2" not in plan.posts[0].texts["bluesky"]


def test_with_a_questions_heading_a_question_in_the_welcome_is_an_error():
    body = "## Welcome\n\nHi\n\nQ1. A\n\n## Questions\n\nQ2. B\n"
    assert "11:1: a question is inside the Welcome section" in problems_of(body)  # 6 head lines


def test_without_a_welcome_the_first_question_is_at_the_start():
    plan = plan_of("Q1. A\nQ2. B\n", "interval: 90s\n")
    assert [p.due_at.strftime("%H:%M:%S") for p in plan.posts] == ["10:00:00", "10:01:30"]


def test_offsets_restart_the_interval_and_the_wrapup_can_be_timed():
    plan = plan_of("Q1. A\nQ2 [+25m]: B\nQ3. C\n\n## Wrap-up [+1h05m]\n\nBye\n", "interval: 5m\n")
    assert [(p.label, f"{p.due_at:%H:%M}") for p in plan.posts] == [
        ("Q1", "10:00"),
        ("Q2", "10:25"),
        ("Q3", "10:30"),
        ("wrapup", "11:05"),
    ]
    assert [q.offset for q in plan.questions] == [
        timedelta(0),
        timedelta(minutes=25),
        timedelta(minutes=30),
    ]


def test_reminders_follow_each_question_and_are_sorted_by_time():
    plan = plan_of("Q1. A\nQ2. B\n", "reminder: 4m\n")
    assert [(p.kind, p.label, f"{p.due_at:%H:%M}") for p in plan.posts] == [
        ("question", "Q1", "10:00"),
        ("reminder", "A1 reminder", "10:04"),
        ("question", "Q2", "10:10"),
        ("reminder", "A2 reminder", "10:14"),
    ]
    assert plan.posts[1].texts["bluesky"] == 'Reminder: answer Q1 with "A1 ..." and #test1'


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("", "Q1: Is it? #test1"),
        ("hashtag: '#Test1'\n", "Q1: Is it? #Test1"),
        (
            "templates:\n  question: '{label} {text} ({answer_prefix}) {hashtag}'\n",
            "Q1 Is it? (A1) #test1",
        ),
        (
            "templates:\n  question: '{n}/{title}: {text} {hashtag} {{literal}}'\n",
            "1/Test chat: Is it? #test1 {literal}",
        ),
    ],
)
def test_question_templates(settings, expected):
    head = HEAD.replace("hashtag: test1\n", "") if settings.startswith("hashtag") else HEAD
    plan = parse_text(head + settings + "---\nQ1. Is it?\n", now=NOW)
    assert plan.posts[0].texts == {"bluesky": expected, "mastodon": expected}


def test_default_template_does_not_repeat_a_hashtag_already_in_the_text():
    plan = plan_of("Q1. Why #TEST1 matters?\nQ2. Is #test10 the same?\n")
    assert [p.texts["bluesky"] for p in plan.posts] == [
        "Q1: Why #TEST1 matters?",
        "Q2: Is #test10 the same? #test1",
    ]


def test_settings_reach_the_plan():
    plan = plan_of(
        "Q1. A\n",
        "moderators: '@ann.bsky.social'\nnetworks: mastodon\naccounts: {mastodon: '@c@x.social'}\n"
        "language: fr\nmax_characters: 1000\n",
    )
    assert plan.moderators == ("@ann.bsky.social",)
    assert plan.networks == ("mastodon",)
    assert plan.accounts == {"mastodon": "@c@x.social"}
    assert plan.settings["language"] == "fr"
    assert plan.settings["mastodon_limit"] == 1000
    assert list(plan.posts[0].texts) == ["mastodon"]
    assert plan.start == datetime(2027, 6, 1, 12, 0, tzinfo=plan.start.tzinfo)
    assert plan.timezone == "Europe/Berlin"


def test_the_files_mastodon_limit_overrides_the_callers():
    body = "Q1. " + "x" * 800 + "\n"
    assert plan_of(
        body, "networks: mastodon\nmax_characters: {mastodon: 1000}\n", mastodon_limit=500
    )
    with pytest.raises(QuestionFileError, match="limit 700"):
        plan_of(body, "networks: mastodon\n", mastodon_limit=700)


def test_a_setting_given_twice_is_an_error():
    found = problems_of("Q1. A\n", "start: 2027-06-02 12:00\n")
    assert found == ["6:1: start is set twice (also on line 4)"]


def test_all_problems_of_a_file_are_reported_in_line_order():
    found = problems_of("Q1. A\nQ3. C\nQ3. again\n", "interval: 5\ncolor: red\n")
    assert found == [
        "6:11: interval needs a unit",
        '7:1: unknown setting "color"',
        "10:1: Q3 follows Q1: expected Q2",
        "11:1: Q3 appears twice (also on line 10)",
    ]


def test_parsing_is_deterministic():
    text = HEAD + "reminder: 3m\n---\n## Welcome\n\nHi\n\n## Questions\n\nQ1. A\nQ2. B\n"
    assert parse_text(text, now=NOW) == parse_text(text, now=NOW)


@pytest.mark.parametrize(
    ("line", "on"),
    [("", True), ("late_joiners: off\n", False), ("late_joiners: on\n", True),
     ("late_joiners: false\n", False), ("late_joiners: No\n", False)],
)  # fmt: skip
def test_late_joiners_is_on_unless_switched_off(line, on):
    assert plan_of("Q1. A\n", line).settings["late_joiners"] is on


@pytest.mark.parametrize("value", ["maybe", "[off]", "3", '""'])
def test_late_joiners_other_than_on_or_off_is_an_error(value):
    found = problems_of("Q1. A\n", f"late_joiners: {value}\n")
    assert any("late_joiners should be on or off" in p for p in found), found
