"""Late joiners: "@chatbot Q1?" gets one reply per person and question, on both networks.

The bot's own service and job, with the unmodified atproto and Mastodon.py
clients, against the sandbox over HTTP on a clock only the test moves.
Participants post straight into the sandbox's stores (they are the network).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.bot.chatwindows import open_windows
from chatbot.bot.eventstatus import status
from chatbot.bot.latejoiners import LateJoinerJob
from chatbot.bot.replies import GRACE, claim_reply
from chatbot.bot.scheduler import BotService
from chatbot.collect.collector import Collector
from chatbot.models import LateReply, Post, PostDelivery
from chatbot.platforms import connect
from chatbot.platforms.credentials import load_credentials
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import credentials_for, load_chat, run_chat, sandbox_env

PASSWORD = "participant-password-1"


class Crowd:
    """Participants writing straight into the sandbox (the network), as people would."""

    def __init__(self, box: Sandbox):
        self.box = box
        self.dids: dict[str, str] = {}
        self.accounts: dict[str, str] = {}

    def bluesky(self, who: str, text: str, reply_to: str | None = None) -> str:
        store = self.box.bluesky
        if who not in self.dids:
            self.dids[who] = store.create_account(f"{who}.test", PASSWORD).did
        return str(store.create_post(self.dids[who], text, reply_to=reply_to)["uri"])

    def mastodon(self, who: str, text: str, reply_to: str | None = None) -> str:
        store = self.box.mastodon
        if who not in self.accounts:
            self.accounts[who] = str(store.create_account(who)["id"])
        return str(store.post(self.accounts[who], text, in_reply_to_id=reply_to).id)


def _bot_replies(box: Sandbox) -> dict[str, list[dict[str, Any]]]:
    """The bot's replies to other people's posts on each network (its chat posts left out)."""
    bluesky = [
        dict(record.value, uri=record.uri)
        for record in box.bluesky.all_records(box.bot_ids["bluesky"])
        if record.collection == "app.bsky.feed.post"
        and record.value.get("reply")
        and not record.value["reply"]["parent"]["uri"].startswith(f"at://{box.bot_ids['bluesky']}/")
    ]
    bot = box.bot_ids["mastodon"]
    mastodon = [
        status
        for status in box.mastodon.find_statuses(account_id=bot)
        if status["in_reply_to_account_id"] not in (None, bot)
    ]
    return {"bluesky": bluesky, "mastodon": mastodon}


def _questions(engine: Engine, network: str) -> dict[str, PostDelivery]:
    with Session(engine) as session:
        rows = session.exec(select(PostDelivery).where(PostDelivery.network == network)).all()
    return {
        row.text.split()[0]: row
        for row in rows
        if row.text.startswith("Q") and row.state == "posted"
    }


def _rows(engine: Engine) -> list[LateReply]:
    with Session(engine) as session:
        return list(session.exec(select(LateReply).order_by(LateReply.id)).all())


def _bot(engine: Engine, sandbox: Sandbox, make_service: Callable[..., BotService], tmp: Path):
    """A fresh service and job (a restart: nothing kept in memory), sharing the adapters."""
    service = make_service()
    creds = credentials_for(sandbox, tmp)
    job = LateJoinerJob(engine, lambda n: connect(n, creds, clock=sandbox.clock.now), sandbox.clock)
    return service, job


def _look_and_reply(service: BotService, job: LateJoinerJob) -> None:
    job()
    for network in ("bluesky", "mastodon"):
        service.reply_due(network, most=10)


def test_one_reply_per_person_and_question_on_both_networks_even_after_a_restart(
    engine, sandbox, make_service, tmp_path
):
    clock = sandbox.clock
    # Welcome at +1 min, then a question every 3 minutes.
    event_id = load_chat(
        engine, clock.now() + timedelta(minutes=1), questions=3, spacing=timedelta(minutes=3)
    )
    service, job = _bot(engine, sandbox, make_service, tmp_path)
    crowd = Crowd(sandbox)
    early = crowd.bluesky("early", "@chatbot.sandbox.test what's the current question?")
    run_chat(service, clock, minutes=7.5)  # welcome, Q1 and Q2 are out; Q3 is 2 minutes away
    questions = _questions(engine, "bluesky")
    assert set(questions) == {"Q1", "Q2"}

    asked = crowd.bluesky("ann", "@chatbot.sandbox.test Q1?")
    crowd.bluesky("ann", "@chatbot.sandbox.test Q1 please")  # the same question again
    crowd.bluesky("ann", "hey @chatbot.sandbox.test what's the current question?")  # Q2
    crowd.bluesky(
        "bob", "@chatbot.sandbox.test Q1 was my favourite"
    )  # mentions the bot, asks nothing
    crowd.bluesky("bob", "@chatbot.sandbox.test Q3?")  # not posted yet: never told early
    in_thread = crowd.bluesky("cat", "current question please", reply_to=questions["Q2"].remote_uri)
    masto_q2 = _questions(engine, "mastodon")["Q2"]
    crowd.mastodon("dan", "@chatbot what is Q1?")
    crowd.mastodon("dan", "@chatbot what is Q1?")
    crowd.mastodon("eve", "@chatbot ¿cuál es la pregunta actual?", reply_to=masto_q2.remote_id)
    crowd.mastodon("eve", "thanks @chatbot!")
    # The bot asking itself (a moderator posting from its account) is never answered.
    sandbox.bluesky.create_post(sandbox.bot_ids["bluesky"], "@chatbot.sandbox.test Q1?")
    sandbox.mastodon.post(sandbox.bot_ids["mastodon"], "@chatbot Q1?")

    _look_and_reply(service, job)
    replies = _bot_replies(sandbox)
    bluesky = {
        (r["reply"]["parent"]["uri"], r["text"].split("\n")[0][:20]) for r in replies["bluesky"]
    }
    assert len(replies["bluesky"]) == 3, replies["bluesky"]
    assert len(replies["mastodon"]) == 2, replies["mastodon"]
    assert early not in {parent for parent, _ in bluesky}
    to_ann = next(r for r in replies["bluesky"] if r["reply"]["parent"]["uri"] == asked)
    assert to_ann["text"].startswith("@ann.test Q1 Question 1?")
    assert to_ann["text"].endswith(questions["Q1"].remote_url)  # links the question post
    assert "#sched" not in to_ann["text"]
    to_cat = next(r for r in replies["bluesky"] if r["reply"]["parent"]["uri"] == in_thread)
    assert to_cat["reply"]["root"]["uri"] == questions["Q2"].remote_uri  # in the asker's thread
    assert "Q2 Question 2?" in to_cat["text"]
    labels = sorted((r.network, r.asker_handle, r.label, r.state) for r in _rows(engine))
    assert labels == [
        ("bluesky", "ann.test", "Q1", "posted"),
        ("bluesky", "ann.test", "Q2", "posted"),
        ("bluesky", "cat.test", "Q2", "posted"),
        ("mastodon", "dan", "Q1", "posted"),
        ("mastodon", "eve", "Q2", "posted"),
    ]
    masto = sorted(r["content"] for r in replies["mastodon"])
    assert "Q1 Question 1?" in masto[0] and "Q2 Question 2?" in masto[1]
    shown = status(engine, str(event_id))
    assert shown.summary().endswith("late joiners: 5 replies (bluesky 3 posted, mastodon 2 posted)")
    assert shown.as_dict()["late_joiners"]["replies"]["mastodon"] == {"posted": 2}

    # A restart reads every request again: nothing more is sent.
    service, job = _bot(engine, sandbox, make_service, tmp_path)
    crowd.bluesky("ann", "@chatbot.sandbox.test Q1?")  # and asking once more changes nothing
    _look_and_reply(service, job)
    again = _bot_replies(sandbox)
    assert (len(again["bluesky"]), len(again["mastodon"])) == (3, 2)


def test_no_reply_when_the_question_file_says_off(engine, sandbox, make_service, tmp_path):
    clock = sandbox.clock
    event_id = load_chat(engine, clock.now(), questions=2, settings={"late_joiners": False})

    service, job = _bot(engine, sandbox, make_service, tmp_path)
    run_chat(service, clock, minutes=1.5)
    crowd = Crowd(sandbox)
    crowd.bluesky("ann", "@chatbot.sandbox.test Q1?")
    crowd.mastodon("dan", "@chatbot what is Q1?")
    _look_and_reply(service, job)
    assert _bot_replies(sandbox) == {"bluesky": [], "mastodon": []}
    assert _rows(engine) == []
    assert status(engine, str(event_id)).summary().endswith("late joiners: off")


def test_a_rate_limited_server_delays_the_reply_once(engine, sandbox, make_service, tmp_path):
    clock = sandbox.clock
    load_chat(
        engine, clock.now(), questions=1, networks=("mastodon",), spacing=timedelta(minutes=10)
    )
    service, job = _bot(engine, sandbox, make_service, tmp_path)
    run_chat(service, clock, minutes=10.5)  # the welcome and Q1; the wrap-up in 10 minutes
    Crowd(sandbox).mastodon("dan", "@chatbot Q1?")
    job()
    assert [r.state for r in _rows(engine)] == ["pending"]
    assert job.pending() == "sending 1 reply to late joiners"  # `run --until-done` waits
    faults = sandbox.servers["mastodon"].app.faults
    faults.settings.update({"rate": 1.0, "weights": {"rate_limit": 1}})
    for _ in range(3):
        service.reply_due("mastodon")
        clock.advance(seconds=30)
    (row,) = _rows(engine)
    assert row.state == "pending" and row.rate_limited >= 1 and row.attempts == 0
    assert _bot_replies(sandbox)["mastodon"] == []
    faults.settings.update({"rate": 0.0})
    for _ in range(5):
        clock.advance(seconds=60)
        service.reply_due("mastodon")
        job()
    assert len(_bot_replies(sandbox)["mastodon"]) == 1
    assert [r.state for r in _rows(engine)] == ["posted"]
    assert job.pending() is None


def test_no_reply_after_the_wrap_up_and_the_grace_period(engine, sandbox, make_service, tmp_path):
    clock = sandbox.clock
    load_chat(engine, clock.now(), questions=1, networks=("bluesky",))
    service, job = _bot(engine, sandbox, make_service, tmp_path)
    run_chat(service, clock, minutes=2.5)  # welcome, Q1, wrap-up
    clock.advance(seconds=GRACE.total_seconds() + 60)
    Crowd(sandbox).bluesky("ann", "@chatbot.sandbox.test Q1?")
    _look_and_reply(service, job)
    assert _bot_replies(sandbox)["bluesky"] == []


def test_a_request_the_collector_stored_is_answered_once(engine, sandbox, make_service, tmp_path):
    clock = sandbox.clock
    event_id = load_chat(
        engine, clock.now(), questions=1, networks=("bluesky",), spacing=timedelta(minutes=10)
    )
    service, job = _bot(engine, sandbox, make_service, tmp_path)
    run_chat(service, clock, minutes=10.5)
    asked = Crowd(sandbox).bluesky("ann", "@chatbot.sandbox.test Q1? #sched")
    creds = credentials_for(sandbox, tmp_path)
    platform = connect("bluesky", creds, clock=clock.now)
    Collector(engine, event_id, [platform], clock).step()
    with Session(engine) as session:
        stored = session.exec(select(Post).where(Post.uri == asked)).one()
        assert sandbox.bot_ids["bluesky"] in stored.mentions  # what the job reads first
    _look_and_reply(service, job)  # the store and the notifications both bring it
    _look_and_reply(service, job)
    (reply,) = _bot_replies(sandbox)["bluesky"]
    assert reply["reply"]["parent"]["uri"] == asked
    assert reply["text"].startswith("@ann.test Q1 Question 1?")


def _replies_sent_by_a_process_that_dies(
    engine, sandbox, make_service, tmp_path, worker: str
) -> BotService:
    """Late joiners ask for Q1 on both networks; a process (``worker``) claims and sends
    the replies, then dies before recording them. Returns the service that ran the chat."""
    clock = sandbox.clock
    load_chat(engine, clock.now(), questions=1, spacing=timedelta(minutes=30))
    service, job = _bot(engine, sandbox, make_service, tmp_path)
    run_chat(service, clock, minutes=30.5)
    crowd = Crowd(sandbox)
    crowd.bluesky("ann", "@chatbot.sandbox.test Q1?")
    crowd.mastodon("dan", "@chatbot Q1?")
    job()
    creds = credentials_for(sandbox, tmp_path)
    for network in ("bluesky", "mastodon"):
        claim = claim_reply(
            engine, network, now=clock.now(), worker=worker, lease=service.options.lease
        )
        assert claim is not None
        connect(network, creds, clock=clock.now).post(
            claim.text, key=claim.key, reply_to=claim.reply_to, root=claim.root
        )  # it landed; the process died before complete_reply
    assert {r.state for r in _rows(engine)} == {"posting"}
    return service


def test_a_reply_left_by_a_run_that_ended_is_finished_at_once_by_the_next(
    engine, sandbox, make_service, tmp_path
):
    # As below, but the process that died ran on this machine: the next run's warm-up
    # sees its pid gone and gives the replies back without waiting for the lease.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    worker = f"{socket.gethostname()}:{gone.pid}:a1b2c3"
    _replies_sent_by_a_process_that_dies(engine, sandbox, make_service, tmp_path, worker)
    later, _ = _bot(engine, sandbox, make_service, tmp_path)
    later.warm_up()
    assert sum("reply: Q1" in line and "left in flight" in line for line in later.lines) == 2
    later.reply_due("bluesky")
    later.reply_due("mastodon")  # well within the lease
    replies = _bot_replies(sandbox)
    assert (len(replies["bluesky"]), len(replies["mastodon"])) == (1, 1)
    assert [(r.state, r.attempts) for r in _rows(engine)] == [("posted", 2), ("posted", 2)]


def test_a_reply_cut_off_mid_post_is_finished_once_by_the_next_process(
    engine, sandbox, make_service, tmp_path
):
    # A process claims the replies and sends them, then dies before recording it: the
    # rows stay "posting". After the lease, another process sends them again with the
    # same keys; the networks (Bluesky's record key, Mastodon's Idempotency-Key) keep one.
    clock = sandbox.clock
    _replies_sent_by_a_process_that_dies(engine, sandbox, make_service, tmp_path, "dead:1")
    later, _ = _bot(engine, sandbox, make_service, tmp_path)
    later.reply_due("bluesky")
    later.reply_due("mastodon")
    assert {r.state for r in _rows(engine)} == {"posting"}  # within the lease: left alone
    clock.advance(seconds=later.options.lease.total_seconds() + 1)
    later.reply_due("bluesky")
    later.reply_due("mastodon")
    replies = _bot_replies(sandbox)
    assert (len(replies["bluesky"]), len(replies["mastodon"])) == (1, 1)
    assert [(r.state, r.attempts) for r in _rows(engine)] == [("posted", 2), ("posted", 2)]
    assert any("reply: Q1 for ann.test  bluesky  posted" in line for line in later.lines)


def test_the_chats_posts_go_before_any_reply(engine, sandbox, make_service, tmp_path):
    clock = sandbox.clock
    start = clock.now()
    load_chat(engine, start, questions=2, networks=("bluesky",), spacing=timedelta(minutes=5))
    service, job = _bot(engine, sandbox, make_service, tmp_path)
    run_chat(service, clock, minutes=5.5)  # the welcome and Q1; Q2 is due at 10 minutes
    crowd = Crowd(sandbox)
    for who in ("ann", "bob", "cat"):
        crowd.bluesky(who, "@chatbot.sandbox.test Q1?")
    job()
    clock.advance(
        seconds=(start + timedelta(minutes=10, seconds=-10) - clock.now()).total_seconds()
    )
    assert service.reply_due("bluesky") == 0  # Q2 is due within 30 seconds: it goes first
    assert _bot_replies(sandbox)["bluesky"] == []
    clock.advance(seconds=10)
    service.post_job("bluesky")  # Q2, then the replies
    records = [
        r for r in sandbox.bluesky.all_records(sandbox.bot_ids["bluesky"])
        if r.collection == "app.bsky.feed.post"
    ]  # fmt: skip
    texts = [r.value["text"].split()[0] for r in records]
    assert texts[-4] == "Q2" and sorted(texts[-3:]) == ["@ann.test", "@bob.test", "@cat.test"]


def test_the_open_chats_follow_their_posts_between_looks(engine, sandbox, make_service, tmp_path):
    clock = sandbox.clock
    start = clock.now() + timedelta(minutes=1)
    load_chat(engine, start, questions=2, networks=("bluesky",), spacing=timedelta(minutes=5))
    service, _ = _bot(engine, sandbox, make_service, tmp_path)
    known: dict = {}

    def questions() -> list[str]:
        windows = open_windows(engine, clock.now(), None, known)
        return [q.label for w in windows for q in w.questions]

    assert open_windows(engine, clock.now(), None, known) == []  # before the welcome
    run_chat(service, clock, minutes=1.5)
    assert questions() == []  # the welcome is out: open, no question yet
    run_chat(service, clock, minutes=5)
    assert questions() == ["Q1"]
    run_chat(service, clock, minutes=5)
    assert questions() == ["Q1", "Q2"]  # kept posts read again once Q2 is out
    run_chat(service, clock, minutes=5)  # the wrap-up
    assert questions() == ["Q1", "Q2"]
    clock.advance(seconds=GRACE.total_seconds() + 60)
    assert open_windows(engine, clock.now(), None, known) == [] and known == {}


def test_notifications_wait_while_the_server_budget_is_low(engine, sandbox, make_service, tmp_path):
    clock = sandbox.clock
    load_chat(
        engine, clock.now(), questions=1, networks=("mastodon",), spacing=timedelta(minutes=30)
    )
    service, job = _bot(engine, sandbox, make_service, tmp_path)
    run_chat(service, clock, minutes=30.5)
    Crowd(sandbox).mastodon("dan", "@chatbot Q1?")
    token = {"Authorization": f"Bearer {sandbox.mastodon_token}"}
    for _ in range(240):  # the bot's account spends most of its 300 reads in 5 minutes
        httpx.get(f"{sandbox.mastodon_url}/api/v1/timelines/home", headers=token)
    job()
    assert _rows(engine) == []  # under a quarter left: the chat's posts need it
    clock.advance(seconds=301)  # the server's window resets
    _, later = _bot(engine, sandbox, make_service, tmp_path)
    later()
    assert [(r.asker_handle, r.label) for r in _rows(engine)] == [("dan", "Q1")]


def test_a_token_without_read_notifications_is_said_once_with_the_fix(
    engine, sandbox, make_service, tmp_path
):
    # A token made before the bot asked for read:notifications (an older `chatbot login`).
    clock = sandbox.clock
    load_chat(
        engine, clock.now(), questions=1, networks=("mastodon",), spacing=timedelta(minutes=30)
    )
    service = make_service()
    run_chat(service, clock, minutes=30.5)
    Crowd(sandbox).mastodon("dan", "@chatbot Q1?")
    store = sandbox.mastodon
    old = store.issue_token(sandbox.bot_ids["mastodon"], scopes="read:statuses read:accounts write")
    env = sandbox_env(sandbox, "sqlite://", tmp_path) | {"CHATBOT_MASTODON_TOKEN": old.token}
    creds = load_credentials(env=env)
    said: list[str] = []
    job = LateJoinerJob(
        engine, lambda n: connect(n, creds, clock=clock.now), clock, say=said.append
    )
    for _ in range(3):
        job()
        clock.advance(seconds=60)
    assert said == [
        "warning: late joiners on mastodon: the bot cannot read its notifications, so no one "
        "asking there is answered; run `chatbot login mastodon --instance URL` again "
        f"(URL: {sandbox.mastodon_url}); its token then has read:notifications"
    ]
    assert _rows(engine) == []
