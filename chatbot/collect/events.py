"""Finding an event by name, and what collection needs of it: question posts, own accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from chatbot.errors import UsageError
from chatbot.models import Event, Post, PostDelivery, ScheduledPost, hashtag_key
from chatbot.platforms.base import RemoteRef
from chatbot.platforms.normalise import did_of


def find_event(session: Session, name: str) -> Event:
    """The event called ``name``: an id, a hashtag (the latest chat of it) or ``tag@YYYY-MM-DD``."""
    text = name.strip()
    if text.isdigit():
        event = session.get(Event, int(text))
        if event is None:
            raise UsageError(f"no event with id {text}; `chatbot load FILE` stores one")
        return event
    tag, _, day = text.partition("@")
    query = select(Event).where(Event.hashtag_key == hashtag_key(tag))  # type: ignore[arg-type]
    events = list(session.execute(query.order_by(Event.start_at.desc())).scalars())  # type: ignore[attr-defined]
    if day:
        events = [e for e in events if e.start_at.date().isoformat() == day]
    if not events:
        raise UsageError(
            f"no event #{tag.lstrip('#')}{' on ' + day if day else ''} in the database; "
            "load its question file with `chatbot load FILE` (or import it)"
        )
    return events[0]


def delivered(session: Session, event_id: int, network: str | None = None) -> list[PostDelivery]:
    """The event's posts that reached a network (they have a remote URI)."""
    query = select(PostDelivery).where(
        PostDelivery.event_id == event_id,  # type: ignore[arg-type]
        PostDelivery.remote_uri.is_not(None),  # type: ignore[union-attr]
    )
    if network is not None:
        query = query.where(PostDelivery.network == network)  # type: ignore[arg-type]
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
        query = select(Post.network, Post.author_id).where(Post.uri.in_(uris))  # type: ignore[attr-defined]
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
        .where(ScheduledPost.event_id == event_id, ScheduledPost.kind == "question")  # type: ignore[arg-type]
        .order_by(ScheduledPost.position)  # type: ignore[arg-type]
    )
    return list(session.execute(query).scalars())


def window(
    event: Event, since: datetime | None = None, until: datetime | None = None
) -> tuple[datetime, datetime]:
    """The collection window: the event's, or the one given (for a backfill)."""
    return (since or event.collect_from, until or event.collect_until)


__all__ = [
    "delivered",
    "find_event",
    "own_accounts",
    "planned_questions",
    "question_refs",
    "window",
]
