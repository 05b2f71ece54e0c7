"""How a claimed post ends: posted, retried, failed, given back; and when its event is finished.

The claim side is :mod:`chatbot.bot.outbox` (whose docstring states the lock
order these functions keep: the event row first, then its deliveries).
"""

from __future__ import annotations

import functools
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Executable, Integer, bindparam, exists, update
from sqlmodel import Session, col, select

from chatbot import db
from chatbot.bot.delivery import (
    OPEN_STATES,
    RATE_LIMITED,
    Claim,
    Notice,
    Outcome,
    counts_after,
    failure_message,
)
from chatbot.bot.retry import RetryPolicy, describe_wait
from chatbot.errors import ChatbotError, RateLimitedError, TransientError
from chatbot.models import LIVE_EVENT_STATES, Event, PostDelivery, ScheduledPost, UTCDateTime
from chatbot.platforms.base import RemoteRef
from chatbot.questionfile.timing import format_duration


def lock_event(session: Session, event_id: int) -> Event | None:
    """Lock the event row (step 1 of the lock order above) and return it, freshly read."""
    query = (
        select(Event)
        .where(Event.id == event_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE on PostgreSQL
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def close_post(
    session: Session,
    delivery: PostDelivery,
    post: ScheduledPost,
    event: Event,
    now: datetime,
    decision: str,
    late_limit: timedelta,
) -> Notice:
    """End a post that can't be sent: ``late`` (skipped) or of unknown outcome (failed)."""
    if decision == "late":
        late = describe_wait((now - delivery.due_at).total_seconds())
        reason = f"{late} late (limit {format_duration(late_limit)})"
        state = "skipped"
        delivery.last_error = f"skipped: {reason}"
    else:
        state = "failed"
        reason = (
            "outcome unknown: a try that may have reached the network began too long ago "
            "to re-send safely (the network forgets its key after an hour); check the "
            "account and mark it by hand"
        )
        delivery.last_error = reason
    delivery.state = state
    delivery.claimed_by = None
    delivery.updated_at = now
    session.add(delivery)
    session.flush()
    finish_if_done(session, delivery.event_id, now)
    return Notice(delivery.event_id, delivery.network, post.label, event.timezone, state, reason)


@functools.cache
def _complete_statements() -> tuple[Executable, Executable, Executable]:
    """complete()'s statements, built once: (lock the event, record the post, read ``late``).

    Plain SQL on the tables, no ORM objects: this runs for every post, on the path
    whose time is every post's lateness.
    """
    deliveries, events = PostDelivery.__table__, Event.__table__  # type: ignore[attr-defined]
    lock = select(events.c.id).where(events.c.id == bindparam("event_id"))
    lock = lock.with_for_update(key_share=True)
    when = bindparam("now", type_=UTCDateTime())
    record = (
        update(deliveries)
        .where(deliveries.c.id == bindparam("delivery_id"), deliveries.c.state != "posted")
        .values(
            state="posted", remote_id=bindparam("remote_id"), remote_uri=bindparam("remote_uri"),
            remote_cid=bindparam("remote_cid"), remote_url=bindparam("remote_url"),
            posted_at=when, late=bindparam("late"), last_error=None, next_attempt_at=None,
            claimed_by=bindparam("worker"), updated_at=when,
        )
    )  # fmt: skip
    late = select(deliveries.c.late).where(deliveries.c.id == bindparam("delivery_id"))
    return lock, record, late


@functools.cache
def _finish_statement() -> Executable:
    """Mark an event finished if it is live and none of its deliveries is open."""
    deliveries, events = PostDelivery.__table__, Event.__table__  # type: ignore[attr-defined]
    event_id = bindparam("event_id", type_=Integer())
    still_open = exists().where(
        deliveries.c.event_id == event_id, deliveries.c.state.in_(OPEN_STATES)
    )
    return (
        update(events)
        .where(events.c.id == event_id, events.c.state.in_(LIVE_EVENT_STATES), ~still_open)
        .values(state="finished", updated_at=bindparam("now", type_=UTCDateTime()))
    )


def complete(
    engine: Engine, claim: Claim, ref: RemoteRef, *, now: datetime, late_after: timedelta
) -> Outcome:
    """Record that ``claim`` is on its network at ``ref`` (idempotent)."""
    late = now - claim.due_at > late_after
    lock, record, read_late = _complete_statements()
    ids = {"event_id": claim.event_id, "delivery_id": claim.delivery_id}
    with db.translate_errors(engine.url), engine.begin() as connection:
        connection.execute(lock, ids)  # the event before its delivery: see the lock order
        changed = connection.execute(
            record,
            {
                **ids, "remote_id": ref.id, "remote_uri": ref.uri, "remote_cid": ref.cid or None,
                "remote_url": ref.url or None, "now": now, "late": late, "worker": claim.worker,
            },
        )  # fmt: skip
        if changed.rowcount:
            connection.execute(_finish_statement(), {"event_id": claim.event_id, "now": now})
        else:
            before = connection.execute(read_late, ids).first()
            if before is None:
                return Outcome("posted", "the post was removed from the plan", url=ref.url)
            late = bool(before[0])
    return Outcome("posted", late=late, url=ref.url or ref.uri)


def fail(
    engine: Engine,
    claim: Claim,
    error: ChatbotError,
    *,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> Outcome:
    """Record a failed try: back to pending with a retry time, or failed for good.

    A try refused with a rate limit is not a failure: it moves from
    ``attempts`` to ``rate_limited`` (see :func:`counts_after`), so it never
    brings the post nearer the give-up limit.
    """
    limited = isinstance(error, RateLimitedError)
    retry_at = error.retry_at if isinstance(error, RateLimitedError) else None
    retryable = limited or isinstance(error, TransientError)
    # A rate limit says "not yet", not "broken": on its own it never fails a post.
    gives_up = isinstance(error, TransientError) and policy.gives_up(claim.attempts)
    if retryable and not gives_up:
        # The backoff grows with every try, refused ones too (a 429 without a reset time).
        tries = claim.attempts + claim.rate_limited
        next_at = policy.next_attempt(now, tries, retry_at=retry_at, rng=rng)
        why = "rate limited" if limited else "network error"
        outcome = Outcome("retry", f"retry in {describe_wait((next_at - now).total_seconds())} "
                          f"({why})", next_at)  # fmt: skip
        # "rate limited" marks a post no try of which can have landed (see may_have_landed).
        refused = isinstance(error, RateLimitedError) and not claim.landed_before
        stored = (RATE_LIMITED if refused else "") + str(error)
        values: dict[str, Any] = {"state": "pending", "next_attempt_at": next_at}
    else:
        outcome = Outcome("failed", failure_message(error, claim, gives_up))
        stored, values = outcome.message, {"state": "failed", "next_attempt_at": None}
    values["attempts"], values["rate_limited"] = counts_after(claim, limited=limited)
    with db.session_scope(engine) as session:
        if values["state"] == "failed":
            lock_event(session, claim.event_id)  # it may finish the event: see the lock order
        changed = session.exec(
            update(PostDelivery)
            .where(
                col(PostDelivery.id) == claim.delivery_id,
                col(PostDelivery.state) == "posting",
                col(PostDelivery.claimed_by) == claim.worker,
            )
            .values(last_error=stored[:1000], claimed_by=None, updated_at=now, **values)
        )
        if changed.rowcount and values["state"] == "failed":
            finish_if_done(session, claim.event_id, now)
    return outcome


def release(engine: Engine, claim: Claim, *, now: datetime) -> bool:
    """Give a claimed post back (pending, same key, tries kept); False if no longer ours."""
    with db.session_scope(engine) as session:
        changed = session.exec(
            update(PostDelivery)
            .where(
                col(PostDelivery.id) == claim.delivery_id,
                col(PostDelivery.state) == "posting",
                col(PostDelivery.claimed_by) == claim.worker,
            )
            .values(state="pending", claimed_by=None, updated_at=now)
        )
        return bool(changed.rowcount)


def finish_if_done(session: Session, event_id: int, now: datetime) -> bool:
    """Mark the event finished when every delivery of it is final; True if this did.

    Callers hold the event's lock (the lock order), so two networks finishing
    their last posts at once can't each count the other's row as still open:
    the second waits for the first and then sees its row final.  One statement.
    """
    session.flush()
    changed = session.connection().execute(_finish_statement(), {"event_id": event_id, "now": now})
    if not changed.rowcount:
        return False
    event = session.get(Event, event_id, populate_existing=True)  # as the row now is
    return event is not None


__all__ = ["close_post", "complete", "fail", "finish_if_done", "lock_event", "release"]
