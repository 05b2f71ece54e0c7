"""Posts a run of this machine left in flight when it ended are sent again at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

from chatbot.bot import outbox
from chatbot.bot.orphans import process_gone
from tests.scheduler.conftest import (
    bluesky_posts,
    expected_texts,
    load_chat,
    mastodon_posts,
    run_chat,
)

HOST = socket.gethostname()


def ended_pid() -> int:
    """The pid of a process that has run and ended (waited for, so no longer there)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_an_ended_process_of_this_host_counts_as_gone():
    gone = ended_pid()
    assert process_gone(f"{HOST}:{gone}:a1b2c3")
    assert not process_gone(f"{HOST}:{os.getpid()}:a1b2c3")  # this very run
    assert not process_gone(f"{HOST}:{os.getppid()}:a1b2c3")  # a process that runs
    assert not process_gone(f"another-host:{gone}:a1b2c3")  # the lease decides there
    for odd in ("", "w1", "dead", f"{HOST}:x:y", f"{HOST}:{gone}", f"{HOST}:0:abc"):
        assert not process_gone(odd)


def claim_and_send(engine, service, clock, worker: str) -> None:
    """A process claims each network's welcome, posts it and ends before recording it."""
    for network in ("bluesky", "mastodon"):
        claim = outbox.claim_next(
            engine, network, now=clock.now(), worker=worker, lease=timedelta(minutes=5),
            late_limit=timedelta(minutes=10),
        ).claim  # fmt: skip
        assert claim is not None and claim.label == "welcome"
        service.platform(network).post(claim.text, key=claim.key)


def test_a_post_left_by_an_ended_run_goes_out_without_waiting_for_the_lease(
    engine, sandbox, make_service
):
    clock = sandbox.clock
    load_chat(engine, clock.now(), questions=1)
    service = make_service(lease=timedelta(minutes=5))
    claim_and_send(engine, service, clock, f"{HOST}:{ended_pid()}:d1e2a3")
    service.warm_up()  # the next run starts
    given_back = [line for line in service.lines if "left in flight" in line]
    assert len(given_back) == 2 and all("welcome" in line for line in given_back)
    run_chat(service, clock, minutes=2)  # well inside the five-minute lease
    # The whole chat, the welcome once on each network (its key): Q1 did not wait.
    assert bluesky_posts(sandbox).texts == expected_texts(1)
    masto = mastodon_posts(sandbox).texts
    assert len(masto) == len(set(masto)) == len(expected_texts(1))


def test_a_post_of_a_run_still_going_is_left_to_it(engine, sandbox, make_service):
    clock = sandbox.clock
    load_chat(engine, clock.now(), questions=1)
    service = make_service(lease=timedelta(minutes=5))
    claim_and_send(engine, service, clock, f"{HOST}:{os.getppid()}:a1b2c3")
    service.warm_up()
    assert not [line for line in service.lines if "left in flight" in line]
    run_chat(service, clock, minutes=2)
    assert bluesky_posts(sandbox).texts == [expected_texts(1)[0]]  # Q1 waits behind it
    assert len(mastodon_posts(sandbox).texts) == 1
