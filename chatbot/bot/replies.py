"""The late-joiner replies' outbox: queue once, claim, and record how each try ended.

A reply (a ``late_reply`` row) goes through the same states and rules as a
scheduled post's delivery (``bot.delivery``): claimed into ``posting`` with a
deterministic key before it is sent, so a process that dies mid-try re-sends
it with that key and the network collapses the duplicate (Bluesky's record
key, Mastodon's Idempotency-Key); a rate limit is a wait, never a failure;
the give-up limit counts real failures only.  The claim hands out a
:class:`~chatbot.bot.delivery.Claim` like the outbox's, which the service
posts with the same adapter call.

The rows live apart from the plan: a reply never stands between two of the
chat's posts, and the service posts replies only when no scheduled post is due
(``bot.scheduler``).  Each transaction here touches one ``late_reply`` row and
reads the event, taking no lock on it or its posts (``bot.outbox``'s lock
order is not involved).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from chatbot import db
from chatbot.bot.delivery import RATE_LIMITED, Claim, Outcome, counts_after, decide, failure_message
from chatbot.bot.retry import RetryPolicy, describe_wait
from chatbot.errors import ChatbotError, RateLimitedError, TransientError
from chatbot.models import Event, LateReply, PostDelivery, table_of
from chatbot.platforms.base import RemoteRef
from chatbot.platforms.keys import post_key

# How long after the wrap-up a request is still answered (and a queued reply still sent).
GRACE = timedelta(minutes=15)
# Events whose replies may still be due: running, paused (claims wait) or just finished.
REPLY_EVENT_STATES = ("scheduled", "running", "paused", "finished")
REPLY_KIND = "reply"


@dataclass(frozen=True)
class NewReply:
    """A reply to queue: who asked, where, for which question, and what to answer."""

    event_id: int
    network: str
    asker_id: str
    asker_handle: str
    label: str
    request_uri: str
    request_id: str
    request_cid: str
    root_uri: str
    root_cid: str
    text: str


def reply_seed(event_id: int, network: str, asker_id: str, label: str) -> str:
    """The row's idempotency key: the same for the same asker and question, in any process."""
    digest = hashlib.sha256(f"{event_id}\x00{network}\x00{asker_id}\x00{label}".encode())
    return "reply-" + digest.hexdigest()[:32]


def enqueue(engine: Engine, reply: NewReply, *, now: datetime) -> bool:
    """Queue ``reply`` unless this asker already has one for this question; True if queued.

    Insert-or-ignore on the unique constraint: two processes (or a restart
    reading the same request again) queue it once.
    """
    values = {
        "event_id": reply.event_id,
        "network": reply.network,
        "asker_id": reply.asker_id,
        "asker_handle": reply.asker_handle[:300],
        "label": reply.label,
        "request_uri": reply.request_uri,
        "request_id": reply.request_id,
        "request_cid": reply.request_cid,
        "root_uri": reply.root_uri,
        "root_cid": reply.root_cid,
        "text": reply.text,
        "due_at": now.replace(microsecond=0),
        "state": "pending",
        "idempotency_key": reply_seed(reply.event_id, reply.network, reply.asker_id, reply.label),
        "attempts": 0,
        "rate_limited": 0,
        "updated_at": now,
    }
    table = table_of(LateReply)
    with db.session_scope(engine) as session:
        dialect = session.get_bind().dialect.name
        maker = sqlite_insert if dialect == "sqlite" else pg_insert
        result = session.connection().execute(
            maker(table).values(**values).on_conflict_do_nothing()
        )
        return bool(result.rowcount)


def open_replies(
    engine: Engine, event_ids: tuple[int, ...] | None = None, *, since: datetime | None = None
) -> int:
    """How many replies are still to send (pending or posting), of these events or all.

    ``since``: only those queued since then (a reply that could not go out for
    long, on a network that stopped, holds nothing up for ever).
    """
    query = (
        select(func.count())
        .select_from(LateReply)
        .join(Event, col(Event.id) == col(LateReply.event_id))
        .where(
            col(LateReply.state).in_(("pending", "posting")),
            col(Event.state).in_(REPLY_EVENT_STATES),
            col(Event.paused).is_(False),
        )
    )
    if since is not None:
        query = query.where(col(LateReply.due_at) >= since)
    if event_ids is not None:
        query = query.where(col(LateReply.event_id).in_(event_ids))
    with db.session_scope(engine) as session:
        return int(session.exec(query).one())


def reply_closes(session: Session, event_id: int, network: str) -> datetime | None:
    """When replies on ``network`` stop: the chat's last post there plus :data:`GRACE`.

    None while a post of the chat is still to go out there (the chat is on).
    """
    still_open = session.exec(
        select(func.count())
        .select_from(PostDelivery)
        .where(
            PostDelivery.event_id == event_id,
            PostDelivery.network == network,
            col(PostDelivery.state).in_(("pending", "posting")),
        )
    ).one()
    if still_open:
        return None
    last = session.exec(
        select(func.max(PostDelivery.posted_at)).where(
            PostDelivery.event_id == event_id, PostDelivery.network == network
        )
    ).one()
    return last + GRACE if last is not None else None


def claim_reply(
    engine: Engine, network: str, *, now: datetime, worker: str, lease: timedelta
) -> Claim | None:
    """Claim the oldest reply due on ``network`` (or one stuck in ``posting`` past the lease).

    A reply whose chat is over (past the wrap-up and the grace period) and that
    never reached the network is skipped instead; one that may have (a
    ``posting`` row) is finished with its key, never dropped.
    """
    retry = col(LateReply.next_attempt_at)
    claimed = func.coalesce(col(LateReply.claimed_at), col(LateReply.updated_at))
    query = (
        select(LateReply, Event)
        .join(Event, col(Event.id) == col(LateReply.event_id))
        .where(
            col(LateReply.network) == network,
            or_(
                (col(LateReply.state) == "pending")
                & (col(LateReply.due_at) <= now)
                & or_(retry.is_(None), retry <= now),
                (col(LateReply.state) == "posting") & (claimed <= now - lease),
            ),
            col(Event.state).in_(REPLY_EVENT_STATES),
            col(Event.paused).is_(False),
        )
        .order_by(col(LateReply.due_at), col(LateReply.id))
        .limit(1)
        .with_for_update(of=LateReply, skip_locked=True)
    )
    while True:
        with db.session_scope(engine) as session:
            row = session.exec(query).first()
            if row is None:
                return None
            reply, event = row
            decision = decide(reply, now, lease, timedelta.max)  # type: ignore[arg-type]
            closes = reply_closes(session, reply.event_id, network)
            if decision == "claim" and reply.state == "pending" and closes and now > closes:
                decision = "over"
            if decision is None:
                return None
            if decision == "claim":
                return _claim(session, reply, event, now, worker)
            reply.state = "skipped" if decision == "over" else "failed"
            reply.last_error = (
                "skipped: the chat was over before it could be sent"
                if decision == "over"
                else "outcome unknown: it was being posted when a bot process stopped, too "
                "long ago to re-send safely"
            )
            reply.claimed_by = None
            reply.updated_at = now
            session.add(reply)


def _claim(session: Session, reply: LateReply, event: Event, now: datetime, worker: str) -> Claim:
    reclaimed = reply.state == "posting"
    landed_before = reclaimed or (
        reply.attempts > 0 and not (reply.last_error or "").startswith(RATE_LIMITED)
    )
    reply.state = "posting"
    reply.claimed_by = worker
    reply.claimed_at = now
    reply.attempts += 1
    reply.updated_at = now
    session.add(reply)
    target = RemoteRef(reply.network, reply.request_id, reply.request_uri, "", reply.request_cid)
    root = (
        RemoteRef(
            reply.network, reply.root_uri.rsplit("/", 1)[-1], reply.root_uri, "", reply.root_cid
        )
        if reply.root_uri and reply.root_cid
        else target
    )
    assert reply.id is not None
    return Claim(
        delivery_id=reply.id,
        event_id=reply.event_id,
        network=reply.network,
        label=f"{reply.label} for {reply.asker_handle or reply.asker_id}",
        kind=REPLY_KIND,
        text=reply.text,
        key=post_key(reply.idempotency_key, reply.label, reply.due_at),
        due_at=reply.due_at,
        attempts=reply.attempts,
        worker=worker,
        hashtag=event.hashtag,
        timezone=event.timezone,
        language=str(event.settings["language"])
        if (event.settings or {}).get("language")
        else None,
        reply_to=target,
        root=root,
        reclaimed=reclaimed,
        landed_before=landed_before,
        rate_limited=reply.rate_limited,
    )


def complete_reply(engine: Engine, claim: Claim, ref: RemoteRef, *, now: datetime) -> Outcome:
    """Record that the reply is on its network at ``ref`` (idempotent)."""
    with db.session_scope(engine) as session:
        session.exec(
            update(LateReply)
            .where(col(LateReply.id) == claim.delivery_id, col(LateReply.state) != "posted")
            .values(
                state="posted", remote_id=ref.id, remote_uri=ref.uri, remote_url=ref.url or None,
                posted_at=now, last_error=None, next_attempt_at=None, claimed_by=claim.worker,
                updated_at=now,
            )
        )  # fmt: skip
    return Outcome("posted", url=ref.url or ref.uri)


def fail_reply(
    engine: Engine,
    claim: Claim,
    error: ChatbotError,
    *,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> Outcome:
    """Record a failed try as ``outcomes.fail`` does a post's: a wait, a retry, or the end."""
    limited = isinstance(error, RateLimitedError)
    retryable = limited or isinstance(error, TransientError)
    gives_up = isinstance(error, TransientError) and policy.gives_up(claim.attempts)
    if retryable and not gives_up:
        retry_at = error.retry_at if isinstance(error, RateLimitedError) else None
        next_at = policy.next_attempt(
            now, claim.attempts + claim.rate_limited, retry_at=retry_at, rng=rng
        )
        why = "rate limited" if limited else "network error"
        wait = describe_wait((next_at - now).total_seconds())
        outcome = Outcome("retry", f"retry in {wait} ({why})", next_at)
        refused = limited and not claim.landed_before
        stored = (RATE_LIMITED if refused else "") + str(error)
        values: dict[str, object] = {"state": "pending", "next_attempt_at": next_at}
    else:
        outcome = Outcome("failed", failure_message(error, claim, gives_up))
        stored, values = outcome.message, {"state": "failed", "next_attempt_at": None}
    values["attempts"], values["rate_limited"] = counts_after(claim, limited=limited)
    with db.session_scope(engine) as session:
        session.exec(
            update(LateReply)
            .where(
                col(LateReply.id) == claim.delivery_id,
                col(LateReply.state) == "posting",
                col(LateReply.claimed_by) == claim.worker,
            )
            .values(last_error=stored[:1000], claimed_by=None, updated_at=now, **values)
        )
    return outcome


def release_reply(engine: Engine, claim: Claim, *, now: datetime) -> bool:
    """Give a claimed reply back (pending, same key, tries kept); False if no longer ours."""
    with db.session_scope(engine) as session:
        changed = session.exec(
            update(LateReply)
            .where(
                col(LateReply.id) == claim.delivery_id,
                col(LateReply.state) == "posting",
                col(LateReply.claimed_by) == claim.worker,
            )
            .values(state="pending", claimed_by=None, updated_at=now)
        )
        return bool(changed.rowcount)


__all__ = [
    "GRACE",
    "REPLY_KIND",
    "NewReply",
    "claim_reply",
    "complete_reply",
    "enqueue",
    "fail_reply",
    "open_replies",
    "release_reply",
    "reply_closes",
    "reply_seed",
]
