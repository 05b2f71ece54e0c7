"""Late joiners with real ``chatbot run`` processes: one reply per person and question, even
when the run is killed and started again (the sandbox over HTTP, a clock the test moves)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from chatbot.models import LateReply
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import Runner, load_chat, sandbox_env, wait_for
from tests.scheduler.stepping import due_times, file_clock, step_to

HASHTAG = "latejoin"


def _posted(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(LateReply).where(LateReply.state == "posted")).all()
        return sorted((row.asker_handle, row.label) for row in rows)


def _replies_to(box: Sandbox, uri: str) -> int:
    bot = box.bot_ids["bluesky"]
    return sum(
        1
        for record in box.bluesky.all_records(bot)
        if record.collection == "app.bsky.feed.post"
        and (record.value.get("reply") or {}).get("parent", {}).get("uri") == uri
    )


def test_a_killed_and_restarted_run_answers_each_request_once(engine, database_url, tmp_path):
    clock = file_clock(tmp_path)
    with Sandbox(seed=8, clock=clock, networks=("bluesky",)) as box:
        event_id = load_chat(
            engine, clock.now() + timedelta(seconds=30), questions=2,
            spacing=timedelta(minutes=10), networks=("bluesky",), hashtag=HASHTAG,
        )  # fmt: skip
        env = sandbox_env(box, database_url, tmp_path)
        store = box.bluesky
        ann = store.create_account("ann.test", "ann-password-1").did
        bob = store.create_account("bob.test", "bob-password-1").did
        bot = f"@{box.bot_handle}"
        first = Runner(env, tmp_path / "first.log", HASHTAG)
        try:
            welcome, q1 = due_times(engine, event_id)[:2]
            step_to(engine, clock, event_id, welcome)
            step_to(engine, clock, event_id, q1)
            asked = store.create_post(ann, f"{bot} Q1?")["uri"]
            wait_for(lambda: _posted(engine) == [("ann.test", "Q1")], timeout=60, step=0.2)
        finally:
            first.kill()  # SIGKILL: nothing is tidied up
        store.create_post(ann, f"{bot} what was Q1 again?")  # asked again, while it was down
        second = Runner(env, tmp_path / "second.log", HASHTAG)
        try:
            store.create_post(bob, f"{bot} what's the current question?")
            clock.advance(seconds=20)
            # Bob's reply shows the new run has read the requests, Ann's second one too.
            wait_for(lambda: ("bob.test", "Q1") in _posted(engine), timeout=60, step=0.2)
        finally:
            second.kill()
        assert _posted(engine) == [("ann.test", "Q1"), ("bob.test", "Q1")]
        assert _replies_to(box, asked) == 1
        assert "reply: Q1 for ann.test  bluesky  posted" in first.output()
        assert "reply: Q1 for ann.test" not in second.output()
