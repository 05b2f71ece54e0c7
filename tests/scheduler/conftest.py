"""Fixtures for the scheduler: a sandbox, a loaded chat, a service, and reading posts back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from chatbot.bot.loading import load_event
from chatbot.bot.retry import RetryPolicy
from chatbot.bot.scheduler import BotService, RunOptions
from chatbot.clock import ManualClock
from chatbot.platforms import connect
from chatbot.platforms.bluesky import POST
from chatbot.platforms.credentials import Credentials, load_credentials
from chatbot.sandbox.runner import Sandbox
from tests.factories import make_plan

ROOT = Path(__file__).resolve().parents[2]
HASHTAG = "sched"


def sandbox_env(box: Sandbox, database_url: str, tmp: Path) -> dict[str, str]:
    """The environment a ``chatbot`` subprocess needs to post to ``box``."""
    creds = box.credentials()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CHATBOT_") or key == "CHATBOT_TEST_POSTGRES_URL"
    }
    env.update(
        CHATBOT_DATABASE_URL=database_url,
        CHATBOT_CLOCK=box.clock_string,
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        PYTHONPATH=str(ROOT),
    )
    if "bluesky" in creds:
        env.update(
            CHATBOT_BLUESKY_HANDLE=creds["bluesky"]["handle"],
            CHATBOT_BLUESKY_PASSWORD=creds["bluesky"]["password"],
            CHATBOT_BLUESKY_SERVICE=creds["bluesky"]["url"],
            CHATBOT_BLUESKY_WEB=creds["bluesky"]["web"],
        )
    if "mastodon" in creds:
        env.update(
            CHATBOT_MASTODON_URL=creds["mastodon"]["url"],
            CHATBOT_MASTODON_TOKEN=creds["mastodon"]["token"],
        )
    return env


def credentials_for(box: Sandbox, tmp: Path) -> Credentials:
    env = sandbox_env(box, "sqlite://", tmp)
    return load_credentials(env=env)


def load_chat(
    engine: Engine,
    start: datetime,
    *,
    questions: int = 3,
    spacing: timedelta = timedelta(minutes=1),
    networks: tuple[str, ...] = ("bluesky", "mastodon"),
    hashtag: str = HASHTAG,
    settings: dict[str, object] | None = None,
    accounts: dict[str, str] | None = None,
) -> int:
    """Load a chat (welcome, questions, wrap-up) starting at ``start``; returns the event id."""
    plan = make_plan(
        hashtag=hashtag,
        start=start,
        questions=questions,
        spacing=spacing,
        networks=networks,
        path=f"questions/{hashtag}.md",
        settings=settings,
        accounts=accounts,
    )
    return load_event(engine, plan, source_path=f"/chats/{hashtag}.md").event_id


@dataclass
class Posted:
    """What one network holds from the bot, oldest first."""

    texts: list[str]
    raw: list[dict[str, Any]]


def bluesky_posts(box: Sandbox) -> Posted:
    # The store keeps records in the order they were created.
    records = box.bluesky.all_records(box.bot_ids["bluesky"])
    ordered = [r for r in records if r.collection == POST]
    return Posted([r.value["text"] for r in ordered], [dict(r.value, uri=r.uri) for r in ordered])


def mastodon_posts(box: Sandbox) -> Posted:
    statuses = box.mastodon.find_statuses(account_id=box.bot_ids["mastodon"])
    ordered = sorted(statuses, key=lambda s: int(s["id"]))
    return Posted([s["content"] for s in ordered], ordered)


def expected_texts(questions: int = 3, hashtag: str = HASHTAG) -> list[str]:
    tag = f" #{hashtag}"
    return [
        "Welcome to the chat!" + tag,
        *[f"Q{n} Question {n}?" + tag for n in range(1, questions + 1)],
        "Thanks for joining!" + tag,
    ]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, clock=ManualClock()) as box:
        yield box


@pytest.fixture
def make_service(engine: Engine, sandbox: Sandbox, tmp_path: Path) -> Callable[..., BotService]:
    """A service on the test database posting to the sandbox, on the sandbox's clock."""
    creds = credentials_for(sandbox, tmp_path)
    lines: list[str] = []

    def make(**options: Any) -> BotService:
        options.setdefault("policy", RetryPolicy(base=1, cap=4, max_wait=30, max_attempts=5))
        service = BotService(
            engine,
            lambda network: connect(network, creds, clock=sandbox.clock.now),
            clock=sandbox.clock,
            options=RunOptions(**options),
            out=lines.append,
        )
        service.lines = lines  # type: ignore[attr-defined]
        return service

    return make


def run_chat(service: BotService, clock: ManualClock, minutes: float, step: float = 10) -> None:
    """Advance ``clock`` in ``step``-second steps for ``minutes``, posting what falls due."""
    for _ in range(int(minutes * 60 / step) + 1):
        for network in ("bluesky", "mastodon"):
            service.post_due(network)
        clock.advance(seconds=step)


PYTHON = sys.executable


class Runner:
    """``chatbot run`` as a real subprocess; its output goes to a file the test reads.

    ``command`` is the module run with ``python -m`` (e.g. the crashing test hook).
    """

    def __init__(
        self, env: dict[str, str], log: Path, *args: str, command: tuple[str, ...] = ("chatbot",)
    ):
        self.log = log
        self._handle = log.open("a", encoding="utf-8")
        self.process = subprocess.Popen(
            [PYTHON, "-m", *command, "run", *args],
            env=env,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
            cwd=str(log.parent),
        )

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._handle.flush()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._handle.close()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, step: float = 0.05) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(step)
