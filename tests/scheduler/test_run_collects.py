"""``chatbot run`` collects the answers while it posts, on both networks."""

from __future__ import annotations

import signal
from datetime import timedelta

from atproto import Client, client_utils
from sqlmodel import Session, col, select

from chatbot.bot.loading import load_event
from chatbot.models import Event, Post, PostDelivery
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig
from chatbot.sandbox.runner import Sandbox
from tests.factories import make_plan
from tests.scheduler.conftest import Runner, sandbox_env, wait_for
from tests.scheduler.stepping import file_clock, step_through_posts


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


def test_until_done_waits_for_the_collection_window_after_the_wrap_up(
    engine, database_url, tmp_path, monkeypatch
):
    # Four minutes of collection after the last post, on a clock only the test
    # moves (the bot reads it from the file too): no step depends on the machine's speed.
    monkeypatch.setenv("CHATBOT_COLLECT_AFTER_MINUTES", "4")
    clock = file_clock(tmp_path)
    with Sandbox(seed=6, clock=clock) as box:
        plan = make_plan(
            hashtag="latecomers",
            start=clock.now() + timedelta(seconds=30),
            questions=1,
            spacing=timedelta(minutes=1),
            networks=("bluesky",),
            path="questions/latecomers.md",
        )
        event_id = load_event(engine, plan, source_path="/chats/latecomers.md").event_id
        with Session(engine) as session:
            window_end = session.get(Event, event_id).collect_until
        env = sandbox_env(box, database_url, tmp_path)
        runner = Runner(env, tmp_path / "run.log", "latecomers", "--until-done")
        try:
            step_through_posts(engine, clock, event_id)
            wait_for(lambda: "All posts are done." in runner.output(), timeout=60, step=0.1)
            wait_for(lambda: "Still collecting #latecomers until" in runner.output(), timeout=60)
            # The clock stands before the window's end: a run that exits now is wrong.
            assert clock.now() < window_end and runner.process.poll() is None, runner.output()
            # An answer after the wrap-up, inside the collection window.
            box.bluesky.create_account("late.test", "late-password-1")
            client = Client(base_url=box.bluesky_url + "/xrpc")
            client.login("late.test", "late-password-1")
            text = client_utils.TextBuilder().text("A1 sorry I'm late ")
            text.tag("#latecomers", "latecomers")
            record = {
                "$type": "app.bsky.feed.post",
                "text": text.build_text(),
                "facets": [f.model_dump(by_alias=True) for f in text.build_facets()],
                # The sandbox's time: the client would stamp the real one.
                "createdAt": clock.now().isoformat().replace("+00:00", "Z"),
            }
            late = client.com.atproto.repo.create_record(
                {"repo": client.me.did, "collection": "app.bsky.feed.post", "record": record}
            )
            assert runner.process.poll() is None, runner.output()
            clock.set(window_end + timedelta(seconds=1))
            assert runner.wait(timeout=90) == 0, runner.output()
        finally:
            runner.kill()
    uris = {p.uri for p in _collected(engine, event_id)}
    assert late.uri in uris  # collected by the run itself, before it exited
