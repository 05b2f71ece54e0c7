"""Two runners on one database, and a runner under injected faults: still exactly once."""

from __future__ import annotations

import signal
from datetime import timedelta

from sqlmodel import Session, select

from chatbot.models import PostDelivery
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import (
    Runner,
    bluesky_posts,
    expected_texts,
    load_chat,
    mastodon_posts,
    sandbox_env,
    wait_for,
)
from tests.scheduler.stepping import file_clock, step_through_posts

SPACING = timedelta(seconds=20)


def test_two_runners_on_one_postgresql_database_post_each_post_once(
    postgres_engine, postgres_url, tmp_path
):
    """Several bot processes share one outbox through PostgreSQL (SQLite is one machine's)."""
    engine, database_url = postgres_engine, postgres_url
    clock = file_clock(tmp_path)  # only the test moves it: no post falls due by itself
    with Sandbox(seed=12, clock=clock) as box:
        event_id = load_chat(
            engine, clock.now() + timedelta(seconds=60), questions=4, spacing=SPACING
        )
        env = sandbox_env(box, database_url, tmp_path)
        args = (str(event_id), "--until-done", "--no-collect")
        runners = [Runner(env, tmp_path / f"run{n}.log", *args) for n in (1, 2)]
        try:
            for runner in runners:
                wait_for(lambda runner=runner: "Running" in runner.output(), timeout=60)

            def one_alone_first(index: int) -> None:
                # The welcome goes to runner 1 and Q1 to runner 2, each while the other
                # is stopped (as a stalled machine would be); after that they race.
                for runner in runners:
                    runner.process.send_signal(signal.SIGCONT)
                if index < 2:
                    runners[1 - index].process.send_signal(signal.SIGSTOP)

            step_through_posts(engine, clock, event_id, around=one_alone_first)
            one_alone_first(2)
            codes = [runner.wait(timeout=60) for runner in runners]
        finally:
            for runner in runners:
                runner.process.send_signal(signal.SIGCONT)
                runner.kill()
        assert codes == [0, 0], [r.output() for r in runners]
        blue, masto = bluesky_posts(box), mastodon_posts(box)
    assert blue.texts == expected_texts(4)
    assert len(masto.texts) == 6 and len({s["id"] for s in masto.raw}) == 6
    posted = [[line for line in r.output().splitlines() if "  posted" in line] for r in runners]
    assert sum(map(len, posted)) == 12  # each post reported by exactly one of the two
    assert all(posted), posted  # both runners posted
    with Session(engine) as session:
        workers = {d.claimed_by for d in session.exec(select(PostDelivery))}
    assert len(workers) == 2 and all(workers)  # two workers shared the one outbox


def test_every_post_goes_out_once_with_a_fifth_of_requests_failing(engine, database_url, tmp_path):
    with Sandbox(seed=13, speed=60, faults=0.2) as box:
        event_id = load_chat(
            engine, box.clock.now() + timedelta(seconds=60), questions=4, spacing=SPACING
        )
        env = sandbox_env(box, database_url, tmp_path)
        env["CHATBOT_MAX_ATTEMPTS"] = "30"  # a fifth failing, five tries in a row can fail
        runner = Runner(env, tmp_path / "run.log", str(event_id), "--until-done", "--no-collect")
        assert runner.wait(timeout=90) == 0, runner.output()
        faults = {n: dict(box.servers[n].app.faults.counts) for n in ("bluesky", "mastodon")}
        box.servers["bluesky"].app.faults.settings.update({"rate": 0})
        box.servers["mastodon"].app.faults.settings.update({"rate": 0})
        blue, masto = bluesky_posts(box), mastodon_posts(box)
    assert sum(faults["bluesky"].values()) and sum(faults["mastodon"].values()), faults
    assert blue.texts == expected_texts(4)
    assert len(masto.texts) == 6 and len({s["id"] for s in masto.raw}) == 6
