"""Times the coverage report (``chatbot status``) of a 100k-post event against one plain scan.

The event's posts are stored as the collector stores them (search finds
every post, the stream half of them: 150,000 ``post_sighting`` rows). The
baseline, in the same run, is a single ``sqlite3`` query reading every
sighting of the event (its posts' ids from the event's index, their
sightings by key): the least any report of where each post was found must
read. Best of 5.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from benchmarks.bench_ingest import views
from chatbot.collect.coverage import coverage_report
from chatbot.collect.sightings import FoundBy
from chatbot.collect.store import upsert_posts
from chatbot.db import create_engine_for, migrate
from chatbot.models import Event
from chatbot.platforms.normalise import from_bluesky_post_view

POSTS = 100_000
START = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
BASELINE = (
    "SELECT s.instance, s.source, s.post_id FROM post p "
    "JOIN post_sighting s ON s.post_id = p.id WHERE p.event_id = ?"
)


def build(path: Path, count: int) -> int:
    engine = create_engine_for(f"sqlite:///{path}")
    migrate(engine)
    with Session(engine) as session:
        event = Event(
            hashtag="sm35", hashtag_key="sm35", title="bench", timezone="UTC",
            start_at=START, end_at=START + timedelta(hours=1), source_path="bench",
            collect_from=START, collect_until=START + timedelta(hours=2), networks=["bluesky"],
        )  # fmt: skip
        session.add(event)
        session.commit()
        assert event.id is not None
        event_id = event.id
    rng = random.Random(1)
    pages = views(count)
    now = datetime.now(UTC)
    search = FoundBy("search", "https://public.api.bsky.app")
    stream = FoundBy("stream", "wss://jetstream1.us-east.bsky.network")
    with engine.begin() as connection:
        for start in range(0, count, 100):
            posts = [from_bluesky_post_view(view) for view in pages[start : start + 100]]
            upsert_posts(connection, posts, event_id=event_id, now=now, found_by=search)
            half = [post for post in posts if rng.random() < 0.5]
            upsert_posts(connection, half, event_id=event_id, now=now, found_by=stream)
    engine.dispose()
    return event_id


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else POSTS
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coverage.db"
        event_id = build(path, count)
        engine = create_engine_for(f"sqlite:///{path}")
        raw = sqlite3.connect(path)
        best_ours, best_raw, rows = float("inf"), float("inf"), 0
        with Session(engine) as session:
            event = session.get(Event, event_id)
            assert event is not None
            for _ in range(5):
                began = time.perf_counter()
                rows = len(raw.execute(BASELINE, (event_id,)).fetchall())
                best_raw = min(best_raw, time.perf_counter() - began)
                began = time.perf_counter()
                report = coverage_report(session.connection(), event)
                best_ours = min(best_ours, time.perf_counter() - began)
        raw.close()
        engine.dispose()
    found = ", ".join(f"{r.source} {r.posts} ({r.only} alone)" for r in report.sources)
    print(f"{count:,} posts, {rows:,} sightings ({found}); best of 5")
    print(f"baseline: one scan of the event's sightings: {best_raw:.3f} s")
    print(f"the coverage report:                          {best_ours:.3f} s")
    print(f"ratio to the scan: {best_ours / best_raw:.2f}x")


if __name__ == "__main__":
    main()
