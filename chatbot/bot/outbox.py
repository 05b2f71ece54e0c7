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
detected").  A claim first tries to take its post and event together with
``SKIP LOCKED`` (:func:`claim_next`): it never waits there, so it can be in no
circle; only when every due post is held does it wait, for one event row
(step 1), like the others.  A transaction that touches a single delivery only (a retry, a
release) needs no event lock.  ``FOR NO KEY UPDATE`` is the lock an update of
the event's plain columns takes anyway: it does not hold back the collector's
inserts of posts referring to the event.  SQLite runs one writer at a time
(``BEGIN IMMEDIATE``), where the order costs nothing.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    type_coerce,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select as SqlModelSelect

from chatbot import db
from chatbot.bot.delivery import (
    FINAL_STATES,
    LAYOUTS,
    OPEN_STATES,
    Claim,
    ClaimResult,
    Claims,
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
from chatbot.models import LIVE_EVENT_STATES, Event, PostDelivery, ScheduledPost, UTCDateTime
from chatbot.platforms.base import RemoteRef

_PENDING: ColumnElement[str] = literal_column("'pending'")
_POSTING: ColumnElement[str] = literal_column("'posting'")
# Literals, not parameters: PostgreSQL matches them to the partial indexes' predicates.
_OPEN = (_PENDING, _POSTING)
SelectOf3 = SqlModelSelect[PostDelivery, ScheduledPost, Event]
_Rules = tuple[datetime, str, timedelta, timedelta]  # now, worker, lease, late limit


@functools.cache
def _no_open_post_before() -> ColumnElement[bool]:
    """True when no earlier post of the same event is still open on the same network.

    So only an event's first open post is ever a candidate: Q2 never goes out
    before Q1 on a network.  The probe reads that event's open rows through
    ``ix_post_delivery_open_event``, never another event's.  (Built once:
    building an aliased subquery costs more than running it.)
    """
    earlier, earlier_post = aliased(PostDelivery), aliased(ScheduledPost)
    return ~exists().where(
        col(earlier.event_id) == col(PostDelivery.event_id),
        col(earlier.network) == col(PostDelivery.network),
        col(earlier.state).in_(_OPEN),
        col(earlier_post.id) == col(earlier.scheduled_post_id),
        col(earlier_post.position) < col(ScheduledPost.position),
    )


@functools.cache
def _ready_query(
    stale: bool, some_events: bool, passing: bool, locking: bool, most: int
) -> SelectOf3:
    """Heads of live, unpaused events on a network that may be claimed now, oldest first.

    ``stale``: posts stuck in ``posting`` past the lease (a stopped process's);
    otherwise pending posts whose due and retry times have come (late ones
    too: the claim skips those).  The same rules as :func:`decide`, in SQL.
    ``locking``: ``FOR NO KEY UPDATE OF post_delivery, event SKIP LOCKED`` on
    PostgreSQL (nothing on SQLite, whose transactions already run one at a
    time).  At most ``most`` rows: one per event, since only an event's first
    open post on the network qualifies.  Built once per shape; the values are
    parameters (see :func:`_ready`).
    """
    now = bindparam("now", type_=UTCDateTime())
    if stale:
        claimed = func.coalesce(col(PostDelivery.claimed_at), col(PostDelivery.updated_at))
        when = [
            col(PostDelivery.state) == _POSTING,
            claimed <= bindparam("stale_before", type_=UTCDateTime()),
        ]
    else:
        retry = col(PostDelivery.next_attempt_at)
        when = [
            col(PostDelivery.state) == _PENDING,
            col(PostDelivery.due_at) <= now,
            or_(retry.is_(None), retry <= now),
        ]
    query = (
        select(PostDelivery, ScheduledPost, Event)
        .join(ScheduledPost, col(ScheduledPost.id) == col(PostDelivery.scheduled_post_id))
        .join(Event, col(Event.id) == col(PostDelivery.event_id))
        .where(
            col(PostDelivery.network) == bindparam("network"),
            *when,
            col(Event.state).in_(LIVE_EVENT_STATES),
            col(Event.paused).is_(False),
            _no_open_post_before(),
        )
        .order_by(col(PostDelivery.due_at), col(PostDelivery.event_id))
        .limit(most)
    )
    if some_events:
        query = query.where(col(PostDelivery.event_id).in_(bindparam("ids", expanding=True)))
    if passing:
        query = query.where(col(PostDelivery.event_id).not_in(bindparam("passed", expanding=True)))
    if locking:
        query = query.with_for_update(of=[PostDelivery, Event], key_share=True, skip_locked=True)
    return query


_Row = tuple[PostDelivery, ScheduledPost, Event]


def _ready(
    session: Session,
    network: str,
    rules: _Rules,
    event_ids: tuple[int, ...] | None,
    passed: set[int],
    *,
    locking: bool,
    most: int = 1,
) -> list[_Row]:
    """Up to ``most`` claimable due heads, oldest first; else the oldest stuck ones (a
    stopped process's); else none.

    Due posts first: that query is the one every claim runs, and a stuck post
    (rare) is taken as soon as no due post is free, within the same pass.
    """
    now, _, lease, _ = rules
    params: dict[str, Any] = {"network": network, "now": now, "stale_before": now - lease}
    if event_ids is not None:
        params["ids"] = list(event_ids)
    if passed:
        params["passed"] = sorted(passed)
    for stale in (False, True):
        query = _ready_query(stale, event_ids is not None, bool(passed), locking, most)
        rows = session.exec(query, params=params).all()
        if rows:
            return [(row[0], row[1], row[2]) for row in rows]
    return []


def _heads(
    session: Session, network: str, event_ids: list[int]
) -> dict[int, tuple[PostDelivery, ScheduledPost]]:
    """Each event's first open delivery on ``network``, read afresh (one query for all)."""
    query = (
        select(PostDelivery, ScheduledPost)
        .join(ScheduledPost, col(ScheduledPost.id) == col(PostDelivery.scheduled_post_id))
        .where(
            col(PostDelivery.event_id).in_(event_ids),
            col(PostDelivery.network) == network,
            col(PostDelivery.state).in_(_OPEN),
            _no_open_post_before(),
        )
        .execution_options(populate_existing=True)
    )
    return {delivery.event_id: (delivery, post) for delivery, post in session.exec(query)}


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
    """Claim the next due post on ``network`` (:func:`claim_some` of one)."""
    found = claim_some(
        engine, network, now=now, worker=worker, lease=lease, late_limit=late_limit,
        event_ids=event_ids, most=1,
    )  # fmt: skip
    return ClaimResult(found.claims[0] if found.claims else None, found.notices)


def claim_some(
    engine: Engine,
    network: str,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    late_limit: timedelta,
    event_ids: tuple[int, ...] | None = None,
    most: int = 1,
) -> Claims:
    """Claim up to ``most`` due posts on ``network``, of as many events, oldest first.

    Only the first open post of each event is a candidate, so Q2 never goes out
    before Q1 on a network (and a claim never holds two posts of one event on
    one network: the second waits until the first is final).  A pending post is
    due when its time (and its retry time) has come; a post stuck in
    ``posting`` longer than ``lease`` is claimed again and re-sent with the
    same key (once no due post is free).  A pending post never sent and more
    than ``late_limit`` past due is skipped (returned as a notice), and the
    next one considered.

    One indexed query finds the oldest due heads and locks them with their
    events, skipping rows other transactions hold (``SKIP LOCKED``): several
    processes take different posts at once instead of queueing on one, and
    the heads are read again under those locks in one more query.  Only when
    every due head is held by someone does a claim wait, for one event's lock
    (a reload or a control may be changing it), in the lock order above, so
    it never waits while holding another event (it takes one post then).
    SQLite has one writer at a time (``BEGIN IMMEDIATE``): there the query and
    the claim are one atomic step anyway.
    """
    notices: list[Notice] = []
    passed: set[int] = set()  # events with nothing to do for us this time
    rules = (now, worker, lease, late_limit)
    while True:
        steps = _take_free(engine, network, rules, event_ids, passed, most)
        if not steps:
            event_id = _first_held(engine, network, rules, event_ids, passed)
            if event_id is None:
                return Claims([], notices)
            steps = [(event_id, _take(engine, network, event_id, rules))]
        claims: list[Claim] = []
        for event_id, step in steps:
            if isinstance(step, Claim):
                claims.append(step)
            elif isinstance(step, Notice):
                notices.append(step)  # that event's next post may be due too: look again
            else:
                passed.add(event_id)
        if claims:
            return Claims(claims, notices)


def _take_free(
    engine: Engine,
    network: str,
    rules: _Rules,
    event_ids: tuple[int, ...] | None,
    passed: set[int],
    most: int,
) -> list[tuple[int, Claim | Notice | None]]:
    """The oldest due heads nobody holds, locked with their events and settled; [] if none."""
    with db.session_scope(engine) as session:
        rows = _ready(session, network, rules, event_ids, passed, locking=True, most=most)
        if not rows:
            return []
        heads = _heads(session, network, [event.id for _, _, event in rows if event.id is not None])
        return [
            (event.id, _settle(session, event, heads.get(event.id), rules, held=delivery))
            for delivery, _, event in rows
            if event.id is not None
        ]


def _first_held(
    engine: Engine,
    network: str,
    rules: _Rules,
    event_ids: tuple[int, ...] | None,
    passed: set[int],
) -> int | None:
    """The event of the oldest due head, read without locks (so: held by someone), if any."""
    with db.session_scope(engine) as session:
        rows = _ready(session, network, rules, event_ids, passed, locking=False)
        return rows[0][0].event_id if rows else None


def _take(engine: Engine, network: str, event_id: int, rules: _Rules) -> Claim | Notice | None:
    """In one transaction: wait for the event's lock, then claim or close its head."""
    with db.session_scope(engine) as session:
        event = lock_event(session, event_id)
        if event is None or event.id is None:
            return None
        # Read under the event lock: a reload or a control may have just changed it.
        return _settle(session, event, _heads(session, network, [event.id]).get(event.id), rules)


def _settle(
    session: Session,
    event: Event,
    head: tuple[PostDelivery, ScheduledPost] | None,
    rules: _Rules,
    held: PostDelivery | None = None,
) -> Claim | Notice | None:
    """With the event locked: claim its ``head`` (read under the lock), or close it, or None.

    ``held``: a delivery this transaction has locked already (the claim query's).
    """
    now, worker, lease, late_limit = rules
    if event.state not in LIVE_EVENT_STATES or event.paused or head is None:
        return None
    delivery, post = head
    decision = decide(delivery, now, lease, late_limit)
    if decision is None:
        return None
    locked = delivery if delivery is held else _lock(session, delivery)
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
    if not landed_before or delivery.first_tried_at is None:
        delivery.first_tried_at = now  # no earlier try can have reached the network
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
    engine: Engine,
    network: str,
    *,
    event_ids: tuple[int, ...] | None = None,
    before: datetime | None = None,
) -> datetime | None:
    """When the next post on ``network`` may be claimed (its due or retry time), if any.

    With ``before``, only posts due before then are looked at (what a runner
    waiting for its next tick needs), which keeps the query to the rows near
    the head of the due-time index.
    """
    retry = col(PostDelivery.next_attempt_at)
    ready = case((retry > col(PostDelivery.due_at), retry), else_=col(PostDelivery.due_at))
    query = (
        select(type_coerce(func.min(ready), UTCDateTime()))
        .select_from(PostDelivery)
        .join(ScheduledPost, col(ScheduledPost.id) == col(PostDelivery.scheduled_post_id))
        .join(Event, col(Event.id) == col(PostDelivery.event_id))
        .where(
            col(PostDelivery.network) == network,
            col(PostDelivery.state) == _PENDING,
            col(Event.state).in_(LIVE_EVENT_STATES),
            col(Event.paused).is_(False),
            _no_open_post_before(),
        )
    )
    if event_ids is not None:
        query = query.where(col(PostDelivery.event_id).in_(event_ids))
    if before is not None:
        query = query.where(col(PostDelivery.due_at) <= before)
    with db.session_scope(engine) as session:
        found: datetime | None = session.exec(query).one()
    return found


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
    "Claims",
    "Notice",
    "Outcome",
    "claim_next",
    "claim_some",
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
