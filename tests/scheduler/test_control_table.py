"""docs/running.md's table of the live controls, row by row, on the sandbox through the CLI.

Each test is one row: what the control does to each kind of post (welcome,
question, reminder, follow-up, wrap-up) on both networks, to the collection
window, and to which question an answer is attributed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chatbot.clock import FileClock
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.controlchat import TAG, ControlChat, start_chat
from tests.scheduler.stepping import file_clock

ALL = [
    "Welcome to the chat!", "Q1: First?", "Reminder: answer Q1", "Q2: Second?",
    "Reminder: answer Q2", "Q3: Third?", "Reminder: answer Q3 ", "Q3a: Third, the follow-up?",
    "Reminder: answer Q3a", "Q4: Fourth?", "Reminder: answer Q4", "Thanks for joining!",
]  # fmt: skip


@pytest.fixture
def chat(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[ControlChat]:
    clock: FileClock = file_clock(tmp_path)
    with Sandbox(seed=5, clock=clock) as box:
        yield start_chat(engine, database_url, tmp_path, box)


def _posted(chat: ControlChat) -> list[str]:
    """The starts of ALL that went out, the same on both networks and in the same order."""
    texts = chat.posted_texts()
    found = [
        [
            start
            for text in texts[n]
            for start in ALL
            if text.startswith(start) or text.removeprefix("<p>").startswith(start)
        ]
        for n in ("bluesky", "mastodon")
    ]
    assert found[0] == found[1], texts
    return found[0]


def test_skip_a_question_takes_its_reminder_and_follow_ups_but_not_the_window(chat):
    chat.run_to(25)  # welcome, Q1, its reminder, Q2, its reminder are out
    window = chat.window()
    out = chat.cli("skip", TAG, "Q3")
    event = chat.event_id
    assert out.splitlines() == [
        f"Skipped Q3 of #{TAG} on bluesky and mastodon.",
        "Skipped with it: A3 reminder, Q3a, A3a reminder.",
        f"To post it after all: `chatbot post-now {event} Q3`",
    ]
    chat.run_to(36)
    chat.answer("loving this conversation #tbl")  # no prefix, while Q3 would have been open
    chat.answer("A3 even so, my answer #tbl")
    chat.run_to(70)
    assert _posted(chat) == [t for t in ALL if "Q3" not in t]
    assert chat.window() == window  # the chat's conversation goes on as planned
    assert chat.attribution() == {
        "loving this conversation #tbl": "Q2",  # Q2 stays open until Q4
        "A3 even so, my answer #tbl": "Q3",  # an answer's own label still counts
    }


def test_skip_only_and_a_reminder_by_its_label(chat):
    chat.run_to(12)
    assert chat.cli("skip", TAG, "A1 reminder").splitlines()[0] == (
        f"Skipped A1 reminder of #{TAG} on bluesky and mastodon."
    )
    assert chat.cli("skip", TAG, "Q3", "--only").splitlines()[:2] == [
        f"Skipped Q3 of #{TAG} on bluesky and mastodon.",
        f"To post it after all: `chatbot post-now {chat.event_id} Q3`",
    ]
    chat.run_to(70)
    assert _posted(chat) == [
        t for t in ALL if not t.startswith(("Reminder: answer Q1", "Q3: Third"))
    ]


def test_skip_the_welcome_and_the_wrapup(chat):
    chat.cli("skip", TAG, "welcome")
    chat.cli("skip", TAG, "wrapup")
    chat.run_to(70)
    assert _posted(chat) == ALL[1:-1]


def test_delay_moves_posts_and_window_together_in_the_events_zone(chat):
    chat.run_to(12)  # welcome and Q1 out
    before_from, before_until = chat.window()
    out = chat.cli("delay", TAG, "5m")
    assert out == (
        f"Delayed 10 posts of #{TAG} by 5m (A1 reminder, Q2, A2 reminder, Q3, A3 reminder, "
        "Q3a, A3a reminder, Q4, A4 reminder, wrapup); next: A1 reminder at 12:19:00 EST; "
        "collecting until 14:05:00 EST.\n"
    ).replace("12:19", chat.at(19).astimezone(_zone()).strftime("%H:%M")).replace(
        "14:05", (before_until + timedelta(minutes=5)).astimezone(_zone()).strftime("%H:%M")
    ).replace("EST", chat.at(0).astimezone(_zone()).strftime("%Z"))
    assert chat.window() == (before_from, before_until + timedelta(minutes=5))
    chat.run_to(22)
    chat.answer("still thinking about the first one #tbl")  # Q2 was due at 20, now at 25
    chat.run_to(70)
    assert chat.posted_at("Q2") == {chat.at(25)}
    assert chat.posted_at("wrapup") == {chat.at(65)}
    assert _posted(chat) == ALL
    assert chat.attribution() == {"still thinking about the first one #tbl": "Q1"}


def test_a_negative_delay_brings_posts_forward_never_into_the_past(chat):
    chat.run_to(12)
    _, until = chat.window()
    refused = chat.cli("delay", TAG, "-5m", code=2)
    assert "would put A1 reminder" in refused and "before now" in refused
    assert f"at most 2m forward: `chatbot delay {chat.event_id} -2m`" in refused
    assert chat.window()[1] == until  # nothing changed
    assert chat.cli("delay", TAG, "-2m").startswith(f"Brought 10 posts of #{TAG} forward by 2m")
    assert chat.window()[1] == until - timedelta(minutes=2)
    chat.run_to(70)
    assert chat.posted_at("Q2") == {chat.at(18)}
    assert _posted(chat) == ALL


def test_pause_holds_everything_and_resume_says_what_goes_and_what_is_skipped(chat):
    chat.run_to(1)  # the welcome is out
    window = chat.window()
    assert chat.cli("pause", TAG).startswith(f"Paused #{TAG} (event {chat.event_id}) at ")
    chat.run_to(32)  # Q1 (+10), its reminder (+14), Q2 (+20), A2 reminder (+24), Q3 (+30) held
    assert _posted(chat) == ALL[:1]
    zone = _zone()

    def due(minutes: int) -> str:
        return chat.at(minutes).astimezone(zone).strftime("%H:%M:%S %Z")

    assert chat.cli("resume", TAG).splitlines() == [
        f"Resumed #{TAG} (event {chat.event_id}).",
        f"Q1 (due {due(10)}) is 22m late, past the late limit (10m): skipped. "
        f"To post it after all: `chatbot post-now {chat.event_id} Q1`",
        f"A1 reminder (due {due(14)}) is 18m late, past the late limit (10m): skipped. "
        f"To post it after all: `chatbot post-now {chat.event_id} 'A1 reminder'`",
        f"Q2 (due {due(20)}) is 12m late, past the late limit (10m): skipped. "
        f"To post it after all: `chatbot post-now {chat.event_id} Q2`",
        f"A2 reminder (due {due(24)}) goes out now.",
        f"Q3 (due {due(30)}) goes out now.",
    ]
    status = chat.cli("status", TAG)
    assert "skipped: 12m late at the resume (limit 10m)" in status
    chat.run_to(33)
    assert chat.posted_at("A2 reminder") == chat.posted_at("Q3") == {chat.at(32)}
    chat.run_to(70)
    # What it said is what happened: nothing more skipped, nothing else held.
    assert _posted(chat) == [ALL[0], *ALL[4:]]
    assert chat.window() == window


def test_post_now_says_what_holds_it_back_and_takes_a_skipped_post_back(chat):
    chat.run_to(11)  # welcome and Q1 out; the A1 reminder is due at +14
    refused = chat.cli("post-now", TAG, "Q2", code=2)
    event = chat.event_id
    assert (
        f"A1 reminder comes before Q2 and is not due yet ({_local(chat, 14)}); posts go out in "
        f"order. Skip it (`chatbot skip {event} 'A1 reminder'`) or post it first "
        f"(`chatbot post-now {event} 'A1 reminder'`)"
    ) in refused
    assert chat.cli("post-now", TAG, "A1 reminder").splitlines() == [
        f"A1 reminder of #{TAG} is due now ({_local(chat, 11)}) on bluesky and mastodon."
    ]
    assert chat.cli("post-now", TAG, "Q2").splitlines() == [
        f"Q2 of #{TAG} is due now ({_local(chat, 11)}) on bluesky and mastodon, "
        "after A1 reminder (due already)."
    ]
    chat.run_to(12)
    assert chat.posted_at("Q2") == {chat.at(11)}
    chat.answer("so much to say #tbl")  # after Q2 went out early: Q2's
    chat.cli("skip", TAG, "Q4", "--only")
    chat.run_to(52)
    assert chat.cli("post-now", TAG, "Q4").splitlines()[1] == (
        "It was skipped on bluesky and mastodon; it is taken back."
    )
    chat.run_to(70)
    assert _posted(chat) == ALL
    assert chat.attribution() == {"so much to say #tbl": "Q2"}


def _zone():
    from zoneinfo import ZoneInfo

    from tests.scheduler.controlchat import ZONE

    return ZoneInfo(ZONE)


def _local(chat: ControlChat, minutes: float) -> str:
    return chat.at(minutes).astimezone(_zone()).strftime("%H:%M:%S %Z")
