"""``chatbot rehearse``: a whole chat on the sandbox, steered from a second terminal.

And ``chatbot sandbox serve --env-file``: the variables a second terminal
needs, in a file only its owner can read.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from chatbot.cli import cli
from chatbot.demo import DemoOptions, run_rehearsal
from chatbot.hints import commands_in
from chatbot.platforms import connect
from chatbot.platforms.credentials import load_credentials

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
# A short chat: welcome, Q1 at +2m, Q2 at +4m, wrap-up at +6m.
SHORT = """---
hashtag: rehearsal
title: A short rehearsal
start: 2030-01-01 12:00
timezone: Europe/Paris
interval: 2m
networks: [bluesky, mastodon]
---
## Welcome
Welcome!

## Questions
Q1. First?
Q2. Second?

## Wrap-up
Thanks!
"""


def read_env_file(path: Path) -> dict[str, str]:
    """What ``. PATH`` would export, read as a shell would split it."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            [found[name]] = shlex.split(value)
    return found


def test_a_rehearsal_runs_the_whole_chat_and_a_second_terminal_steers_it(tmp_path: Path) -> None:
    questions = tmp_path / "short.md"
    questions.write_text(SHORT, encoding="utf-8")
    env_file = tmp_path / "rehearsal.env"
    lines: list[str] = []
    steered: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        # Said once the chat is loaded and before its first post: a second terminal acts now.
        if line.startswith("Second terminal: "):
            assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
            env = read_env_file(env_file)
            assert {"CHATBOT_DATABASE_URL", "CHATBOT_CLOCK", "CHATBOT_MASTODON_TOKEN"} <= set(env)
            skipped = CliRunner().invoke(cli, ["skip", "rehearsal", "Q2"], env=env)
            assert skipped.exit_code == 0, skipped.output
            steered.append(skipped.output)
        if line.startswith("  then e.g. "):
            env = read_env_file(env_file)
            for words in commands_in(line):
                ran = CliRunner().invoke(cli, words, env=env)
                assert ran.exit_code == 0, ran.output
            # Resumed at once: the chat goes on.
            assert CliRunner().invoke(cli, ["resume", "rehearsal"], env=env).exit_code == 0
        if line.startswith("Live page: "):
            page = httpx.get(line.removeprefix("Live page: "), follow_redirects=True)
            assert page.status_code == 200 and "#rehearsal" in page.text

    options = DemoOptions(file=questions, speed=120, participants=6, seed=4, out=tmp_path / "out")
    result = run_rehearsal(options, env_file=env_file, say=say)
    assert steered and steered[0].startswith("Skipped Q2 of #rehearsal on bluesky and mastodon.")
    assert any(line.startswith("Live page: http://127.0.0.1:") for line in lines)
    assert result.recap.path == tmp_path / "out" / "index.html" and result.recap.path.is_file()
    status = CliRunner().invoke(cli, ["status", "rehearsal", "--json"], env=read_env_file(env_file))
    states = {
        post["label"]: {d["state"] for d in post["deliveries"].values()}
        for post in json.loads(status.output)["posts"]
    }
    # The chat started after the clock: the welcome went out, on both networks.
    assert states == {
        "welcome": {"posted"}, "Q1": {"posted"}, "Q2": {"skipped"}, "wrapup": {"posted"},
    }  # fmt: skip
    assert lines[-1].startswith("The rehearsal's database is ")


def test_sandbox_serve_writes_the_env_file_a_second_terminal_reads(tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    server = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "sandbox", "serve", "--env-file", str(env_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready = json.loads(server.stdout.readline())  # printed once the file is written
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        written = read_env_file(env_file)
        assert written["CHATBOT_BLUESKY_SERVICE"] == ready["bluesky"]["url"]
        assert written["CHATBOT_MASTODON_TOKEN"] == ready["mastodon"]["token"]
        assert written["CHATBOT_CLOCK"]
        # The bot logs in with nothing but these variables.
        credentials = load_credentials(env=written)
        for network in ("bluesky", "mastodon"):
            assert connect(network, credentials).account()
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
