"""Killed at random moments and restarted over and over, the runner still posts all once."""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import (
    Runner,
    bluesky_posts,
    expected_texts,
    load_chat,
    mastodon_posts,
    sandbox_env,
)
from tests.scheduler.crashing_run import CRASHED

KILLS = 20
QUESTIONS = 30
# Each runner dies after 3 in 10 posts, right after the post went out and before it is recorded.
CRASHING = ("tests.scheduler.crashing_run", "0.3")


@dataclass
class Lane:
    """One runner process and when the test will kill it."""

    runner: Runner
    at_any: bool  # killed at any moment once it is up, else while it posts
    deadline: float | None = None  # when to kill it: set once it has said it is up


def test_sigkill_and_crashes_after_send_never_lose_or_double_a_post(engine, database_url, tmp_path):
    rng = random.Random(20)
    hashtags: list[str] = []
    with Sandbox(seed=11, speed=60) as box:

        def new_chat() -> None:
            tag = f"crash{len(hashtags)}"
            hashtags.append(tag)
            load_chat(
                engine, box.clock.now() + timedelta(seconds=5), questions=QUESTIONS,
                spacing=timedelta(seconds=3), hashtag=tag, settings={"layout": "thread"},
            )  # fmt: skip

        new_chat()
        env = sandbox_env(box, database_url, tmp_path)
        env["CHATBOT_CLAIM_TIMEOUT_SECONDS"] = "10"  # virtual: a sixth of a real second
        args = ("--until-done", "--no-collect", "--late-limit", "1d")
        logs = []

        def start() -> Lane:
            logs.append(tmp_path / f"run{len(logs)}.log")
            runner = Runner(env, logs[-1], *args, command=CRASHING)
            # Half at any moment (logging in, loading, posting), half while posting. The
            # moment is counted from the runner's first words, not from its start: how long
            # Python takes to import depends on the machine's load, and a runner killed
            # before it is up tests nothing (and, every time, would leave no crash).
            return Lane(runner, at_any=rng.random() < 0.5)

        # Two processes at a time, each killed and restarted, share the outbox.
        lanes = [start(), start()]
        killed = crashed = 0
        # Go on until there were enough stops of both kinds (bounded, so a broken
        # runner fails the test instead of hanging it).
        give_up = time.monotonic() + 240

        def enough() -> bool:
            return killed + crashed >= KILLS and crashed > 0 and killed > 0

        while not enough() and time.monotonic() < give_up:
            time.sleep(0.02)
            for n, lane in enumerate(lanes):
                code = lane.runner.process.poll()
                if code is None and lane.deadline is None:
                    said = lane.runner.output()
                    if lane.at_any and said:
                        lane.deadline = time.monotonic() + rng.uniform(0.0, 1.1)
                    elif "Running" in said:
                        lane.deadline = time.monotonic() + rng.uniform(0.0, 0.4)
                if code is None and lane.deadline is not None and time.monotonic() > lane.deadline:
                    killed += 1
                elif code is None:
                    continue
                elif code == 0:  # everything went out before the next crash: more work
                    new_chat()
                else:
                    assert code == CRASHED, lane.runner.output()
                    crashed += 1
                lane.runner.kill()
                lanes[n] = start()
        for lane in lanes:
            lane.runner.kill()
        logs.append(tmp_path / "final.log")  # the last run may be the one that recovers
        final = Runner(env, logs[-1], *args)
        assert final.wait(timeout=60) == 0, final.output()
        blue, masto = bluesky_posts(box), mastodon_posts(box)
    assert killed + crashed >= KILLS and crashed > 0 and killed > 0
    for posts in (blue.texts, [_plain(s["content"]) for s in masto.raw]):
        counts = Counter(posts)
        assert not [text for text, n in counts.items() if n > 1], "a post went out twice"
        for tag in hashtags:
            assert [t for t in posts if t.endswith(f"#{tag}")] == expected_texts(QUESTIONS, tag)
    # Every question replies to its own chat's welcome (the reply refs survived the crashes).
    welcomes = {r["text"]: r["uri"] for r in blue.raw if r["text"].startswith("Welcome")}
    for record in blue.raw:
        if not record["text"].startswith("Welcome"):
            tag = record["text"].rsplit("#", 1)[1]
            assert record["reply"]["root"]["uri"] == welcomes[f"Welcome to the chat! #{tag}"]
    # Taken again: at once by the next process (the one that left it has ended), or
    # after the lease by a process that ran beside it.
    recovered = ("recovered after a stop", "left in flight by a run that ended")
    assert any(said in log.read_text() for log in logs for said in recovered)


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&amp;", "&")
