"""The control functions on both engines: what each changes and what each refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from chatbot.bot import controls, outbox
from chatbot.errors import UsageError
from chatbot.eventref import resolve_event
from chatbot.models import Event, PostDelivery, ScheduledPost
from chatbot.platforms.base import RemoteRef
from tests.scheduler.conftest import load_chat

NOW = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
LIMIT = timedelta(minutes=10)


def post_welcome(engine, network="bluesky"):
    claimed = outbox.claim_next(
        engine, network, now=NOW, worker="w", lease=timedelta(minutes=5), late_limit=LIMIT
    ).claim
    ref = RemoteRef(network, "1", "at://x/1", "https://example.org/1")
    outbox.complete(engine, claimed, ref, now=NOW, late_after=timedelta(minutes=1))


def test_a_hashtag_names_its_running_or_next_event_else_its_latest(engine):
    old = load_chat(engine, NOW - timedelta(days=7), questions=0)
    new = load_chat(engine, NOW + timedelta(days=7), questions=0)
    with Session(engine) as session:
        assert resolve_event(session, "#SCHED", purpose="act", now=NOW).id == old
        session.get(Event, old).state = "finished"
        session.commit()
        assert resolve_event(session, "sched", purpose="act", now=NOW).id == new
        assert resolve_event(session, str(old), purpose="act", now=NOW).id == old
        with pytest.raises(UsageError, match=r"^no event with id 99 in the database;"):
            resolve_event(session, "99", purpose="act", now=NOW)
    # The controls themselves resolve by the same rule.
    assert controls.status(engine, "sched").event_id == new


def test_pause_and_resume_say_what_changed_and_do_it(engine):
    event_id = load_chat(
        engine, NOW - timedelta(minutes=12), questions=2, spacing=timedelta(minutes=6)
    )
    assert controls.pause(engine, "sched", now=NOW).summary() == (
        f"Paused #sched (event {event_id}) at 18:00:00 UTC: no more posts until "
        f"`chatbot resume {event_id}`. A post that falls due meanwhile goes out at the resume, "
        "or is skipped then if it is more than the late limit behind."
    )
    assert controls.pause(engine, "sched", now=NOW).summary() == "#sched is already paused."
    lines = controls.resume(engine, "sched", now=NOW, late_limit=LIMIT).lines
    assert lines == (
        f"Resumed #sched (event {event_id}).",
        "welcome (due 17:48:00 UTC) is 12m late, past the late limit (10m): skipped. "
        f"To post it after all: `chatbot post-now {event_id} welcome`",
        "Q1 (due 17:54:00 UTC) goes out now.",
        "Q2 (due 18:00:00 UTC) goes out now.",
    )
    with Session(engine) as session:
        got = {
            p.label: ({d.state for d in p.deliveries}, {d.due_at for d in p.deliveries})
            for p in session.exec(select(ScheduledPost))
        }
    # What it said is what the outbox now holds: the runner has nothing left to decide.
    assert got["welcome"][0] == {"skipped"}
    assert got["Q1"] == ({"pending"}, {NOW})
    assert controls.resume(engine, "sched", now=NOW, late_limit=LIMIT).summary() == (
        "#sched is not paused."
    )


def test_resume_judges_by_the_late_limit_the_run_stored(engine):
    event_id = load_chat(engine, NOW - timedelta(minutes=12), questions=1)
    controls.set_options(engine, [event_id], late_limit=timedelta(minutes=30))
    controls.pause(engine, "sched", now=NOW)
    lines = controls.resume(engine, "sched", now=NOW, late_limit=LIMIT).lines
    assert lines[1] == "welcome (due 17:48:00 UTC) goes out now."


def test_skip_refuses_a_post_already_out_and_skips_the_rest(engine):
    event_id = load_chat(engine, NOW, questions=1)
    post_welcome(engine, "bluesky")
    report = controls.skip(engine, "sched", "welcome", now=NOW)
    assert report.lines == (
        "Skipped welcome of #sched on mastodon.",
        "note: it was already posted on bluesky.",
        f"To post it after all: `chatbot post-now {event_id} welcome`",
    )
    with pytest.raises(
        UsageError, match=r"already out on bluesky \(posted\); it cannot be skipped"
    ):
        controls.skip(engine, "sched", "welcome", now=NOW)
    with pytest.raises(UsageError, match="has no post 'Q7'; its posts: welcome, Q1, wrapup"):
        controls.skip(engine, "sched", "Q7", now=NOW)
    assert controls.skip(engine, "sched", "q1", now=NOW).lines[0].startswith("Skipped Q1")


def test_delay_moves_every_post_not_yet_sent(engine):
    load_chat(engine, NOW, questions=2)
    post_welcome(engine, "bluesky")
    report = controls.delay(engine, "sched", timedelta(minutes=5), now=NOW)
    assert report.summary() == (
        "Delayed 4 posts of #sched by 5m (welcome, Q1, Q2, wrapup); next: welcome at "
        "18:05:00 UTC; collecting until 19:08:00 UTC."
    )
    with Session(engine) as session:
        shifts = {
            (d.network, p.label): d.due_at - p.original_due_at
            for p in session.exec(select(ScheduledPost))
            for d in p.deliveries
        }
    assert shifts.pop(("bluesky", "welcome")) == timedelta(0)  # already out there
    assert set(shifts.values()) == {timedelta(minutes=5)}
    with pytest.raises(UsageError, match="a delay of 0 changes nothing"):
        controls.delay(engine, "sched", timedelta(0), now=NOW)


def test_post_now_makes_a_post_due_and_keeps_the_order(engine):
    load_chat(engine, NOW + timedelta(minutes=1), questions=2)
    with pytest.raises(UsageError, match="welcome comes before Q1 and is not due yet"):
        controls.post_now(engine, "sched", "Q1", now=NOW)
    assert controls.post_now(engine, "sched", "welcome", now=NOW).lines == (
        "welcome of #sched is due now (18:00:00 UTC) on bluesky and mastodon.",
    )
    controls.post_now(engine, "sched", "Q1", now=NOW)  # the welcome is due: fine
    with Session(engine) as session:
        due = {
            d.due_at
            for d in session.exec(select(PostDelivery))
            if not d.text.startswith(("Q2", "Thanks"))
        }
    assert due == {NOW}


def test_controls_refuse_a_finished_event(engine):
    load_chat(engine, NOW, questions=0, networks=("bluesky",))
    controls.skip(engine, "sched", "welcome", now=NOW)
    controls.skip(engine, "sched", "wrapup", now=NOW)
    assert controls.status(engine, "sched").state == "finished"
    with pytest.raises(UsageError, match="is finished; there is nothing left to pause"):
        controls.pause(engine, "sched", now=NOW)


@pytest.mark.parametrize(
    ("text", "minutes"), [("5m", 5), ("90s", 1.5), ("1h30m", 90), ("-5m", -5), ("+2m", 2)]
)
def test_parse_delay(text, minutes):
    assert controls.parse_delay(text) == timedelta(minutes=minutes)


def test_parse_delay_refuses_nonsense():
    with pytest.raises(UsageError, match=r"'5' is not a duration; write e\.g\. 5m"):
        controls.parse_delay("5")


def test_a_recap_url_too_long_for_the_wrapup_is_refused(engine):
    event_id = load_chat(engine, NOW, questions=0)
    too_long = r"with --recap-url is 3\d\d graphemes; Bluesky allows 300"
    with pytest.raises(UsageError, match=too_long):
        controls.set_options(engine, [event_id], recap_url="https://example.org/" + "x" * 300)
    with pytest.raises(UsageError, match="must start with https://"):
        controls.set_options(engine, [event_id], recap_url="example.org")


def test_a_reload_keeps_what_the_run_stored(engine):
    event_id = load_chat(engine, NOW + timedelta(minutes=5), questions=1)
    controls.set_options(engine, [event_id], layout="thread", late_limit=timedelta(minutes=30))
    assert load_chat(engine, NOW + timedelta(minutes=5), questions=2) == event_id  # reloaded
    with Session(engine) as session:
        settings = session.get(Event, event_id).settings
    assert settings["layout"] == "thread" and settings["late_limit_seconds"] == 1800
