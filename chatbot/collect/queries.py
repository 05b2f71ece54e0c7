"""The collector's reads of its own tables: cursors, known posts, reply counts, conversations."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlmodel import Session, col

from chatbot.collect.store import PARTICIPANT, POST, link_mastodon_parents
from chatbot.models import CollectionCursor
from chatbot.platforms.base import RemoteRef


def _cursor_row(
    session: Session, event_id: int, network: str, source: str
) -> CollectionCursor | None:
    query = select(CollectionCursor).where(
        col(CollectionCursor.event_id) == event_id,
        col(CollectionCursor.network) == network,
        col(CollectionCursor.source) == source,
    )
    return session.execute(query).scalars().first()


def load_cursor(session: Session, event_id: int, network: str, source: str) -> dict[str, Any]:
    """The stored position of one source (JSON state), or ``{}`` to start afresh."""
    row = _cursor_row(session, event_id, network, source)
    return json.loads(row.cursor) if row is not None and row.cursor else {}


def save_cursor(
    session: Session,
    event_id: int,
    network: str,
    source: str,
    state: dict[str, Any],
    now: datetime,
) -> None:
    """Store one source's position, in the caller's transaction (with the posts it covers)."""
    row = _cursor_row(session, event_id, network, source)
    if row is None:
        row = CollectionCursor(event_id=event_id, network=network, source=source)
    row.cursor, row.updated_at = json.dumps(state, sort_keys=True), now
    session.add(row)


def live_refs(connection: Connection, event_id: int, network: str) -> list[RemoteRef]:
    """Every stored post of the event on ``network`` not known to be deleted."""
    rows = connection.execute(
        select(POST.c.remote_id, POST.c.uri, POST.c.url, POST.c.cid).where(
            POST.c.event_id == event_id, POST.c.network == network, POST.c.deleted_at.is_(None)
        )
    )
    return [RemoteRef(network, r.remote_id, r.uri, r.url or "", r.cid or "") for r in rows]


def child_counts(
    connection: Connection, event_id: int, network: str, uris: list[str]
) -> dict[str, int]:
    """How many live replies to each of ``uris`` are stored."""
    if network == "mastodon":
        link_mastodon_parents(connection, event_id)
    counts: dict[str, int] = {}
    for index in range(0, len(uris), 500):
        query = (
            select(POST.c.parent_uri, func.count())
            .where(POST.c.network == network, POST.c.parent_uri.in_(uris[index : index + 500]))
            .where(POST.c.deleted_at.is_(None))
            .group_by(POST.c.parent_uri)
        )
        counts.update({parent: count for parent, count in connection.execute(query)})
    return counts


def conversation_roots(connection: Connection, event_id: int, network: str) -> list[RemoteRef]:
    """Stored top-level posts that have stored replies: one context each holds them all."""
    link_mastodon_parents(connection, event_id)
    parent = POST.alias("parent")
    rows = connection.execute(
        select(parent.c.remote_id, parent.c.uri, parent.c.url)
        .distinct()
        .select_from(POST.join(parent, POST.c.parent_uri == parent.c.uri))
        .where(
            POST.c.event_id == event_id,
            POST.c.network == network,
            parent.c.network == network,
            parent.c.parent_uri.is_(None),
            parent.c.deleted_at.is_(None),
        )
    ).all()
    return [RemoteRef(network, row.remote_id, row.uri, row.url or "") for row in rows]


def authors(connection: Connection, event_id: int, network: str, *, unread: bool) -> list[str]:
    """Account ids of the event's authors on ``network`` (``unread``: no full profile yet)."""
    query = (
        select(PARTICIPANT.c.account_id)
        .distinct()
        .select_from(
            PARTICIPANT.join(
                POST,
                (POST.c.network == PARTICIPANT.c.network)
                & (POST.c.author_id == PARTICIPANT.c.account_id),
            )
        )
        .where(POST.c.event_id == event_id, PARTICIPANT.c.network == network)
    )
    if unread:
        query = query.where(PARTICIPANT.c.followers_count.is_(None))
    return sorted(connection.execute(query).scalars())


__all__ = [
    "authors",
    "child_counts",
    "conversation_roots",
    "live_refs",
    "load_cursor",
    "save_cursor",
]
