"""After the chat, checks of the known posts thin out: checkpoints 2, 4, 8 ... minutes after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.clock import ManualClock
from chatbot.collect import Collector
from chatbot.collect.sweeps import FIRST_GAP, checkpoint, sweep_due_after_end
from chatbot.demo import bot_platforms
from chatbot.models import Event
from chatbot.sandbox.runner import Sandbox
from tests.factories import make_plan

END = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
minutes = st.integers(0, 24 * 60).map(lambda m: END + timedelta(minutes=m))


def sweeps_over(times: list[datetime]) -> list[datetime]:
    """The passes at ``times`` (in order) that sweep, as the collector decides."""
    last: datetime | None = END  # the chat's last pass swept
    swept = []
    for now in times:
        if sweep_due_after_end(END, now, last):
            swept.append(now)
            last = now
    return swept


def test_a_pass_every_minute_sweeps_at_2_4_8_16_32_64_minutes_after_the_end() -> None:
    times = [END + timedelta(minutes=m) for m in range(1, 91)]
    assert [int((t - END) / timedelta(minutes=1)) for t in sweeps_over(times)] == [
        2, 4, 8, 16, 32, 64,
    ]  # fmt: skip


@given(st.lists(minutes, max_size=60).map(sorted))
def test_at_most_one_sweep_between_checkpoints_and_none_missed(times: list[datetime]) -> None:
    swept = sweeps_over(times)
    points = [checkpoint(END, t) for t in swept]
    assert len(points) == len(set(points))  # never two sweeps for one checkpoint
    for now in times:
        point = checkpoint(END, now)
        if point is not None:  # a checkpoint passed by a pass: some pass since it swept
            assert any(point <= t <= now for t in swept)


@given(minutes)
def test_the_checkpoint_is_the_latest_doubling_at_or_before_now(now: datetime) -> None:
    point = checkpoint(END, now)
    if now < END + FIRST_GAP:
        assert point is None
        return
    assert point is not None and point <= now < END + (point - END) * 2
    assert (point - END) / FIRST_GAP in {2**k for k in range(20)}


def test_the_collector_checks_known_posts_less_often_after_the_chat(engine: Engine) -> None:
    with Sandbox(seed=12, clock=ManualClock(), networks=("mastodon",)) as sandbox:
        start = sandbox.clock.now() - timedelta(minutes=30)  # wrap-up 10 minutes from now
        plan = make_plan(hashtag="thinning", start=start, networks=("mastodon",))
        event_id = load_event(engine, plan, source_path="questions/thinning.md").event_id
        with Session(engine) as session:
            event = session.get(Event, event_id)
            assert event is not None
            end = event.end_at
        assert sandbox.clock.now() < end  # still during the chat: every 3rd pass sweeps
        collector = Collector(engine, event_id, bot_platforms(sandbox), sandbox.clock)
        during = [collector.step().swept for _ in range(6)]
        assert during.count(True) == 2
        sandbox.clock.advance(seconds=(end - sandbox.clock.now()).total_seconds() + 30)
        after = []
        for _ in range(40):  # a pass a minute for the 40 minutes after the end
            sandbox.clock.advance(seconds=60)
            report = collector.step()
            if report.swept:
                after.append(round((report.started_at - end) / timedelta(minutes=1), 1))
        assert after == [1.5, 2.5, 4.5, 8.5, 16.5, 32.5]  # the first pass after the end, then
