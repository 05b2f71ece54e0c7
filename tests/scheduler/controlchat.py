"""A chat with reminders and a follow-up on the sandbox, steered through the CLI on a file clock.

The bot posts with the unmodified clients through :class:`BotService`; the
test moves the clock (nothing falls due by itself) and runs the controls as a
moderator would, from the command line, against the same database and clock.
A participant answers through the unmodified atproto client, and the
collector reads the answers back, so attribution is checked on real posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.bot.loading import load_event, prepare_plan
from chatbot.bot.retry import RetryPolicy
from chatbot.bot.scheduler import BotService, RunOptions
from chatbot.cli import cli
from chatbot.clock import FileClock
from chatbot.collect import Collector
from chatbot.eventref import resolve_event
from chatbot.export import build_document
from chatbot.hints import commands_in
from chatbot.models import Event, PostDelivery, ScheduledPost
from chatbot.platforms import connect
from chatbot.platforms.bluesky import BlueskyPlatform
from chatbot.platforms.credentials import Secret
from chatbot.platforms.keys import post_key
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import bluesky_posts, credentials_for, mastodon_posts

TAG = "tbl"
ZONE = "America/New_York"
LATE_LIMIT = timedelta(minutes=10)
# welcome +0, Q1 +10, A1 reminder +14, Q2 +20, A2 reminder +24, Q3 +30, A3 reminder +34,
# Q3a +40, A3a reminder +44, Q4 +50, A4 reminder +54, wrap-up +60.
QUESTIONS = f"""---
hashtag: {TAG}
title: Controls, one meaning each
start: 2030-01-01 12:00
timezone: {ZONE}
interval: 10m
reminder: 4m
networks: [bluesky, mastodon]
---
## Welcome
Welcome to the chat!

## Questions
Q1. First?
Q2. Second?
Q3. Third?
Q3a. Third, the follow-up?
Q4. Fourth?

## Wrap-up
Thanks for joining!
"""


@dataclass
class ControlChat:
    """The chat, the sandbox, the bot, and the moderator's command line."""

    engine: Engine
    database_url: str
    clock: FileClock
    box: Sandbox
    service: BotService
    event_id: int
    start: datetime
    hints: list[list[str]] = field(default_factory=list)  # every command the CLI suggested
    participant: BlueskyPlatform | None = None

    # -- time -------------------------------------------------------------------------
    def at(self, minutes: float) -> datetime:
        return self.start + timedelta(minutes=minutes)

    def run_to(self, minutes: float) -> None:
        """Move the clock a minute at a time up to ``start + minutes``, posting what falls due."""
        target = self.at(minutes)
        while True:
            for network in ("bluesky", "mastodon"):
                self.service.post_due(network)
            if self.clock.now() >= target:
                return
            self.clock.set(min(target, self.clock.now() + timedelta(minutes=1)))

    # -- the moderator ------------------------------------------------------------------
    def cli(self, *args: str, code: int = 0) -> str:
        options = ["--database-url", self.database_url, "--clock", self.clock.describe()]
        result = CliRunner().invoke(cli, [*args, *options])
        assert result.exit_code == code, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        self.hints.extend(commands_in(result.output))
        return result.output

    # -- what happened ----------------------------------------------------------------
    def posted_texts(self) -> dict[str, list[str]]:
        return {
            "bluesky": bluesky_posts(self.box).texts,
            "mastodon": mastodon_posts(self.box).texts,
        }

    def states(self) -> dict[str, set[str]]:
        with Session(self.engine) as session:
            posts = session.exec(
                select(ScheduledPost).where(ScheduledPost.event_id == self.event_id)
            ).all()
            return {p.label: {d.state for d in p.deliveries} for p in posts}

    def posted_at(self, label: str) -> set[datetime]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(PostDelivery)
                .join(ScheduledPost)
                .where(ScheduledPost.label == label, ScheduledPost.event_id == self.event_id)
            ).all()
            return {d.posted_at for d in rows if d.posted_at is not None}

    def window(self) -> tuple[datetime, datetime]:
        with Session(self.engine) as session:
            event = session.get(Event, self.event_id)
            assert event is not None
            return event.collect_from, event.collect_until

    # -- a participant and attribution --------------------------------------------------
    def answer(self, text: str) -> None:
        """Post ``text`` now as a participant, with the unmodified atproto client."""
        if self.participant is None:
            url = self.box.bluesky_url
            self.box.bluesky.create_account("ann.sandbox.test", "ann-password")
            self.participant = BlueskyPlatform(
                "ann.sandbox.test", Secret("ann-password"), service=url, web=url,
                clock=self.clock.now,
            )  # fmt: skip
        now = self.clock.now()
        self.participant.post(
            text, key=post_key("ann", sha256(text.encode()).hexdigest()[:12], now)
        )

    def attribution(self) -> dict[str, str | None]:
        """Each collected participant post's text → the question it is attributed to."""
        creds = credentials_for(self.box, Path(self.clock.path).parent)
        platforms = {"bluesky": connect("bluesky", creds, clock=self.clock.now)}
        Collector(self.engine, self.event_id, platforms, self.clock).step()
        with Session(self.engine) as session:
            event = resolve_event(session, str(self.event_id), purpose="record", now=self.at(0))
            document: dict[str, Any] = build_document(session, event)
        return {
            p["text"]: p["question"]
            for p in document["posts"]
            if p["author"]["handle"] == "ann.sandbox.test"
        }


def start_chat(engine: Engine, database_url: str, tmp: Path, box: Sandbox) -> ControlChat:
    """Load the chat to start two minutes from the clock's now; a bot ready to post it."""
    clock = box.clock
    assert isinstance(clock, FileClock)
    path = tmp / "tbl.md"
    path.write_text(QUESTIONS, encoding="utf-8")
    start = clock.now().replace(second=0) + timedelta(minutes=2)
    plan = prepare_plan(path, start=start.isoformat(), now=clock.now())
    event_id = load_event(engine, plan, source_path=str(path)).event_id
    creds = credentials_for(box, tmp)
    lines: list[str] = []
    service = BotService(
        engine,
        lambda network: connect(network, creds, clock=clock.now),
        clock=clock,
        options=RunOptions(
            event_ids=(event_id,),
            late_limit=LATE_LIMIT,
            policy=RetryPolicy(base=1, cap=4, max_wait=30, max_attempts=5),
        ),
        out=lines.append,
    )
    return ControlChat(engine, database_url, clock, box, service, event_id, start)


__all__ = ["LATE_LIMIT", "QUESTIONS", "TAG", "ZONE", "ControlChat", "start_chat"]
