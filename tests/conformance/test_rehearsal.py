"""A whole rehearsal chat: chatbot load, chatbot run, scripted participants, collect, transcript.

The bot runs as its own processes (the commands a moderator types); two
scripted participants answer its questions and reply to each other through
the adapter, as any Bluesky client would. The transcript must hold exactly
what they posted, attributed to the right questions and threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatbot.platforms.base import RemoteRef
from chatbot.platforms.bluesky import POST, BlueskyPlatform

from .conftest import Account, Target, eventually

CHAT = """---
hashtag: {tag}
title: Conformance rehearsal
moderators: "@{bot}"
start: 2027-12-07 12:00
timezone: UTC
interval: 1m
networks: bluesky
accounts:
  bluesky: {bot}
language: en
---

## Welcome

Welcome to #{tag}! Answer with A1, A2 and the hashtag.

## Questions

Q1. What brought you here?

Q2. What will you try next?

## Wrap-up

Thank you for joining #{tag}!
"""
# --compress 30 turns the one-minute interval into 2 s: the chat lasts about 6 s.
COMPRESS = "30"
RUN_TIMEOUT = 90


class Bot:
    """The chatbot commands, each in its own process, on a private database and state."""

    def __init__(self, target: Target, account: Account, home: Path):
        self.home = home
        self.env = {
            **os.environ,
            "CHATBOT_DATABASE_URL": f"sqlite:///{home / 'chatbot.db'}",
            "CHATBOT_BLUESKY_HANDLE": account.handle,
            "CHATBOT_BLUESKY_PASSWORD": account.password,
            "CHATBOT_BLUESKY_SERVICE": target.url,
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CONFIG_HOME": str(home / "config"),
        }

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "chatbot", *args]

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"chatbot {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, *args: str) -> subprocess.Popen[str]:
        log = (self.home / "run.log").open("w")
        return subprocess.Popen(
            self.command(*args), env=self.env, stdout=log, stderr=subprocess.STDOUT, text=True
        )


def bot_posts(reader: Any, target: Target, did: str) -> dict[str, RemoteRef]:
    """The bot's posts so far, by label (welcome, Q1, Q2, wrapup)."""
    listed = target.query(reader, "com.atproto.repo.listRecords", repo=did, collection=POST)
    found = {}
    for record in listed["records"]:
        text = record["value"]["text"]
        label = text.split(":", 1)[0] if text.startswith("Q") else text.split(" ", 1)[0]
        ref = RemoteRef(
            "bluesky", record["uri"].rsplit("/", 1)[1], record["uri"], "", record["cid"]
        )
        found[label] = ref
    return found


def answer_questions(
    target: Target, bot: Account, ann: BlueskyPlatform, ben: BlueskyPlatform, tag: str, run: Any
) -> dict[str, str]:
    """Answer Q1 and Q2 as they appear; returns text -> URI of every participant post."""
    reader = target.client()
    posted: dict[str, str] = {}
    deadline = time.monotonic() + RUN_TIMEOUT
    while ("Q1" not in _labels(posted) or "Q2" not in _labels(posted)) and run.poll() is None:
        assert time.monotonic() < deadline, "the bot never posted its questions"
        questions = bot_posts(reader, target, bot.did)
        if "Q1" in questions and "Q1" not in _labels(posted):
            q1 = questions["Q1"]
            a1 = ann.post(f"A1 I came for the people #{tag}", key=f"{tag}/ann-a1")
            thread = ben.post("Same here, and for the questions", key=f"{tag}/ben-r1", reply_to=q1)
            back = ann.post(
                f"@{ben.handle} agreed, they are good ones",
                key=f"{tag}/ann-r2",
                reply_to=thread,
                root=q1,
            )
            posted |= {"Q1:a1": a1.uri, "Q1:thread": thread.uri, "Q1:back": back.uri}
        if "Q2" in questions and "Q2" not in _labels(posted):
            a2 = ben.post(f"A2 I will try threads #{tag}", key=f"{tag}/ben-a2")
            posted["Q2:a2"] = a2.uri
        time.sleep(0.2)
    return posted


def _labels(posted: dict[str, str]) -> set[str]:
    return {name.split(":")[0] for name in posted}


def transcript(bot: Bot, tag: str, out: Path) -> dict[str, Any]:
    bot("collect", tag, "--once", "--quiet")
    bot("transcript", tag, "--format", "json", "--out", str(out))
    return json.loads(next(out.glob("*.json")).read_text())


@pytest.mark.slow
def test_a_rehearsal_chat_end_to_end(target: Target, tag: str, tmp_path: Path) -> None:
    bot_account = target.create_account("bot")
    ann = target.platform(target.create_account("ann"))
    ben = target.platform(target.create_account("ben"))
    chat = tmp_path / f"{tag}.md"
    chat.write_text(CHAT.format(tag=tag, bot=bot_account.handle))
    bot = Bot(target, bot_account, tmp_path)
    bot("load", str(chat), "--start", "+5s", "--compress", COMPRESS)

    run = bot.start("run", "--until-done", "--no-collect")
    try:
        posted = answer_questions(target, bot_account, ann, ben, tag, run)
        assert run.wait(timeout=RUN_TIMEOUT) == 0, (tmp_path / "run.log").read_text()
    finally:
        if run.poll() is None:
            run.terminate()
            run.wait(timeout=10)

    # The bot posted each of its four posts exactly once.
    labels = sorted(bot_posts(target.client(), target, bot_account.did))
    assert labels == ["Q1", "Q2", "Thank", "Welcome"]
    assert len(posted) == 4

    def complete() -> dict[str, Any]:
        document = transcript(bot, tag, tmp_path / f"out{time.monotonic_ns()}")
        uris = {post["uri"] for post in document["posts"]}
        return document if set(posted.values()) <= uris else {}

    document = eventually(complete, timeout=20, what="every participant post collected")
    by_uri = {post["uri"]: post for post in document["posts"]}
    theirs = {name: by_uri[uri] for name, uri in posted.items()}
    assert {name: post["question"] for name, post in theirs.items()} == {
        "Q1:a1": "Q1",
        "Q1:thread": "Q1",
        "Q1:back": "Q1",
        "Q2:a2": "Q2",
    }
    assert theirs["Q1:back"]["parent_uri"] == posted["Q1:thread"]
    assert theirs["Q1:a1"]["text"] == f"A1 I came for the people #{tag}"
    authors = {name: post["author"]["handle"] for name, post in theirs.items()}
    assert authors == {
        "Q1:a1": ann.handle,
        "Q1:thread": ben.handle,
        "Q1:back": ann.handle,
        "Q2:a2": ben.handle,
    }
    # Nothing else from the participants: no duplicates, no strays.
    participant_posts = [
        p for p in document["posts"] if p["author"]["handle"] in (ann.handle, ben.handle)
    ]
    assert sorted(p["uri"] for p in participant_posts) == sorted(posted.values())
