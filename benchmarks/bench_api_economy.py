"""Requests per collected post, per network, for a big crowd chat, and the busiest 5 minutes.

One seeded crowd chat on both sandbox networks (``--people`` participants
posting ``--rate`` posts a minute over six questions, about 1,000 posts),
collected by the real collector with its live streams on (Jetstream on
Bluesky, the hashtag stream on Mastodon) until the window after the wrap-up
is over and checked. Printed per network: posts stored, the collector's
requests, requests per stored post, the baseline (the pages a bare hashtag
scan needs for the same posts: one per 100 on Bluesky, one per 40 on
Mastodon) and the ratio to it, and the busiest 5 minutes of sandbox time
against half the network's budget (the collector's share).

    python benchmarks/bench_api_economy.py [--seed 61] [--people 60] [--rate 24]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatbot.collect import Collector
from chatbot.collect.pacing import HEADROOM, LIMITS
from chatbot.db import create_engine_for, migrate
from tests.collect.chat import Chat, follow, start_chat
from tests.collect.scoring import stored_posts

QUESTIONS = tuple(f"Question number {n}: what do you think?" for n in range(1, 7))
PAGE = {"bluesky": 100, "mastodon": 40}  # posts per page of a bare hashtag scan
WINDOW = timedelta(minutes=5)


def run(seed: int, people: int, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_for(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        chat = start_chat(
            engine, seed=seed, participants=people, posts_per_minute=rate,
            questions=QUESTIONS, spacing=timedelta(minutes=6),
        )  # fmt: skip
        try:
            collector = Collector(
                engine, chat.event_id, chat.platforms, chat.sandbox.clock, stream=True
            )
            windows, kinds = _follow(chat, collector)
        finally:
            chat.close()
        rows = stored_posts(engine, chat.event_id)
    stored = Counter(row.network for row in rows)
    print(f"{'network':<9} {'stored':>6} {'requests':>8} {'per post':>8} {'bare scan':>9} "
          f"{'ratio':>7} {'busiest 5 min':>13} {'of half budget':>14}")  # fmt: skip
    for network in ("bluesky", "mastodon"):
        total = sum(windows[network].values())
        posts = stored[network]
        bare = max(1, math.ceil(posts / PAGE[network]))
        busiest = max(windows[network].values(), default=0)
        limit, _ = LIMITS[network]
        half = limit * HEADROOM
        print(f"{network:<9} {posts:>6} {total:>8} {total / max(posts, 1):>8.2f} {bare:>9} "
              f"{total / bare:>6.1f}x {busiest:>13} {busiest / half:>13.0%}")  # fmt: skip
    for network in ("bluesky", "mastodon"):
        spent = ", ".join(f"{kind} {n}" for kind, n in kinds[network].most_common())
        print(f"{network} requests by reading: {spent}")


def _follow(
    chat: Chat, collector: Collector
) -> tuple[dict[str, Counter[int]], dict[str, Counter[str]]]:
    """Run the collector to the end; requests per network per 5-minute window of the clock,
    and per network by the kind of reading that made them."""
    origin = chat.sandbox.clock.now()
    windows: dict[str, Counter[int]] = defaultdict(Counter)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    try:
        reports = follow(chat, collector, timeout=600)
    finally:
        collector.close()
    for report in reports:
        slot = int((report.started_at - origin) / WINDOW)
        for network, part in report.networks.items():
            windows[network][slot] += part.requests
            for (_, kind), count in part.sources.items():
                kinds[network][kind] += count.requests
    return windows, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=61)
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--rate", type=float, default=24.0)
    args = parser.parse_args()
    run(args.seed, args.people, args.rate)


if __name__ == "__main__":
    main()
