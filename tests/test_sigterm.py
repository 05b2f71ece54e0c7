"""SIGTERM ends every long-running command promptly, whatever the networks do, losing nothing.

Each command runs as a real process against the sandbox, whose servers either
hang (accept every request and never answer: before doing the work, or after
it, so a post is made and its answer never sent) or are gone. The bound here
is generous (a loaded machine starts Python slowly); the measured figure, well
under 2 s, is in BENCHMARKS.md (``benchmarks/bench_sigterm.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlmodel import Session, select

from chatbot.db import create_engine_for, migrate
from chatbot.models import PostDelivery
from chatbot.sandbox.faults import FaultSettings
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import (
    HASHTAG,
    ROOT,
    bluesky_posts,
    expected_texts,
    load_chat,
    mastodon_posts,
    sandbox_env,
    wait_for,
)

BOUND = 15.0  # real seconds; the promise is 2 s, measured by benchmarks/bench_sigterm.py
SPEED = 60
LATE = ("--late-limit", "1d")


class Command:
    """``python -m chatbot ARGS`` as a process; its output goes to a file."""

    started: ClassVar[list[subprocess.Popen[bytes]]] = []  # ended after each test

    def __init__(self, env: dict[str, str], log: Path, *args: str):
        self.log = log
        self._handle = log.open("a", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatbot", *args],
            env=env, stdout=self._handle, stderr=subprocess.STDOUT, cwd=str(ROOT),
        )  # fmt: skip
        self.started.append(self.process)

    def output(self) -> str:
        if not self._handle.closed:
            self._handle.flush()
        return self.log.read_text(encoding="utf-8")

    def terminate(self) -> tuple[int, float]:
        """Send SIGTERM; the exit code and the real seconds it took to exit."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            self._handle.close()
        return code, time.monotonic() - sent


def _states(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(d.state for d in session.exec(select(PostDelivery)))


def _held(url: str) -> int:
    """Requests the sandbox server at ``url`` holds unanswered so far."""
    with urllib.request.urlopen(f"{url}/_sandbox/faults", timeout=5) as answer:
        counts = json.load(answer)["counts"]
    return sum(n for name, n in counts.items() if name.startswith("hang_"))


@pytest.fixture(autouse=True)
def _no_process_left() -> Iterator[None]:
    yield
    while Command.started:
        process = Command.started.pop()
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.fixture
def database(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'chatbot.db'}"
    engine = create_engine_for(url)
    migrate(engine)
    yield url, engine
    engine.dispose()


@pytest.mark.parametrize("hang", ["request", "response"])
def test_run_stops_at_once_on_hanging_networks_and_the_post_goes_out_once(
    database, tmp_path: Path, hang: str
) -> None:
    url, engine = database
    faults = FaultSettings(hang=hang)
    with Sandbox(seed=5, speed=SPEED, faults={"bluesky": faults, "mastodon": faults}) as box:
        load_chat(engine, box.clock.now(), questions=1, spacing=timedelta(seconds=30))
        env = sandbox_env(box, url, tmp_path)
        # A day's late limit: on a busy machine Python may start long after the welcome's time.
        run = Command(env, tmp_path / "run.log", "run", HASHTAG, "--no-collect", *LATE)
        wait_for(lambda: "posting" in _states(engine) or run.process.poll() is not None, 180)
        wait_for(lambda: _held(box.bluesky_url) and _held(box.mastodon_url), timeout=180)
        assert "posting" in _states(engine), run.output()
        code, seconds = run.terminate()
        output = run.output()
        assert code == 0 and seconds < BOUND, (code, seconds, output)
        assert "Stopped while sending welcome on" in output, output
        # Nothing left claimed: the welcome waits on both networks, nothing else began.
        assert _states(engine) == ["pending"] * 6
        # The networks answer again: the next run sends the welcome once more, with the
        # same key; where the first try landed ("response"), the network keeps one copy.
        faults.hang = ""
        again = Command(
            env, tmp_path / "again.log", "run", HASHTAG, "--no-collect", "--until-done", *LATE,
        )  # fmt: skip
        assert again.process.wait(timeout=120) == 0, again.output()
        assert bluesky_posts(box).texts == expected_texts(1)
        assert len(mastodon_posts(box).texts) == 3
    assert _states(engine) == ["posted"] * 6


def test_run_stops_at_once_with_the_networks_gone(database, tmp_path: Path) -> None:
    url, engine = database
    box = Sandbox(seed=6, speed=SPEED).start()
    load_chat(engine, box.clock.now(), questions=1)
    env = sandbox_env(box, url, tmp_path)
    box.stop()  # nothing listens any more: every connection is refused
    run = Command(env, tmp_path / "run.log", "run", HASHTAG, *LATE)
    wait_for(lambda: "Running #sched" in run.output(), timeout=180)
    code, seconds = run.terminate()
    assert code == 0 and seconds < BOUND, (code, seconds, run.output())
    assert "posting" not in _states(engine)


def test_run_stopped_while_logging_in_stops_before_posting(database, tmp_path: Path) -> None:
    url, engine = database
    faults = FaultSettings(hang="request")
    with Sandbox(seed=7, speed=SPEED, faults={"bluesky": faults, "mastodon": faults}) as box:
        load_chat(engine, box.clock.now() + timedelta(hours=1), questions=1)
        env = sandbox_env(box, url, tmp_path)
        run = Command(env, tmp_path / "run.log", "run", HASHTAG, "--no-collect")
        wait_for(lambda: _held(box.bluesky_url) or _held(box.mastodon_url), timeout=180)
        code, seconds = run.terminate()
    assert code == 0 and seconds < BOUND, (code, seconds, run.output())
    assert _states(engine) == ["pending"] * 6


def test_collect_stops_at_once_on_hanging_networks(database, tmp_path: Path) -> None:
    url, engine = database
    faults = FaultSettings(hang="request")
    with Sandbox(seed=8, speed=1, faults={"bluesky": faults, "mastodon": faults}) as box:
        load_chat(engine, box.clock.now(), questions=1)
        env = sandbox_env(box, url, tmp_path)
        collect = Command(env, tmp_path / "collect.log", "collect", HASHTAG)
        wait_for(lambda: _held(box.bluesky_url) or _held(box.mastodon_url), timeout=180)
        code, seconds = collect.terminate()
    output = collect.output()
    assert code == 0 and seconds < BOUND, (code, seconds, output)
    assert "interrupted; pages stored so far are kept; run again to resume" in output, output
    assert "Traceback" not in output


def test_live_stops_at_once_with_a_page_open(database, tmp_path: Path) -> None:
    url, engine = database
    with Sandbox(seed=9, speed=1) as box:
        load_chat(engine, box.clock.now(), questions=1)
        env = sandbox_env(box, url, tmp_path)
        live = Command(env, tmp_path / "live.log", "live", HASHTAG)
        wait_for(lambda: "?token=" in live.output(), timeout=180)
        address = live.output().split("Live page of event 1: ")[1].split()[0]
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        browser.open(address, timeout=10).read()  # signs in: a session cookie
        stream = address.split("?")[0] + "stream"
        with browser.open(stream, timeout=10) as events:  # a page listening
            events.readline()
            code, seconds = live.terminate()
    assert code == 0 and seconds < BOUND, (code, seconds, live.output())


@pytest.mark.parametrize("command", [["demo"], ["rehearse", "questions/sm35.md"]])
def test_demo_and_rehearse_stop_at_once(tmp_path: Path, command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path))
    demo = Command(env, tmp_path / "demo.log", *command, "--out", str(tmp_path / "out"))
    wait_for(lambda: "  posted  " in demo.output(), timeout=180)
    code, seconds = demo.terminate()
    output = demo.output()
    assert code == 128 + signal.SIGTERM and seconds < BOUND, (code, seconds, output)
    assert "Stopped before the end: no transcripts written" in output, output
    assert "Traceback" not in output


def test_sandbox_serve_stops_at_once_with_requests_held(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    serve = Command(env, tmp_path / "serve.log", "sandbox", "serve")
    wait_for(lambda: '"bluesky"' in serve.output(), timeout=180)
    url = json.loads(serve.output().splitlines()[0])["bluesky"]["url"]
    hang = json.dumps({"hang": "request"}).encode()
    headers = {"Content-Type": "application/json"}
    urllib.request.urlopen(urllib.request.Request(f"{url}/_sandbox/faults", hang, headers))

    def held() -> None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{url}/xrpc/com.atproto.server.describeServer", timeout=60)

    waiting = [threading.Thread(target=held, daemon=True) for _ in range(3)]
    for thread in waiting:
        thread.start()
    wait_for(lambda: _held(url) == 3, timeout=60)
    code, seconds = serve.terminate()
    assert code == 0 and seconds < BOUND, (code, seconds, serve.output())
