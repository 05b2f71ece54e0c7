"""EVENT on the command line: ids, hashtags, TAG@YYYY-MM-DD and the two purposes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from chatbot.bot import controls
from chatbot.errors import UsageError
from chatbot.eventref import resolve_event
from chatbot.export import write_exports
from chatbot.models import Event, hashtag_key

NOW = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
STORES = "`chatbot load FILE` (or `chatbot import FILE`) stores one"
BAD_DAY = (
    ": after @ give the day the event starts as YYYY-MM-DD, in the event's time zone "
    "(e.g. sm35@2027-12-07)"
)
FORMS = "give an event id, a hashtag (sm35 or #sm35) or TAG@YYYY-MM-DD (e.g. sm35@2027-12-07)"


def add(
    engine: Engine,
    start: datetime,
    *,
    tag: str = "sm35",
    state: str = "scheduled",
    zone: str = "UTC",
    length: timedelta = timedelta(hours=1),
) -> int:
    """Store an event of ``tag`` starting at ``start``; returns its id."""
    start = start.astimezone(UTC)
    with Session(engine) as session:
        event = Event(
            hashtag=tag,
            hashtag_key=hashtag_key(tag),
            title=f"#{tag}",
            timezone=zone,
            start_at=start,
            end_at=start + length,
            source_path=f"/chats/{tag}-{start:%Y%m%d%H%M}.md",
            state=state,
            collect_from=start - timedelta(minutes=15),
            collect_until=start + length + timedelta(minutes=30),
        )
        session.add(event)
        session.commit()
        assert event.id is not None
        return event.id


def resolve(engine: Engine, ref: str, purpose: str = "record", now: datetime = NOW) -> int | None:
    with Session(engine) as session:
        return resolve_event(session, ref, purpose=purpose, now=now).id  # type: ignore[arg-type]


def refusal(engine: Engine, ref: str, purpose: str = "record") -> str:
    with Session(engine) as session, pytest.raises(UsageError) as caught:
        resolve_event(session, ref, purpose=purpose, now=NOW)  # type: ignore[arg-type]
    return str(caught.value)


# Ids


@pytest.mark.parametrize("purpose", ["act", "record"])
def test_digits_name_the_event_with_that_id_whatever_its_state(engine, purpose):
    old = add(engine, NOW - WEEK, state="finished")
    add(engine, NOW + WEEK)
    other = add(engine, NOW, tag="other", state="cancelled")
    assert resolve(engine, str(old), purpose) == old
    assert resolve(engine, f"  00{other}\n", purpose) == other


@pytest.mark.parametrize("ref", ["99", "0", "2147483648", "9" * 40])
def test_an_unknown_id_says_so_and_how_to_find_one(engine, ref):
    add(engine, NOW)
    assert refusal(engine, ref) == (
        f"no event with id {ref} in the database; `chatbot status TAG` shows a hashtag's "
        f"event with its id; {STORES}"
    )


# Hashtags


@pytest.mark.parametrize("ref", ["sm35", "#sm35", "SM35", "#Sm35", " sm35 ", "ｓｍ３５", "##sm35"])
def test_a_hashtag_matches_with_or_without_hash_in_any_case(engine, ref):
    event_id = add(engine, NOW - timedelta(minutes=5), tag="Sm35")
    add(engine, NOW, tag="sm350")
    assert resolve(engine, ref) == event_id
    assert resolve(engine, ref, "act") == event_id


@pytest.mark.parametrize("purpose", ["act", "record"])
def test_an_unknown_hashtag_names_it_and_says_how_to_store_one(engine, purpose):
    add(engine, NOW)
    assert refusal(engine, "#NoChat", purpose) == f"no event #NoChat in the database; {STORES}"
    assert refusal(engine, "nochat@2030-01-08", purpose) == (
        f"no event #nochat in the database; {STORES}"
    )
    assert refusal(engine, "#12", purpose) == f"no event #12 in the database; {STORES}"
    assert refusal(engine, "sm 35", purpose) == f"no event '#sm 35' in the database; {STORES}"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("", f"no event given; {FORMS}"),
        ("   ", f"no event given; {FORMS}"),
        ("#", f"# names no hashtag; {FORMS}"),
        ("@2030-01-08", f"@2030-01-08 names no hashtag; {FORMS}"),
    ],
)
def test_no_hashtag_at_all_is_refused_with_the_forms_event_takes(engine, ref, message):
    add(engine, NOW)
    assert refusal(engine, ref) == message


# TAG@YYYY-MM-DD


def test_tag_at_day_picks_the_event_starting_that_day_in_its_own_time_zone(engine):
    york = ZoneInfo("America/New_York")
    # 19:00 in New York is already the next day in UTC.
    first = add(engine, datetime(2030, 1, 7, 19, 0, tzinfo=york), zone="America/New_York")
    second = add(engine, datetime(2030, 1, 14, 19, 0, tzinfo=york), zone="America/New_York")
    for purpose in ("act", "record"):
        assert resolve(engine, "sm35@2030-01-07", purpose) == first
        assert resolve(engine, "#SM35@2030-01-14", purpose) == second
        assert resolve(engine, " sm35@2030-01-14 ", purpose) == second
    assert refusal(engine, "sm35@2030-01-08") == (
        "no event #sm35 starting 2030-01-08 in the database (its events start: "
        f"sm35@2030-01-07, sm35@2030-01-14); {STORES}"
    )


def test_tag_at_day_uses_utc_for_an_event_with_an_unknown_zone(engine):
    event_id = add(engine, datetime(2030, 1, 8, 23, 30, tzinfo=UTC), zone="Mars/Olympus_Mons")
    assert resolve(engine, "sm35@2030-01-08") == event_id


def test_tag_at_day_lists_at_most_five_of_the_hashtags_days(engine):
    for week in range(7):
        add(engine, NOW + week * WEEK)
    assert refusal(engine, "sm35@2029-01-01") == (
        "no event #sm35 starting 2029-01-01 in the database (its events start: 2 more, "
        "sm35@2030-01-22, sm35@2030-01-29, sm35@2030-02-05, sm35@2030-02-12, sm35@2030-02-19); "
        f"{STORES}"
    )


def test_two_events_the_same_day_are_told_apart_by_the_purpose(engine):
    rehearsal = add(engine, NOW - timedelta(hours=3), state="finished")
    chat = add(engine, NOW + timedelta(hours=2))
    assert resolve(engine, "sm35@2030-01-08", "record") == rehearsal
    assert resolve(engine, "sm35@2030-01-08", "act") == chat


@pytest.mark.parametrize(
    "ref",
    [
        "sm35@",
        "sm35@2030-13-01",
        "sm35@2030-02-30",
        "sm35@20300108",
        "sm35@2030-W02-2",
        "sm35@tomorrow",
        "sm35@2030-01-08@2030-01-08",
        "sm35@٢٠٣٠-٠١-٠٨",
        "nochat@8 Jan",
    ],
)
def test_a_bad_day_after_at_explains_the_format(engine, ref):
    add(engine, NOW)
    shown = ref if " " not in ref else repr(ref)
    assert refusal(engine, ref) == shown + BAD_DAY


# The purposes


def test_acting_takes_the_live_event_starting_first_else_the_latest(engine):
    add(engine, NOW - 2 * WEEK, state="finished")
    last = add(engine, NOW - WEEK, state="finished")
    following = add(engine, NOW + WEEK)
    after = add(engine, NOW + 2 * WEEK)
    assert resolve(engine, "sm35", "act") == following
    with Session(engine) as session:
        event = session.get(Event, following)
        assert event is not None
        event.state = "cancelled"
        session.commit()
    assert resolve(engine, "sm35", "act") == after
    with Session(engine) as session:
        event = session.get(Event, after)
        assert event is not None
        event.state = "finished"
        session.commit()
    # Nothing live: the latest, whatever "now" is.
    assert resolve(engine, "sm35", "act") == after
    assert resolve(engine, "sm35", "act", now=NOW - 3 * WEEK) == after
    assert resolve(engine, "sm35", "record") == last


def test_acting_prefers_a_live_event_even_one_that_was_missed(engine):
    missed = add(engine, NOW - WEEK)  # never run: still scheduled
    add(engine, NOW + WEEK)
    assert resolve(engine, "sm35", "act") == missed
    assert resolve(engine, "sm35", "record") == missed  # also the most recent started


def test_recording_takes_the_one_the_bot_is_running_even_before_its_start(engine):
    add(engine, NOW - WEEK, state="finished")
    # The welcome went out a few minutes early: the bot runs it, its start is ahead.
    running = add(engine, NOW + timedelta(minutes=5), state="running")
    assert resolve(engine, "sm35", "record") == running
    assert resolve(engine, "sm35", "act") == running


def test_recording_takes_the_one_under_way_by_the_clock(engine):
    long = add(engine, NOW - timedelta(minutes=30), length=timedelta(hours=2))
    add(engine, NOW - timedelta(minutes=20), length=timedelta(minutes=5), state="finished")
    assert resolve(engine, "sm35", "record") == long


def test_recording_takes_the_latest_of_several_running(engine):
    add(engine, NOW - 4 * WEEK, state="running")  # the bot was stopped mid-chat
    current = add(engine, NOW - timedelta(minutes=10), state="running")
    add(engine, NOW + WEEK)
    assert resolve(engine, "sm35", "record") == current


def test_recording_takes_the_most_recent_started_else_the_next(engine):
    add(engine, NOW - 2 * WEEK, state="finished")
    last = add(engine, NOW - WEEK, state="finished")
    following = add(engine, NOW + WEEK)
    add(engine, NOW + 2 * WEEK)
    assert resolve(engine, "sm35", "record") == last
    assert resolve(engine, "sm35", "act") == following
    # Before any of them started: the next one.
    assert resolve(engine, "sm35", "record", now=NOW - 3 * WEEK) == resolve(
        engine, "sm35@2029-12-25"
    )
    # Once the next one has started, it is the most recent.
    assert resolve(engine, "sm35", "record", now=NOW + WEEK + timedelta(hours=3)) == following


def test_commands_resolve_by_their_purpose(engine, tmp_path):
    """Controls act on the next chat; a transcript is of the last one (on the real clock)."""
    now = datetime.now(UTC).replace(microsecond=0)
    add(engine, now - WEEK, state="finished")
    following = add(engine, now + WEEK)
    assert controls.status(engine, "sm35").event_id == following
    (path,) = write_exports(engine, "sm35", ["json"], out_dir=tmp_path).files
    document = json.loads(path.read_text(encoding="utf-8"))
    assert datetime.fromisoformat(document["event"]["start"]) == now - WEEK


def test_an_unknown_purpose_is_a_programming_error(engine):
    add(engine, NOW)
    with Session(engine) as session, pytest.raises(ValueError, match="purpose must be one of"):
        resolve_event(session, "sm35", purpose="view", now=NOW)  # type: ignore[arg-type]


# Whatever is typed, a usage error (never another exception)

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
LOOKALIKES = st.from_regex(r"\s*#{0,2}[A-Za-z0-9_ｓｍ３５\x00]{0,8}(@[0-9A-Z:-]{0,12}){0,2}\s*")
UNSURE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def two_chats(engine: Engine) -> tuple[Engine, set[int]]:
    ids = {add(engine, NOW - WEEK, state="finished"), add(engine, NOW + WEEK)}
    return engine, ids


def _is_known(ref: str, ids: set[int]) -> bool:
    text = ref.strip()
    if text.isascii() and text.isdigit():
        return int(text) in ids
    return hashtag_key(text.partition("@")[0].strip()) == "sm35"


@UNSURE
@given(ref=st.one_of(ANY_TEXT, LOOKALIKES), purpose=st.sampled_from(["act", "record"]))
def test_anything_but_an_id_or_a_known_hashtag_is_a_usage_error(two_chats, ref, purpose):
    engine, ids = two_chats
    if _is_known(ref, ids):
        return
    with Session(engine) as session, pytest.raises(UsageError):
        resolve_event(session, ref, purpose=purpose, now=NOW)


@UNSURE
@given(day=ANY_TEXT | LOOKALIKES)
def test_a_known_hashtag_at_anything_but_its_days_is_a_usage_error(two_chats, day):
    engine, _ = two_chats
    if day.strip() in ("2030-01-01", "2030-01-15"):
        return
    with Session(engine) as session, pytest.raises(UsageError):
        resolve_event(session, f"sm35@{day}", purpose="record", now=NOW)


@UNSURE
@given(number=st.integers(min_value=0, max_value=10**30))
def test_any_unknown_id_is_a_usage_error(two_chats, number):
    engine, ids = two_chats
    if number in ids:
        return
    with Session(engine) as session, pytest.raises(UsageError, match=r"^no event with id"):
        resolve_event(session, str(number), purpose="act", now=NOW)
