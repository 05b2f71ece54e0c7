"""Requests per collected post on each Mastodon-API server profile (mastodon, gotosocial).

The same Mastodon-only crowd chat (seeded) runs on a sandbox playing Mastodon
and on one playing GoToSocial, with and without injected faults, and the real
collector (streaming on) follows it to the end. Printed per run: posts stored,
truth posts of the window missing (and, apart, untagged replies cut off by a
deleted post, which no thread leads to), requests the collector made, requests
per stored post and, as the ratio, against the Mastodon run of the same seed
and faults; answers of 429 from the server's own rate limiter.

    python benchmarks/bench_server_variants.py [--seeds 21 22] [--faults 0 0.2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.collect import Collector
from chatbot.db import create_engine_for, migrate
from chatbot.demo import bot_platforms
from chatbot.models import Event
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig
from chatbot.sandbox.runner import Sandbox
from tests.collect.chat import TAIL, Chat
from tests.collect.scoring import coverage, stored_posts
from tests.factories import make_plan

PROFILES = ("mastodon", "gotosocial")


@dataclass(frozen=True)
class Outcome:
    stored: int
    missing: int
    cut_off: int  # untagged replies under a deleted post: no thread leads to them
    requests: int
    refused: int  # 429s from the rate limiter

    @property
    def per_post(self) -> float:
        return self.requests / max(self.stored, 1)


def run(profile: str, seed: int, faults: float, participants: int) -> Outcome:
    origin = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_for(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        sandbox = Sandbox(
            seed=seed, speed=200.0, virtual_start=origin, networks=("mastodon",),
            mastodon_profile=profile, faults=faults,
        ).start()  # fmt: skip
        try:
            start = sandbox.clock.now().replace(microsecond=0) + timedelta(minutes=1)
            plan = make_plan(
                hashtag=f"v{seed}chat", start=start, spacing=timedelta(minutes=4),
                questions=["What tools do you use?", "Who taught you?", "What next?"],
                networks=("mastodon",),
            )  # fmt: skip
            event_id = load_event(engine, plan, source_path="questions/bench.md").event_id
            until = plan.end + TAIL
            with Session(engine) as session:
                event = session.get(Event, event_id)
                assert event is not None
                event.collect_from, event.collect_until = start - timedelta(minutes=1), until
                session.add(event)
                session.commit()
            chat = Chat(
                sandbox, engine, event_id, plan.hashtag, plan, until, bot_platforms(sandbox)
            )
            chat.poster = threading.Thread(target=chat._post_loop, daemon=True)
            chat.poster.start()
            config = CrowdConfig(seed=seed, participants=participants, posts_per_minute=8.0)
            chat.driver = sandbox.run_crowd(ChatSchedule.from_event_plan(plan), config)
            collector = Collector(engine, event_id, chat.platforms, sandbox.clock, stream=True)
            requests = _follow(chat, collector)
            truth = chat.truth(Path(tmp) / "truth.json")
            refused = sandbox.servers["mastodon"].app.refused
        finally:
            chat.stop.set()
            sandbox.stop()
        rows = stored_posts(engine, event_id)
        found = coverage(truth, rows)
        # Posts the crowd wrote after the window closed are not the collector's to find.
        late = until.isoformat()
        missing = sum(1 for p in found.missing if (p["posted_at"] or late) < late)
        cut_off = sum(1 for p in found.unreachable_missing if (p["posted_at"] or late) < late)
        return Outcome(len(rows), missing, cut_off, requests, refused)


def _follow(chat: Chat, collector: Collector) -> int:
    clock = chat.sandbox.clock
    requests = 0

    def loop() -> None:
        nonlocal requests
        while not chat.stop.is_set() and not collector.done:
            report = collector.step()
            requests += sum(n.requests for n in report.networks.values())
            wait = ((collector.next_at or clock.now()) - clock.now()).total_seconds()
            chat.stop.wait(max(wait, 0.0) / clock.speed)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        chat.wait_over(timeout=300)
        thread.join(120)
    finally:
        collector.close()
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[21, 22])
    parser.add_argument("--faults", type=float, nargs="+", default=[0.0, 0.2])
    parser.add_argument("--participants", type=int, default=30)
    args = parser.parse_args()
    print(f"{'profile':<11} {'seed':>4} {'faults':>6} {'stored':>6} {'missing':>7} {'cut off':>7} "
          f"{'requests':>8} {'per post':>8} {'ratio':>6} {'429s':>4}")  # fmt: skip
    for faults in args.faults:
        for seed in args.seeds:
            base: Outcome | None = None
            for profile in PROFILES:
                out = run(profile, seed, faults, args.participants)
                base = base or out
                ratio = out.per_post / base.per_post
                print(f"{profile:<11} {seed:>4} {faults:>6.2f} {out.stored:>6} {out.missing:>7} "
                      f"{out.cut_off:>7} "
                      f"{out.requests:>8} {out.per_post:>8.2f} {ratio:>5.2f}x {out.refused:>4}",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
