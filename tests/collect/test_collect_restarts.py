"""``chatbot collect`` SIGKILLed at random moments and restarted: nothing lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chatbot.collect.coverage import event_coverage
from tests.collect.chat import Chat, start_chat
from tests.collect.scoring import coverage, describe, index, stored_posts

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def collect_env(chat: Chat, database_url: str, home: Path) -> dict[str, str]:
    creds = chat.sandbox.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(
        CHATBOT_DATABASE_URL=database_url,
        CHATBOT_CLOCK=chat.sandbox.clock_string,
        CHATBOT_BLUESKY_HANDLE=creds["bluesky"]["handle"],
        CHATBOT_BLUESKY_PASSWORD=creds["bluesky"]["password"],
        CHATBOT_BLUESKY_SERVICE=creds["bluesky"]["url"],
        CHATBOT_MASTODON_URL=creds["mastodon"]["url"],
        CHATBOT_MASTODON_TOKEN=creds["mastodon"]["token"],
        XDG_STATE_HOME=str(home / "state"),
        XDG_CONFIG_HOME=str(home / "config"),
        PYTHONPATH=str(ROOT),
    )
    return env


def run_with_kills(chat: Chat, env: dict[str, str], seed: int, log: Path) -> int:
    """Start ``chatbot collect``, kill it at random moments until the chat is over; then let
    a last run finish. Returns how many times it was killed."""
    rng = random.Random(seed)
    command = [sys.executable, "-m", "chatbot", "collect", str(chat.event_id), "--quiet"]
    kills = 0
    with log.open("ab") as out:
        while True:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=out, cwd=ROOT)
            if chat.over():
                assert process.wait(120) == 0, log.read_text()
                return kills
            deadline = time.monotonic() + rng.uniform(0.8, 3.0)
            while time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.05)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait(10)


@pytest.mark.parametrize("faults", [0.0, 0.2], ids=["clean", "faults"])
def test_killed_and_restarted_collection_loses_and_doubles_nothing(
    engine: Engine, database_url: str, tmp_path: Path, faults: float
) -> None:
    chat = start_chat(engine, seed=5 if faults else 4, faults=faults)
    try:
        env = collect_env(chat, database_url, tmp_path)
        kills = run_with_kills(chat, env, seed=7, log=tmp_path / "collect.log")
        truth = chat.truth(tmp_path / "truth.json")
    finally:
        chat.close()
    assert kills >= 3, "the collector was killed mid-run several times"
    rows = stored_posts(engine, chat.event_id)
    index(rows)  # raises on a post stored twice
    found = coverage(truth, rows, chat.collect_until)
    assert not found.missing, describe(found.missing)
    assert not found.not_marked_deleted, describe(found.not_marked_deleted)
    assert not found.stale_edits, found.stale_edits
    assert len(found.unreachable_missing) <= 3, describe(found.unreachable_missing)
    # Each post's sources were stored with it: no kill leaves a post without one.
    assert event_coverage(engine, chat.event_id).unknown == 0
    assert "window closed and checked" in (tmp_path / "collect.log").read_text()
