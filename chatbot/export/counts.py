"""The one count of posts and participants (:mod:`chatbot.transcript.counts`), from stored rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from chatbot.collect.events import own_accounts
from chatbot.export.document import ExportOptions, left_out
from chatbot.models import Event, Post
from chatbot.transcript.counts import ChatCounts, CountedPost, count_posts

__all__ = ["stored_counts"]

_COLUMNS = (
    Post.event_id, Post.network, Post.author_id, Post.author_handle, Post.deleted_at,
    Post.visibility, Post.opted_out, Post.hidden_reason, Post.spam_reason,
)  # fmt: skip


def stored_counts(session: Session, events: Sequence[Event]) -> dict[int, ChatCounts]:
    """The count of each of ``events`` from the stored posts, as their transcripts give it.

    The same posts are left out as by a published export (``left_out``), and hosts
    are the accounts the attribution takes for the chat's own
    (:func:`chatbot.collect.events.own_accounts`, by account id or handle).
    """
    options = ExportOptions()
    wanted = [event.id for event in events if event.id is not None]
    own: dict[int, dict[str, set[str]]] = {}
    for event in events:
        assert event.id is not None
        bucket = own.setdefault(event.id, {})
        for network, key in own_accounts(session, event):
            bucket.setdefault(network, set()).add(key)
    grouped: dict[int, list[CountedPost]] = {event_id: [] for event_id in wanted}
    if wanted:
        query = select(*(col(c) for c in _COLUMNS)).where(col(Post.event_id).in_(wanted))
        for row in session.execute(query):
            event_id, network, author_id, handle = row[0], row[1], row[2], row[3] or ""
            if left_out(row[4], row[5], row[6], row[7], row[8], options) is not None:
                continue
            mine = own[event_id].get(network, set())
            host = author_id in mine or handle.lstrip("@").lower() in mine
            grouped[event_id].append(CountedPost(network, handle.lstrip("@"), host))
    return {event_id: count_posts(posts) for event_id, posts in grouped.items()}
