"""The outbox as database functions: claim the next due post (how it ends: `outcomes`).

Lock order.  A transaction that locks rows of more than one of the tables
``event``, ``scheduled_post`` and ``post_delivery`` (a reload, a claim, a
completion, a post failed for good, a live control) takes them in this order:

1. the **event** row first, ``FOR NO KEY UPDATE`` (:func:`lock_event`), before
   any row of its posts; one event per transaction (several: in id order);
2. then its **scheduled_post** rows;
3. then its **post_delivery** rows (a claim with ``SKIP LOCKED``).

So two such transactions on one event queue on the event row and can never
wait for each other in a circle (PostgreSQL would abort one: "deadlock
detected").  A transaction that touches a single delivery only (a retry, a
release) needs no event lock.  ``FOR NO KEY UPDATE`` is the lock an update of
the event's plain columns takes anyway: it does not hold back the collector's
inserts of posts referring to the event.  SQLite runs one writer at a time
(``BEGIN IMMEDIATE``), where the order costs nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from chatbot import db
from chatbot.bot.delivery import (
    FINAL_STATES,
    LAYOUTS,
    OPEN_STATES,
    Claim,
    ClaimResult,
    Notice,
    Outcome,
    attachments,
    decide,
    failure_message,
    make_key,
    may_have_landed,
    with_recap,
)
from chatbot.bot.outcomes import close_post, complete, fail, finish_if_done, lock_event, release
from chatbot.models import LIVE_EVENT_STATES, Event, PostDelivery, ScheduledPost
from chatbot.platforms.base import RemoteRef


def _heads(
    session: Session, network: str, event_ids: tuple[int, ...] | None
) -> list[tuple[PostDelivery, ScheduledPost, Event]]:
    """The first open delivery of every active, unpaused event on ``network``."""
    query = (
        select(PostDelivery, ScheduledPost, Event)
        .join(ScheduledPost, col(ScheduledPost.id) == col(PostDelivery.scheduled_post_id))
        .join(Event, col(Event.id) == col(PostDelivery.event_id))
        .where(
            PostDelivery.network == network,
            col(PostDelivery.state).in_(OPEN_STATES),
            col(Event.state).in_(LIVE_EVENT_STATES),
            col(Event.paused).is_(False),
        )
        .order_by(col(PostDelivery.event_id), col(ScheduledPost.position))
    )
    if event_ids is not None:
        query = query.where(col(PostDelivery.event_id).in_(event_ids))
    heads: dict[int, tuple[PostDelivery, ScheduledPost, Event]] = {}
    for row in session.exec(query):
        heads.setdefault(row[0].event_id, row)
    return sorted(heads.values(), key=lambda r: (r[0].due_at, r[0].event_id))


def _lock(session: Session, head: PostDelivery) -> PostDelivery | None:
    """Lock ``head`` if nobody else holds it and it is still what we read; else None."""
    query = select(PostDelivery).where(
        PostDelivery.id == head.id,
        PostDelivery.state == head.state,
        PostDelivery.attempts == head.attempts,
    )
    locked = session.exec(query.with_for_update(skip_locked=True)).first()
    if locked is not None:
        session.refresh(locked)  # the version the lock protects, not the cached one
        if (locked.state, locked.attempts) != (head.state, head.attempts):
            return None
    return locked


def claim_next(
    engine: Engine,
    network: str,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    late_limit: timedelta,
    event_ids: tuple[int, ...] | None = None,
) -> ClaimResult:
    """Claim the next due post on ``network``.

    Only the first open post of each event is a candidate, so Q2 never goes out
    before Q1 on a network.  A pending post is due when its time (and its
    retry time) has come; a post stuck in ``posting`` longer than ``lease`` is
    claimed again and re-sent with the same key.  A pending post never sent
    and more than ``late_limit`` past due is skipped (returned as a notice),
    and the next one considered.

    The candidates are read without locks; each is then taken in a transaction
    of its own that locks its event first (see the lock order above), so no
    transaction here holds one event while waiting for another.
    """
    notices: list[Notice] = []
    passed: set[int] = set()  # events with nothing to do for us this time
    while True:
        with db.session_scope(engine) as session:
            candidates = [
                delivery.event_id
                for delivery, _, _ in _heads(session, network, event_ids)
                if delivery.event_id not in passed
                and decide(delivery, now, lease, late_limit) is not None
            ]
        for event_id in candidates:
            step = _take(engine, network, event_id, now, worker, lease, late_limit)
            if isinstance(step, Claim):
                return ClaimResult(step, notices)
            if isinstance(step, Notice):
                notices.append(step)
                break  # that event's next post may be due too: look again
            passed.add(event_id)
        else:
            return ClaimResult(None, notices)


def _take(
    engine: Engine,
    network: str,
    event_id: int,
    now: datetime,
    worker: str,
    lease: timedelta,
    late_limit: timedelta,
) -> Claim | Notice | None:
    """In one transaction: lock the event, then claim or close its head on ``network``."""
    with db.session_scope(engine) as session:
        event = lock_event(session, event_id)
        if event is None or event.state not in LIVE_EVENT_STATES or event.paused:
            return None
        # Read again under the event lock: a reload or a control may have just changed it.
        heads = _heads(session, network, (event_id,))
        if not heads:
            return None
        delivery, post, _ = heads[0]
        decision = decide(delivery, now, lease, late_limit)
        if decision is None:
            return None
        locked = _lock(session, delivery)
        if locked is None:
            return None  # another process holds it (posting it, or recording its result)
        if decision == "claim":
            return _claim(session, locked, post, event, now, worker)
        return close_post(session, locked, post, event, now, decision, late_limit)


def _claim(
    session: Session,
    delivery: PostDelivery,
    post: ScheduledPost,
    event: Event,
    now: datetime,
    worker: str,
) -> Claim:
    reclaimed = delivery.state == "posting"
    landed_before = may_have_landed(delivery)
    delivery.state = "posting"
    delivery.claimed_by = worker
    delivery.claimed_at = now
    delivery.attempts += 1  # a try in flight counts until it turns out rate limited
    delivery.updated_at = now
    session.add(delivery)
    if event.state == "scheduled":
        event.state = "running"
        event.updated_at = now
        session.add(event)
    settings: dict[str, Any] = event.settings or {}
    reply_to = root = None
    if settings.get("layout") == "thread" and post.kind != "welcome":
        reply_to = root = _welcome_ref(session, event, delivery.network)
    text = delivery.text
    recap = settings.get("recap_url")
    if post.kind == "wrapup" and recap and str(recap) not in text:
        text = with_recap(text, str(recap))
    assert delivery.id is not None
    return Claim(
        delivery_id=delivery.id,
        event_id=delivery.event_id,
        network=delivery.network,
        label=post.label,
        kind=post.kind,
        text=text,
        key=make_key(delivery, post, event),
        due_at=delivery.due_at,
        attempts=delivery.attempts,
        rate_limited=delivery.rate_limited,
        worker=worker,
        hashtag=event.hashtag,
        timezone=event.timezone,
        language=str(settings["language"]) if settings.get("language") else None,
        reply_to=reply_to,
        root=root,
        reclaimed=reclaimed,
        landed_before=landed_before,
        late_by=max(0.0, (now - delivery.due_at).total_seconds()),
        media=attachments(post.media),
    )


def _welcome_ref(session: Session, event: Event, network: str) -> RemoteRef | None:
    found = session.exec(
        select(PostDelivery)
        .join(ScheduledPost, col(ScheduledPost.id) == col(PostDelivery.scheduled_post_id))
        .where(
            PostDelivery.event_id == event.id,
            PostDelivery.network == network,
            PostDelivery.state == "posted",
            ScheduledPost.kind == "welcome",
        )
        .order_by(col(ScheduledPost.position))
    ).first()
    if found is None or not found.remote_uri:
        return None
    return RemoteRef(
        network,
        found.remote_id or "",
        found.remote_uri,
        found.remote_url or "",
        found.remote_cid or "",
    )


def next_due(
    engine: Engine, network: str, *, event_ids: tuple[int, ...] | None = None
) -> datetime | None:
    """When the next post on ``network`` may be claimed (its due or retry time), if any."""
    with db.session_scope(engine) as session:
        times = [
            max(d.due_at, d.next_attempt_at or d.due_at)
            for d, _, _ in _heads(session, network, event_ids)
            if d.state == "pending"
        ]
    return min(times, default=None)


def open_deliveries(
    engine: Engine, event_ids: tuple[int, ...] | None = None
) -> list[tuple[int, str, str]]:
    """``(event_id, network, state)`` of every open delivery of active events (or of these)."""
    with db.session_scope(engine) as session:
        query = (
            select(PostDelivery.event_id, PostDelivery.network, PostDelivery.state)
            .join(Event, col(Event.id) == col(PostDelivery.event_id))
            .where(col(PostDelivery.state).in_(OPEN_STATES))
        )
        if event_ids is not None:
            query = query.where(col(PostDelivery.event_id).in_(event_ids))
        else:
            query = query.where(col(Event.state).in_(LIVE_EVENT_STATES))
        return [tuple(row) for row in session.exec(query)]  # type: ignore[misc]


__all__ = [
    "FINAL_STATES",
    "LAYOUTS",
    "OPEN_STATES",
    "Claim",
    "ClaimResult",
    "Notice",
    "Outcome",
    "claim_next",
    "complete",
    "fail",
    "failure_message",
    "finish_if_done",
    "lock_event",
    "make_key",
    "may_have_landed",
    "next_due",
    "open_deliveries",
    "release",
    "with_recap",
]
