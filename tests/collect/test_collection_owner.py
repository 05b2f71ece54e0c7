"""Several bot processes on one PostgreSQL database: one of them collects each event."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from chatbot.clock import ManualClock
from chatbot.collect.job import CollectionJob
from chatbot.db import create_engine_for, migrate
from chatbot.sandbox.runner import Sandbox
from tests.collect.test_jetstream_live import bot_platforms, rows, start_chat


def test_one_process_collects_an_event_and_another_takes_over_when_it_stops(
    postgres_engine: Engine,
) -> None:
    clock = ManualClock()
    # A second engine: another process's own connections to the same database.
    other_engine = create_engine_for(postgres_engine.url.render_as_string(hide_password=False))
    with Sandbox(seed=31, networks=("bluesky",), clock=clock) as sandbox:
        event_id, _ = start_chat(sandbox, postgres_engine, "owned")
        store = sandbox.bluesky
        did = store.create_account("ow.sandbox.test", "pw").did
        store.create_post(did, "A1 first #owned")
        platform = bot_platforms(sandbox, ("bluesky",))["bluesky"]
        first = CollectionJob(postgres_engine, lambda network: platform, clock, stream=False)
        second = CollectionJob(other_engine, lambda network: platform, clock, stream=False)
        try:
            first()
            second()
            assert event_id in first.collectors and first.collectors[event_id].steps == 1
            assert event_id not in second.collectors  # not read a second time
            assert first.pending() is not None and second.pending() is None
            assert sum("#owned" in row.text for row in rows(postgres_engine).values()) == 1

            first.close()  # that process stops: the event is let go at once
            made = store.create_post(did, "A1 later #owned")["uri"]
            clock.advance(seconds=30)
            second()
            assert second.collectors[event_id].steps == 1
            assert made in rows(postgres_engine)
            assert second.pending() is not None
        finally:
            first.close()
            second.close()
            other_engine.dispose()


def test_on_sqlite_every_job_collects(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'chatbot.db'}")
    migrate(engine)
    clock = ManualClock()
    with Sandbox(seed=31, networks=("bluesky",), clock=clock) as sandbox:
        event_id, _ = start_chat(sandbox, engine, "unowned")
        platform = bot_platforms(sandbox, ("bluesky",))["bluesky"]
        jobs = [CollectionJob(engine, lambda network: platform, clock, stream=False) for _ in "ab"]
        try:
            for job in jobs:
                job()
            assert all(job.collectors[event_id].steps == 1 for job in jobs)
        finally:
            for job in jobs:
                job.close()
            engine.dispose()
