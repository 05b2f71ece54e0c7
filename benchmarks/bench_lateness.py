"""How late the runner posts (p50, p99 against due time) in sandbox chats, quiet and busy."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from chatbot.bot.loading import load_event, prepare_plan
from chatbot.bot.scheduler import BotService, RunOptions
from chatbot.db import create_engine_for, migrate
from chatbot.models import PostDelivery
from chatbot.platforms import connect
from chatbot.platforms.credentials import load_credentials
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig
from chatbot.sandbox.runner import Sandbox

QUESTIONS = Path(__file__).resolve().parent.parent / "questions" / "community-archives.md"


@dataclass(frozen=True)
class Scenario:
    name: str
    participants: int = 0  # 0: no crowd
    posts_per_minute: float = 0.0
    faults: float = 0.0


SCENARIOS = (
    Scenario("baseline: no crowd, no faults"),
    Scenario("busy crowd (300 people, 300 posts/min)", 300, 300.0),
    Scenario("busy crowd + 10% faults", 300, 300.0, 0.10),
)


def run(scenario: Scenario, *, speed: float, compress: float, tick: float) -> list[float]:
    """One chat on a fresh sandbox and database; the lateness of every post, real seconds."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(seed=5, speed=speed, faults=scenario.faults) as box,
    ):
        clock = box.clock
        plan = prepare_plan(QUESTIONS, start="+1m", compress=compress, now=clock.now())
        engine = create_engine_for(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        load_event(engine, plan, source_path=str(QUESTIONS))
        creds = box.credentials()
        env = {
            "CHATBOT_BLUESKY_HANDLE": creds["bluesky"]["handle"],
            "CHATBOT_BLUESKY_PASSWORD": creds["bluesky"]["password"],
            "CHATBOT_BLUESKY_SERVICE": creds["bluesky"]["url"],
            "CHATBOT_MASTODON_URL": creds["mastodon"]["url"],
            "CHATBOT_MASTODON_TOKEN": creds["mastodon"]["token"],
            "XDG_CONFIG_HOME": tmp,
        }
        credentials = load_credentials(env=env)
        if scenario.participants:
            config = CrowdConfig(
                seed=5,
                participants=scenario.participants,
                posts_per_minute=scenario.posts_per_minute,
            )
            box.run_crowd(ChatSchedule.from_event_plan(plan), config)
        service = BotService(
            engine,
            lambda network: connect(network, credentials, clock=clock.now),
            clock=clock,
            options=RunOptions(tick=tick, until_done=True),
            out=lambda line: None,
        )
        service.check_networks(["bluesky", "mastodon"])
        thread = threading.Thread(target=service.run, daemon=True)
        thread.start()
        thread.join(timeout=600)
        with Session(engine) as session:
            rows = session.exec(select(PostDelivery)).all()
            late = [
                (row.posted_at - row.due_at).total_seconds() / speed
                for row in rows
                if row.posted_at is not None
            ]
            missing = [row for row in rows if row.state != "posted"]
        engine.dispose()
    if missing:
        raise SystemExit(f"{scenario.name}: {len(missing)} posts not posted")
    return late


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def ratio(value: float, base: float) -> str:
    """``value`` as a multiple of the baseline's, the way the other benchmarks print it."""
    return f"{value / base:.2f}x" if base > 0 else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speed", type=float, default=20.0, help="sandbox clock speed-up")
    parser.add_argument("--compress", type=float, default=6.0, help="chat compression")
    parser.add_argument("--tick", type=float, default=0.5, help="runner tick, real seconds")
    args = parser.parse_args()
    print(
        f"{QUESTIONS.name}, --compress {args.compress:g}, sandbox speed {args.speed:g}, "
        f"tick {args.tick:g}s real; python {sys.version.split()[0]}"
    )
    print("lateness = posted_at - due_at, converted to real seconds (virtual / speed)")
    print(
        f"{'scenario':42}{'posts':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'p50/base':>10}{'p99/base':>10}{'wall s':>8}"
    )
    base: tuple[float, float] | None = None  # the first scenario's p50 and p99, this run
    for scenario in SCENARIOS:
        began = time.perf_counter()
        late = run(scenario, speed=args.speed, compress=args.compress, tick=args.tick)
        wall = time.perf_counter() - began
        p50, p99 = percentile(late, 0.5) * 1000, percentile(late, 0.99) * 1000
        base = base or (p50, p99)
        print(
            f"{scenario.name:42}{len(late):6}{p50:9.0f}{p99:9.0f}{max(late) * 1000:9.0f}"
            f"{ratio(p50, base[0]):>10}{ratio(p99, base[1]):>10}{wall:8.1f}"
        )
    print(f"ratios are to the {SCENARIOS[0].name.split(':')[0]} measured in this run")
    print("the runner logs in before the chat and wakes at each due time (tick: fallback)")


if __name__ == "__main__":
    main()
