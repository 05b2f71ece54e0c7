"""``chatbot run`` collects the answers while it posts, on both networks."""

from __future__ import annotations

import signal
from datetime import timedelta

from sqlmodel import Session, col, select

from chatbot.loading import load_event
from chatbot.models import Post, PostDelivery
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig
from chatbot.sandbox.runner import Sandbox
from tests.factories import make_plan
from tests.scheduler.conftest import Runner, sandbox_env, wait_for


def _collected(engine, event_id: int) -> list[Post]:
    with Session(engine) as session:
        return list(session.exec(select(Post).where(Post.event_id == event_id)))


def _question_uris(engine, event_id: int) -> set[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(PostDelivery.remote_uri).where(
                PostDelivery.event_id == event_id, col(PostDelivery.remote_uri).is_not(None)
            )
        )
        return {uri for uri in rows if uri}


def test_run_collects_hashtag_and_in_thread_answers_while_posting(engine, database_url, tmp_path):
    with Sandbox(seed=5, speed=60) as box:
        plan = make_plan(
            hashtag="runcollect",
            start=box.clock.now() + timedelta(seconds=90),
            questions=3,
            spacing=timedelta(minutes=3),
            networks=("bluesky", "mastodon"),
            path="questions/runcollect.md",
        )
        event_id = load_event(engine, plan, source_path="/chats/runcollect.md").event_id
        crowd = box.run_crowd(
            ChatSchedule.from_event_plan(plan), CrowdConfig(seed=5, participants=10)
        )
        env = sandbox_env(box, database_url, tmp_path)
        runner = Runner(env, tmp_path / "run.log", "runcollect")

        def answers_in_threads_on_both_networks() -> bool:
            questions = _question_uris(engine, event_id)
            threaded = {
                p.network
                for p in _collected(engine, event_id)
                if p.parent_uri in questions and "runcollect" not in (p.tags or [])
            }
            return threaded == {"bluesky", "mastodon"}

        try:
            wait_for(answers_in_threads_on_both_networks, timeout=90, step=0.5)
        finally:
            runner.process.send_signal(signal.SIGTERM)
            assert runner.wait(timeout=30) == 0, runner.output()
            crowd.stop()
        posts = _collected(engine, event_id)
    networks = {p.network for p in posts}
    assert networks == {"bluesky", "mastodon"}
    assert any("runcollect" in (p.tags or []) for p in posts)  # found by hashtag, too
    assert len({(p.network, p.uri) for p in posts}) == len(posts)
    assert "collected" in runner.output()
