"""Live controls from a second process take effect on a running ``chatbot run``."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from click.testing import CliRunner
from sqlmodel import Session, select

from chatbot.bot.scheduler import RunOptions
from chatbot.cli import cli
from chatbot.models import Event, PostDelivery, ScheduledPost
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
from tests.scheduler.stepping import file_clock

TAG = "ctl"


def _states(engine, label: str) -> set[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(PostDelivery)
            .join(ScheduledPost)
            .where(ScheduledPost.label == label, ScheduledPost.event_id == PostDelivery.event_id)
        ).all()
        return {d.state for d in rows}


def test_every_control_takes_effect_on_a_running_chat(engine, database_url, tmp_path):
    # A clock only the test moves (the run and the controls read it from the file):
    # nothing falls due by itself while the test steers, however slow the machine.
    clock = file_clock(tmp_path)
    with Sandbox(seed=21, clock=clock) as box:
        start = clock.now() + timedelta(minutes=10)
        event_id = load_chat(engine, start, questions=5, hashtag=TAG)
        env = sandbox_env(box, database_url, tmp_path)
        runner = Runner(env, tmp_path / "run.log", f"#{TAG}", "--until-done", "--no-collect")

        def control(*args: str, code: int = 0) -> str:
            options = ["--database-url", database_url]
            if args[0] != "status":
                options += ["--clock", box.clock_string]
            result = CliRunner().invoke(cli, [*args, *options])
            assert result.exit_code == code, result.output
            return result.output

        try:
            wait_for(lambda: "Running" in runner.output(), timeout=30)
            with Session(engine) as session:  # the run's late limit, for resume to judge by
                assert session.get(Event, event_id).settings["late_limit_seconds"] == 600
            assert "is due now" in control("post-now", TAG, "welcome")
            wait_for(lambda: _states(engine, "welcome") == {"posted"})
            assert control("pause", TAG).startswith(f"Paused #{TAG} (event {event_id})")
            assert f"note: #{TAG} is paused" in control("post-now", TAG, "Q1")
            clock.advance(seconds=30)
            time.sleep(4 * RunOptions().tick)  # a few of the run's looks at the outbox
            assert _states(engine, "Q1") == {"pending"}  # due, but held by the pause

            assert (
                control("skip", f"#{TAG}", "Q2")
                == f"Skipped Q2 of #{TAG} on bluesky and mastodon.\n"
                f"To post it after all: `chatbot post-now {event_id} Q2`\n"
            )
            refused = control("skip", TAG, "welcome", code=2)
            assert "already out on bluesky (posted) and mastodon (posted)" in refused
            assert "has no post 'Q9'; its posts: welcome, Q1, Q2" in control(
                "skip", TAG, "Q9", code=2
            )
            assert "no event #nosuchtag in the database;" in control("pause", "nosuchtag", code=2)
            assert "not a duration" in control("delay", TAG, "soon", code=2)

            resumed = control("resume", TAG)
            assert resumed.startswith(f"Resumed #{TAG}") and "Q1 (due " in resumed
            wait_for(lambda: _states(engine, "Q1") == {"posted"})

            refused = control("post-now", TAG, "Q4", code=2)
            assert "Q3 comes before Q4 and is not due yet" in refused
            assert "is due now" in control("post-now", str(event_id), "Q3")
            wait_for(lambda: _states(engine, "Q3") == {"posted"})
            with Session(engine) as session:
                q3 = session.exec(
                    select(PostDelivery).where(PostDelivery.text.startswith("Q3"))
                ).all()
                assert all(d.posted_at < start + timedelta(minutes=3) for d in q3)  # ahead of time

            delayed = control("delay", TAG, "10m")
            assert delayed.startswith(f"Delayed 3 posts of #{TAG} by 10m (Q4, Q5, wrapup)")
            with Session(engine) as session:
                for post in session.exec(select(ScheduledPost).where(ScheduledPost.label == "Q5")):
                    assert post.due_at - post.original_due_at == timedelta(minutes=10)
                    assert {d.due_at for d in post.deliveries} == {post.due_at}

            control("post-now", TAG, "Q4")
            control("skip", TAG, "Q5")
            control("post-now", TAG, "wrapup")
            assert runner.wait(timeout=30) == 0, runner.output()
        finally:
            runner.kill()
        blue, masto = bluesky_posts(box), mastodon_posts(box)
    wanted = [t for t in expected_texts(5, TAG) if not t.startswith(("Q2", "Q5"))]
    assert blue.texts == wanted and len(masto.texts) == len(wanted)
    status = json.loads(control("status", TAG, "--json"))
    states = {p["label"]: {d["state"] for d in p["deliveries"].values()} for p in status["posts"]}
    assert states == {
        "welcome": {"posted"}, "Q1": {"posted"}, "Q2": {"skipped"}, "Q3": {"posted"},
        "Q4": {"posted"}, "Q5": {"skipped"}, "wrapup": {"posted"},
    }  # fmt: skip
    text = control("status", TAG)
    assert text.splitlines()[0] == f'#{TAG} "Social media in 2035" (event {event_id}): finished'
    assert "Q2    " in text and "skipped: skipped by the moderator" in text
