"""A reload colliding with claims, posts and live controls: one lock order, so no deadlock.

Each round loads a fresh chat, then a reload of it and one other transaction on
the same event start together (a barrier) in two threads with their own
connections.  On PostgreSQL every row-locking statement is followed by a short
pause, so both sides hold their first lock before either asks for its next:
two transactions taking the event and its deliveries in opposite orders then
deadlock every time, and PostgreSQL aborts one with "deadlock detected".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from chatbot.bot import controls, outbox
from chatbot.bot.loading import load_event
from chatbot.models import Event, PostDelivery, ScheduledPost
from chatbot.platforms.base import RemoteRef
from tests.factories import make_plan
from tests.scheduler.conftest import load_chat

NOW = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
START = NOW - timedelta(seconds=30)  # the welcome is due; Q1 .. wrap-up are not
LEASE, LIMIT = timedelta(minutes=5), timedelta(minutes=10)
NETWORKS = ("bluesky", "mastodon")
ROUNDS = 30
PAUSE = 0.05  # real seconds after each row-locking statement in a colliding thread
EDITED = ["Question 1, edited?", "Question 2, edited?", "Question 3, edited?"]

_colliding = threading.local()


@pytest.fixture
def slowed(engine: Engine) -> Iterator[Engine]:
    """The engine, pausing after every ``SELECT ... FOR ...`` run by a colliding thread."""

    def pause(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if getattr(_colliding, "on", False) and " FOR " in statement:
            time.sleep(PAUSE)

    event.listen(engine, "after_cursor_execute", pause)
    yield engine
    event.remove(engine, "after_cursor_execute", pause)


def collide(*actions: Callable[[], object]) -> list[BaseException]:
    """Run ``actions`` at the same moment, one thread each; the errors they raised."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            _colliding.on = True
            action()
        except BaseException as error:  # reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a side never finished"
    return errors


def reload(engine: Engine, tag: str) -> None:
    plan = make_plan(
        hashtag=tag, start=START, questions=EDITED, spacing=timedelta(minutes=1),
        networks=NETWORKS, path=f"questions/{tag}.md",
    )  # fmt: skip
    load_event(engine, plan, source_path=f"/chats/{tag}.md")


def claim(engine: Engine, event_id: int) -> outbox.Claim | None:
    return outbox.claim_next(
        engine, "bluesky", now=NOW, worker="w", lease=LEASE, late_limit=LIMIT,
        event_ids=(event_id,),
    ).claim  # fmt: skip


def rows(engine: Engine, event_id: int) -> dict[tuple[str, str], PostDelivery]:
    with Session(engine) as session:
        found = session.exec(
            select(PostDelivery, ScheduledPost)
            .join(ScheduledPost)
            .where(PostDelivery.event_id == event_id)
        ).all()
        session.expunge_all()
    return {(post.label, delivery.network): delivery for delivery, post in found}


KINDS = ("claim", "complete", "skip", "delay", "post-now")


def test_a_reload_never_deadlocks_with_claims_posts_or_controls(slowed):
    for n in range(ROUNDS):
        one_round(slowed, n, KINDS[n % len(KINDS)])


def one_round(engine: Engine, n: int, kind: str) -> None:
    """Load chat ``n``, then reload it while ``kind`` acts on it; check both took effect."""
    tag = f"lock{n}"
    event_id = load_chat(
        engine, START, questions=3, spacing=timedelta(minutes=1), networks=NETWORKS, hashtag=tag
    )
    ref = str(event_id)
    claimed: list[outbox.Claim | None] = []
    other: Callable[[], object]
    if kind == "claim":
        other = lambda: claimed.append(claim(engine, event_id))  # noqa: E731
    elif kind == "complete":
        welcome = claim(engine, event_id)  # being posted; the runner now records it
        assert welcome is not None
        posted = RemoteRef("bluesky", "1", f"at://bot/{tag}/1", "https://example.org/1")
        late = timedelta(minutes=1)
        other = lambda: outbox.complete(engine, welcome, posted, now=NOW, late_after=late)  # noqa: E731
    elif kind == "skip":
        other = lambda: controls.skip(engine, ref, "Q1", now=NOW)  # noqa: E731
    elif kind == "delay":
        other = lambda: controls.delay(engine, ref, timedelta(minutes=5), now=NOW)  # noqa: E731
    else:
        other = lambda: controls.post_now(engine, ref, "Q1", now=NOW)  # noqa: E731

    errors = collide(lambda: reload(engine, tag), other)
    assert not errors, f"round {n} ({kind}): {errors!r}"

    # Whichever went first, both took effect.
    found = rows(engine, event_id)
    for (label, _), delivery in found.items():
        if label.startswith("Q"):
            assert delivery.text.endswith(f", edited? #{tag}"), (kind, delivery.text)
    with Session(engine) as session:
        state = session.get(Event, event_id).state
    if kind == "claim":
        assert claimed[0] is not None and claimed[0].label == "welcome"
        assert claimed[0].event_id == event_id
        assert found["welcome", "bluesky"].state == "posting" and state == "running"
    elif kind == "complete":
        assert found["welcome", "bluesky"].state == "posted"
        assert found["welcome", "mastodon"].state == "pending"
    elif kind == "skip":
        assert {found["Q1", network].state for network in NETWORKS} == {"skipped"}
    elif kind == "delay":
        planned = {"welcome": 0, "Q1": 1, "Q2": 2, "Q3": 3, "wrapup": 4}  # minutes after START
        for (label, _), delivery in found.items():
            moved = timedelta(minutes=planned[label] + 5)
            assert delivery.due_at == START + moved, (label, delivery.due_at)
    else:
        assert {found["Q1", network].due_at for network in NETWORKS} == {NOW}
