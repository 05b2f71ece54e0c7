"""Chats collected together by one bot draw on one request budget: the account's."""

from __future__ import annotations

from sqlalchemy import Engine

from chatbot.clock import ManualClock
from chatbot.collect.job import CollectionJob
from chatbot.collect.pacing import Budget
from chatbot.sandbox.runner import Sandbox
from tests.collect.test_jetstream_live import bot_platforms, rows, start_chat


def collected(engine: Engine, tag: str) -> int:
    return sum(f"#{tag}" in row.text for row in rows(engine).values())


def test_a_second_chat_waits_when_the_first_spent_the_accounts_budget(engine: Engine) -> None:
    clock = ManualClock()
    with Sandbox(seed=29, networks=("bluesky",), clock=clock) as sandbox:
        start_chat(sandbox, engine, "budgetfirst")
        second, _ = start_chat(sandbox, engine, "budgetsecond")
        store = sandbox.bluesky
        did = store.create_account("bo.sandbox.test", "pw").did
        for tag in ("budgetfirst", "budgetsecond"):
            store.create_post(did, f"A1 hello #{tag}")
        platform = bot_platforms(sandbox, ("bluesky",))["bluesky"]
        # What is left of the account's budget: enough for one chat's pass, not two.
        budgets = {"bluesky": Budget(2.0, 300.0)}
        job = CollectionJob(
            engine, lambda network: platform, sandbox.clock, stream=False, budgets=budgets
        )
        try:
            job()
            assert collected(engine, "budgetfirst") == 1
            assert collected(engine, "budgetsecond") == 0  # waiting, not over the budget
            waiting = job.collectors[second].next_at
            assert waiting is not None and waiting > clock.now()
            clock.advance(seconds=301)  # the budget has refilled: the chat held back goes first
            job()
            assert collected(engine, "budgetsecond") == 1
            assert collected(engine, "budgetfirst") == 1
        finally:
            job.close()
