"""``chatbot run`` as a real process against the sandbox on an accelerated clock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlmodel import Session, select

from chatbot.cli import cli
from chatbot.db import create_engine_for, migrate
from chatbot.models import PostDelivery
from chatbot.sandbox.faults import Fault, FaultSettings
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import (
    HASHTAG,
    Runner,
    bluesky_posts,
    expected_texts,
    load_chat,
    mastodon_posts,
    sandbox_env,
    wait_for,
)

SPEED = 60


def test_an_accelerated_chat_runs_to_the_end_exactly_once(engine, database_url, tmp_path):
    layout = "thread"
    with Sandbox(seed=3, speed=SPEED) as box:
        event_id = load_chat(
            engine,
            box.clock.now() + timedelta(seconds=60),
            spacing=timedelta(seconds=20),
            # The file names another Bluesky account than the credentials': a warning.
            accounts={"bluesky": "someone-else.test"},
        )
        env = sandbox_env(box, database_url, tmp_path)
        runner = Runner(
            env,
            tmp_path / "run.log",
            str(event_id),
            "--until-done",
            "--no-collect",
            "--layout",
            layout,
        )
        assert runner.wait(timeout=60) == 0, runner.output()
        blue, masto = bluesky_posts(box), mastodon_posts(box)
        bluesky_page = f"{box.bluesky_url}/profile/{box.bot_handle}/post/"
    assert blue.texts == expected_texts(3)
    assert len(masto.texts) == 5
    for text, status in zip(expected_texts(3), masto.raw, strict=True):
        assert text.split(" #")[0] in status["content"]
    welcome_uri = blue.raw[0]["uri"]
    assert all(r["reply"]["root"]["uri"] == welcome_uri for r in blue.raw[1:])
    assert all(r["reply"]["parent"]["uri"] == welcome_uri for r in blue.raw[1:])
    assert {s["in_reply_to_id"] for s in masto.raw[1:]} == {masto.raw[0]["id"]}
    output = runner.output()
    assert output.count("  posted") == 10, output
    # CHATBOT_BLUESKY_WEB: the printed links open the sandbox's pages, not bsky.app's.
    assert output.count(bluesky_page) == 5 and "bsky.app" not in output, output
    assert "All posts are done." in output
    assert (
        f"warning: #{HASHTAG}: the question file names @someone-else.test as the bluesky account, "
        f"but the bluesky credentials log in as @{box.bot_handle}; posting as"
    ) in output
    assert box.bot_password not in output and box.mastodon_token not in output


def test_sigterm_lets_the_post_in_flight_finish_and_exits_0(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'chatbot.db'}"
    engine = create_engine_for(database_url)
    migrate(engine)
    slow = FaultSettings(rate=1.0, weights={Fault.SLOW: 1.0}, slow_seconds=1.0)
    with Sandbox(seed=4, speed=SPEED, faults={"bluesky": 0.0, "mastodon": slow}) as box:
        event_id = load_chat(engine, box.clock.now(), questions=1, networks=("mastodon",))
        env = sandbox_env(box, database_url, tmp_path)
        # Time for the slow requests in flight (the default grace is 1 s: tests/test_sigterm.py).
        env["CHATBOT_STOP_GRACE_SECONDS"] = "60"
        runner = Runner(env, tmp_path / "run.log", "sched")
        wait_for(lambda: "posting" in _states(engine))  # the welcome is on its slow way
        runner.process.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) == 0, runner.output()
        texts = mastodon_posts(box).texts
    assert len(texts) == 1 and "Welcome" in texts[0]
    assert _states(engine) == ["pending", "pending", "posted"]  # finished, nothing else begun
    output = runner.output()
    assert "Stopping: finishing the post in flight" in output
    assert f"Running #sched (event {event_id}) on mastodon" in output
    engine.dispose()


def test_missing_credentials_stop_the_run_before_any_work(engine, database_url, tmp_path):
    event_id = load_chat(engine, datetime.now(UTC), questions=1)
    env = {name: None for name in os.environ if name.startswith("CHATBOT_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path), CHATBOT_DATABASE_URL=database_url)
    result = CliRunner().invoke(cli, ["run", str(event_id), "--until-done"], env=env)
    assert result.exit_code == 2
    assert result.output.startswith("Error: no Bluesky credentials: set CHATBOT_BLUESKY_HANDLE")
    assert _states(engine) == ["pending"] * 6
    result = CliRunner().invoke(cli, ["run", "nosuchtag"], env=env)
    assert result.exit_code == 2 and "no event #nosuchtag in the database;" in result.output


def _states(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(d.state for d in session.exec(select(PostDelivery)))


def test_with_json_the_lines_go_to_stderr_and_stdout_gets_one_document(
    engine, database_url, tmp_path
):
    with Sandbox(seed=5, speed=SPEED) as box:
        event_id = load_chat(
            engine, box.clock.now() + timedelta(seconds=20), questions=1,
            spacing=timedelta(seconds=20), networks=("mastodon",),
        )  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "chatbot", "run", str(event_id), "--until-done",
             "--no-collect", "--json"],
            env=sandbox_env(box, database_url, tmp_path), cwd=tmp_path,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "events": [{"id": event_id, "hashtag": HASHTAG}],
        "networks": ["mastodon"],
        "exit_code": 0,
    }
    assert done.stderr.count("  posted") == 3 and "All posts are done." in done.stderr
