"""Claims that cost the same however many chats are live, and never queue on each other.

A claim reads the one post it takes (and that post's event), not every live
event's posts; on PostgreSQL several claimers pass over each other's locked
rows (``SKIP LOCKED``) instead of waiting for them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, text
from sqlmodel import Session, col, select

from chatbot.bot import outbox
from chatbot.db import create_engine_for, migrate
from chatbot.models import Event, PostDelivery, ScheduledPost
from chatbot.platforms.base import RemoteRef
from tests.scheduler.conftest import load_chat

NOW = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
LEASE, LIMIT = timedelta(minutes=5), timedelta(minutes=10)
NETWORKS = ("bluesky", "mastodon")


def claim(engine: Engine, network: str = "bluesky", worker: str = "w") -> outbox.Claim | None:
    return outbox.claim_next(
        engine, network, now=NOW, worker=worker, lease=LEASE, late_limit=LIMIT
    ).claim


def post(engine: Engine, claimed: outbox.Claim) -> None:
    ref = RemoteRef(claimed.network, str(claimed.delivery_id), f"uri-{claimed.delivery_id}")
    outbox.complete(engine, claimed, ref, now=NOW, late_after=timedelta(minutes=1))


@contextmanager
def reads(engine: Engine) -> Iterator[dict[str, Any]]:
    """Count the statements run and the outbox rows read into objects inside the block."""
    seen: dict[str, Any] = {"statements": 0, "rows": []}

    def statement(*_args: Any) -> None:
        seen["statements"] += 1

    def loaded(target: Any, *_args: Any) -> None:
        seen["rows"].append(event_of(target))  # read now: the object expires at commit

    hooks = [(engine, "before_cursor_execute", statement)]
    for model in (PostDelivery, ScheduledPost, Event):
        hooks += [(model, "load", loaded), (model, "refresh", loaded)]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield seen
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


def event_of(row: Any) -> int:
    return int(row.id if isinstance(row, Event) else row.event_id)


def test_a_claim_reads_only_the_post_it_takes_however_many_chats_are_live(engine):
    first = load_chat(engine, NOW - timedelta(minutes=2), questions=8, hashtag="c0")
    with reads(engine) as alone:
        claimed = claim(engine)
    assert claimed is not None and claimed.event_id == first
    # Thirty more chats, every one with its welcome due and eight questions to come.
    for n in range(1, 31):
        load_chat(engine, NOW - timedelta(minutes=1), questions=8, hashtag=f"c{n}")
    with reads(engine) as crowded:
        claimed = claim(engine)
    assert claimed is not None and claimed.label == "welcome"
    # No row of another chat was read, and the work did not grow with the chats.
    assert set(crowded["rows"]) == {claimed.event_id}
    assert crowded["statements"] == alone["statements"]
    assert len(crowded["rows"]) == len(alone["rows"])


def test_finding_nothing_due_reads_no_post(engine):
    for n in range(10):
        load_chat(engine, NOW + timedelta(minutes=5), questions=8, hashtag=f"later{n}")
    with reads(engine) as seen:
        assert claim(engine) is None
        assert outbox.next_due(engine, "bluesky", before=NOW + timedelta(seconds=1)) is None
    assert seen["rows"] == []
    assert outbox.next_due(engine, "bluesky") == NOW + timedelta(minutes=5)


def test_a_claim_passes_over_a_chat_another_process_holds(postgres_url):
    """Another process mid-claim on the oldest chat: this one takes the next, without waiting."""
    engine = create_engine_for(postgres_url)

    @event.listens_for(engine, "connect")
    def _wait_briefly(connection: Any, _record: Any) -> None:
        # Had the claim waited for the held row, it would fail here instead of hanging.
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")

    try:
        migrate(engine)
        held = load_chat(engine, NOW - timedelta(minutes=3), questions=1, hashtag="held")
        other = load_chat(engine, NOW - timedelta(minutes=2), questions=1, hashtag="free")
        with engine.connect() as holder, holder.begin():
            holder.execute(
                text("SELECT id FROM event WHERE id = :id FOR NO KEY UPDATE"), {"id": held}
            )
            taken = claim(engine)
            assert taken is not None and taken.event_id == other
        later = claim(engine)  # the hold is over: the held chat's welcome is next
        assert later is not None and later.event_id == held
    finally:
        engine.dispose()


def test_four_claimers_on_postgresql_take_every_post_once_in_order(postgres_engine):
    engine = postgres_engine
    chats = [
        load_chat(engine, NOW - timedelta(minutes=4), questions=3, hashtag=f"p{n}")
        for n in range(12)
    ]
    total = len(chats) * 5 * len(NETWORKS)  # welcome, three questions, wrap-up
    taken: list[outbox.Claim] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def open_left() -> int:
        with Session(engine) as session:
            rows = session.exec(
                select(PostDelivery.id).where(col(PostDelivery.state).in_(outbox.OPEN_STATES))
            )
            return len(rows.all())

    def claimer(name: str, network: str) -> None:
        try:
            while True:
                claimed = claim(engine, network, worker=name)
                if claimed is None:
                    if open_left() == 0:
                        return
                    continue  # another claimer's post is in flight; its next one follows
                with lock:
                    taken.append(claimed)
                post(engine, claimed)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=claimer, args=(f"w{n}", NETWORKS[n % 2])) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert not any(thread.is_alive() for thread in threads)
    # Every post taken exactly once: none twice, none lost.
    counts = Counter(c.delivery_id for c in taken)
    assert len(counts) == total and set(counts.values()) == {1}
    assert len({c.worker for c in taken}) == 4
    # And in each chat, on each network, in the plan's order.
    with Session(engine) as session:
        position = {
            d.id: p.position
            for d, p in session.exec(select(PostDelivery, ScheduledPost).join(ScheduledPost))
        }
        assert {d.state for d in session.exec(select(PostDelivery))} == {"posted"}
    for chat in chats:
        for network in NETWORKS:
            order = [
                position[c.delivery_id] for c in taken if (c.event_id, c.network) == (chat, network)
            ]
            assert order == sorted(order) and len(order) == 5
