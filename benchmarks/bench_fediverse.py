"""Collecting a Mastodon chat spread over a small fediverse: completeness and requests per post.

The same seeded Mastodon-only crowd chat runs twice: on one sandbox instance
(the baseline, measured in the same run) and on three federating instances
(the bot's, another Mastodon, a GoToSocial; deliveries delayed up to
``--delay`` sandbox seconds, ``--loss`` of them never made), both with
``--faults`` injected on the HTTP side. The real collector follows each to
the end, reading the other instances as ``chatbot collect`` does. Printed
per run: public posts the crowd made, those missing from the store (by
ActivityPub id; apart, untagged replies under a deleted post, which no
thread or timeline leads to), those stored twice, posts stored, each instance's requests
from the collector (the bot's account on its own instance, the anonymous
address elsewhere), answers of 429, and the collector's requests per stored
post, and as a ratio to the one-instance run's.

    python benchmarks/bench_fediverse.py [--seeds 11 12] [--faults 0.2] [--delay 60] [--loss 0.1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatbot.collect import Collector
from chatbot.db import create_engine_for, migrate
from chatbot.sandbox.mastodon.federation import FederationSettings
from tests.collect.chat import follow, start_chat
from tests.collect.scoring import stored_posts, unreachable

PROFILES = "mastodon,mastodon,gotosocial"


@dataclass(frozen=True)
class Outcome:
    public: int  # public posts the crowd made that are still there
    missing: int
    cut_off: int  # untagged replies under a deleted post: no thread leads to them
    doubled: int
    stored: int
    calls: list[int]  # the collector's requests, per instance (the bot's first)
    refused: list[int]  # 429s, per instance

    @property
    def per_post(self) -> float:
        return sum(self.calls) / max(self.stored, 1)


def run(instances: int, seed: int, faults: float, delay: float, loss: float) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_for(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        chat = start_chat(
            engine, seed=seed, faults=faults, participants=30, posts_per_minute=8.0,
            networks=("mastodon",), mastodon_instances=instances,
            mastodon_profile=PROFILES if instances == 3 else "mastodon",
            federation=FederationSettings(delay=delay, loss=loss, seed=seed),
        )  # fmt: skip
        sandbox = chat.sandbox
        try:
            collector = Collector(engine, chat.event_id, chat.platforms, sandbox.clock, peers=5)
            try:
                follow(chat, collector, timeout=300)
            finally:
                collector.close()
            truth = chat.truth(Path(tmp) / "truth.json")
            bot = f"account:{sandbox.bot_ids['mastodon']}"
            servers = sandbox.mastodon_servers
            calls = [servers[0].app.calls[bot]] + [
                sum(n for key, n in s.app.calls.items() if key.startswith("ip:"))
                for s in servers[1:]
            ]
            refused = [server.app.refused for server in servers]
        finally:
            chat.close()
        rows = [r for r in stored_posts(engine, chat.event_id) if r.network == "mastodon"]
        uris = [row.uri for row in rows]
        late = chat.collect_until.isoformat()
        public = [
            post
            for post in truth["posts"]
            if post["status"] == "posted" and not post["deleted"] and not post["opted_out"]
            and post["visibility"] == "public" and (post["posted_at"] or late) < late
        ]  # fmt: skip
        by_id = {post["plan_id"]: post for post in truth["posts"]}
        lost = [post for post in public if post["uri"] not in set(uris)]
        cut = [p for p in lost if not p["has_hashtag"] and unreachable(p, by_id)]
        doubled = len(uris) - len(set(uris))
        missing = len(lost) - len(cut)
        return Outcome(len(public), missing, len(cut), doubled, len(rows), calls, refused)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12])
    parser.add_argument("--faults", type=float, default=0.2)
    parser.add_argument("--delay", type=float, default=60.0)
    parser.add_argument("--loss", type=float, default=0.1)
    args = parser.parse_args()
    print(f"{'instances':<9} {'seed':>4} {'public':>6} {'missing':>7} {'cut off':>7} "
          f"{'twice':>5} {'stored':>6} "
          f"{'requests per instance':>22} {'429s':>7} {'per post':>8} {'ratio':>6}")  # fmt: skip
    for seed in args.seeds:
        base: Outcome | None = None
        for instances in (1, 3):
            out = run(instances, seed, args.faults, args.delay, args.loss)
            base = base or out
            calls = "/".join(str(n) for n in out.calls)
            refused = "/".join(str(n) for n in out.refused)
            print(f"{instances:<9} {seed:>4} {out.public:>6} {out.missing:>7} {out.cut_off:>7} "
                  f"{out.doubled:>5} "
                  f"{out.stored:>6} {calls:>22} {refused:>7} {out.per_post:>8.2f} "
                  f"{out.per_post / base.per_post:>5.2f}x", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
