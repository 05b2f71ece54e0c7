"""What one live-page snapshot costs, against ``chatbot review`` on the same store.

The live page reads a snapshot of the chat on every change (the schedule, the
answers per question, the counts, the spam and review queues). Its
unavoidable part is one attribution of every collected post, which is what
``chatbot review`` (``chatbot.export.review.review``) does from the store: the
baseline. Printed per chat size (posts stored as the collector stores them, in
an SQLite file): the baseline, a snapshot, the fingerprint the page's stream
polls between snapshots, and ``chatbot status``; best of 5, with the ratio of
each to the baseline.

Run from the repository root: ``.venv/bin/python benchmarks/bench_live.py``
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.live

from chatbot.bot.eventstatus import status
from chatbot.db import create_engine_for, migrate
from chatbot.export.review import review
from chatbot.live.snapshot import fingerprint, snapshot
from tests.export.util import post
from tests.live.chat import NOW, live_chat, store

SIZES = (500, 2_000, 8_000)
WORDS = ("notes", "paper", "board", "app", "calendar", "habit", "team", "focus", "list", "timer")


def _best(work: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def _posts(count: int, seed: int) -> list:  # type: ignore[type-arg]
    rng = random.Random(seed)
    made = []
    for index in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 14)))
        prefix = rng.choice(["A1 ", "A2 ", "", ""])
        made.append(
            post(
                10_000 + index,
                prefix + words,
                author=f"u{rng.randrange(count // 8 + 1)}",
                minutes=5 + 10 * index / count,
            )
        )
    return made


def measure(size: int) -> tuple[float, list[float]]:
    """The baseline's seconds and, for a snapshot, the fingerprint and status, theirs."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine_for(f"sqlite:///{Path(folder) / 'live.db'}")
        migrate(engine)
        event_id = live_chat(engine)
        store(engine, event_id, *_posts(size, seed=size))
        base = _best(lambda: review(engine, str(event_id), now=NOW))
        figures = [
            _best(lambda: snapshot(engine, event_id, now=NOW)),
            _best(lambda: fingerprint(engine, event_id)),
            _best(lambda: status(engine, str(event_id), now=NOW)),
        ]
        engine.dispose()
    return base, figures


def main() -> None:
    names = ("snapshot", "fingerprint", "status")
    print(f"{'posts':>6}  {'review (baseline)':>17}  " + "  ".join(f"{n:>17}" for n in names))
    for size in SIZES:
        base, figures = measure(size)
        shown = "  ".join(f"{t * 1000:8.1f} ms {t / base:5.2f}x" for t in figures)
        print(f"{size:>6}  {base * 1000:14.1f} ms  {shown}")


if __name__ == "__main__":
    main()
