"""What collection needs of an event: its delivered posts, question posts, own accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from chatbot.models import Event, Post, PostDelivery, ScheduledPost
from chatbot.platforms.base import RemoteRef
from chatbot.platforms.normalise import did_of


def delivered(session: Session, event_id: int, network: str | None = None) -> list[PostDelivery]:
    """The event's posts that reached a network (they have a remote URI)."""
    query = select(PostDelivery).where(
        col(PostDelivery.event_id) == event_id,
        col(PostDelivery.remote_uri).is_not(None),
    )
    if network is not None:
        query = query.where(col(PostDelivery.network) == network)
    return list(session.execute(query).scalars())


def question_refs(session: Session, event_id: int, network: str) -> list[RemoteRef]:
    """Every post of the event's plan on ``network``: the threads to read."""
    return [
        RemoteRef(
            network,
            row.remote_id or row.remote_uri or "",
            row.remote_uri or "",
            row.remote_url or "",
            row.remote_cid or "",
        )
        for row in delivered(session, event_id, network)
    ]


def own_accounts(session: Session, event: Event) -> set[tuple[str, str]]:
    """(network, account id or lower-case handle) of the bot and the event's moderators."""
    assert event.id is not None
    found: set[tuple[str, str]] = set()
    rows = delivered(session, event.id)
    for row in rows:
        if row.network == "bluesky" and row.remote_uri:
            found.add(("bluesky", did_of(row.remote_uri)))
    uris = [row.remote_uri for row in rows if row.remote_uri]
    if uris:
        query = select(col(Post.network), col(Post.author_id)).where(col(Post.uri).in_(uris))
        found.update((network, author) for network, author in session.execute(query))
    for network, handle in (event.accounts or {}).items():
        found.add((network, str(handle).lstrip("@").lower()))
    for handle in event.moderators or []:
        for network in [*(event.networks or []), "twitter"]:
            found.add((network, str(handle).lstrip("@").lower()))
    return found


def planned_questions(session: Session, event_id: int) -> list[ScheduledPost]:
    """The event's question posts in plan order."""
    query = (
        select(ScheduledPost)
        .where(col(ScheduledPost.event_id) == event_id, col(ScheduledPost.kind) == "question")
        .order_by(col(ScheduledPost.position))
    )
    return list(session.execute(query).scalars())


def window(
    event: Event, since: datetime | None = None, until: datetime | None = None
) -> tuple[datetime, datetime]:
    """The collection window: the event's, or the one given (for a backfill)."""
    return (since or event.collect_from, until or event.collect_until)


__all__ = [
    "delivered",
    "own_accounts",
    "planned_questions",
    "question_refs",
    "window",
]
