"""A whole chat on the sandbox for collection tests: event, bot posts, crowd, ground truth."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.collect import Collector
from chatbot.demo import bot_platforms
from chatbot.errors import PlatformError
from chatbot.models import Event, PostDelivery
from chatbot.platforms.base import Platform
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig
from chatbot.sandbox.mastodon.federation import FederationSettings
from chatbot.sandbox.runner import Sandbox
from tests.factories import make_plan

TAIL = timedelta(minutes=10)  # collection goes on this long after the wrap-up
QUESTIONS = ("What tools do you use?", "Who taught you?", "What next?")


@dataclass
class Chat:
    """A chat in progress on a sandbox."""

    sandbox: Sandbox
    engine: Engine
    event_id: int
    hashtag: str
    plan: Any
    collect_until: datetime
    platforms: dict[str, Platform]
    driver: Any = None
    stop: threading.Event = field(default_factory=threading.Event)
    poster: threading.Thread | None = None

    def post_due(self) -> int:
        """Post every due delivery once (a stand-in for the scheduler); returns how many."""
        now = self.sandbox.clock.now()
        posted = 0
        with Session(self.engine) as session:
            rows = session.execute(
                select(PostDelivery).where(
                    PostDelivery.event_id == self.event_id,
                    PostDelivery.state == "pending",
                    PostDelivery.due_at <= now,
                )
            ).scalars()
            for row in rows:
                try:
                    ref = self.platforms[row.network].post(row.text, key=row.idempotency_key)
                except PlatformError:
                    continue  # tried again on the next round, with the same key
                row.state, row.remote_id, row.remote_uri = "posted", ref.id, ref.uri
                row.remote_cid, row.remote_url, row.posted_at = ref.cid, ref.url, now
                session.add(row)
                session.commit()
                posted += 1
        return posted

    def _post_loop(self) -> None:
        while not self.stop.is_set():
            self.post_due()
            self.stop.wait(0.05)

    def over(self) -> bool:
        return self.sandbox.clock.now() >= self.collect_until and self.driver.finished

    def wait_over(self, timeout: float = 90.0) -> None:
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while not self.over():
            assert datetime.now(UTC) < deadline, "the chat did not finish in time"
            self.stop.wait(0.1)

    def truth(self, path: Path) -> dict[str, Any]:
        self.driver.write_truth(path)
        return json.loads(path.read_text(encoding="utf-8"))

    def close(self) -> None:
        self.stop.set()
        if self.poster is not None:
            self.poster.join(5)
        self.sandbox.stop()


def start_chat(
    engine: Engine,
    *,
    seed: int = 1,
    speed: float = 200.0,
    faults: float = 0.0,
    participants: int = 14,
    posts_per_minute: float = 5.0,
    lead: timedelta = timedelta(minutes=1),
    questions: Sequence[str] = QUESTIONS,
    spacing: timedelta = timedelta(minutes=4),
    coverage: bool = True,
    phrasebook: str = "a",
    mastodon_instances: int = 1,
    mastodon_profile: str = "mastodon",
    federation: FederationSettings | None = None,
    networks: tuple[str, ...] = ("bluesky", "mastodon"),
) -> Chat:
    """Start a sandbox, load a chat on ``networks`` (three questions unless told) and its crowd.

    ``mastodon_instances`` > 1: a small fediverse (``mastodon_profile`` one name or one per
    instance, ``federation`` its delay and loss), the crowd spread over it."""
    origin = datetime.now(UTC).replace(microsecond=0)
    sandbox = Sandbox(
        seed=seed, speed=speed, virtual_start=origin, faults=faults, networks=networks,
        mastodon_instances=mastodon_instances, mastodon_profile=mastodon_profile,
        federation=federation,
    ).start()  # fmt: skip
    sandbox.servers["mastodon"].app.heartbeat_seconds = 0.2  # streams notice a close sooner
    try:
        start = sandbox.clock.now().replace(microsecond=0) + lead
        hashtag = f"cb{seed}chat"
        plan = make_plan(
            hashtag=hashtag,
            start=start,
            questions=list(questions),
            spacing=spacing,
            networks=networks,
        )
        report = load_event(engine, plan, source_path=f"questions/{hashtag}.md")
        until = plan.end + TAIL
        with Session(engine) as session:
            event = session.get(Event, report.event_id)
            assert event is not None
            event.collect_from = start - timedelta(minutes=1)
            event.collect_until = until
            session.add(event)
            session.commit()
        chat = Chat(sandbox, engine, report.event_id, hashtag, plan, until, bot_platforms(sandbox))
        chat.poster = threading.Thread(target=chat._post_loop, daemon=True)
        chat.poster.start()
        config = CrowdConfig(
            seed=seed, participants=participants, posts_per_minute=posts_per_minute,
            coverage=coverage, phrasebook=phrasebook,
        )  # fmt: skip
        chat.driver = sandbox.run_crowd(ChatSchedule.from_event_plan(plan), config)
        return chat
    except BaseException:
        sandbox.stop()
        raise


def follow(chat: Chat, collector: Collector, *, timeout: float = 90.0) -> list[Any]:
    """Run the collector beside the chat until the window is over and checked; its reports.

    ``timeout``: real seconds the chat may take (benchmarks run bigger ones)."""
    reports: list[Any] = []
    clock = chat.sandbox.clock

    def loop() -> None:
        while not chat.stop.is_set() and not collector.done:
            reports.append(collector.step())
            wait = ((collector.next_at or clock.now()) - clock.now()).total_seconds()
            chat.stop.wait(max(wait, 0.0) / clock.speed)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    chat.wait_over(timeout)
    thread.join(max(60.0, timeout / 2))
    assert collector.done, [r.as_dict() for r in reports[-2:]]
    return reports
