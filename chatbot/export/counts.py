"""The one count of posts and participants (:mod:`chatbot.transcript.counts`), from stored rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlmodel import Session, col

from chatbot.collect.events import own_accounts
from chatbot.collect.hide import BY_REQUEST
from chatbot.export.document import ExportOptions, PostState, left_out
from chatbot.models import Event, Post
from chatbot.transcript.counts import ChatCounts, CountedPost, count_posts

__all__ = ["stored_counts"]


def _filled(column: Any) -> ColumnElement[bool]:
    """Set and not empty, as Python's ``bool()`` of the value."""
    return func.coalesce(column, "") != ""


def _state_columns() -> list[ColumnElement[bool]]:
    """The database's side of :class:`PostState`, a boolean column per field, in its order."""
    hidden = col(Post.hidden_reason)
    return [
        col(Post.deleted_at).is_not(None),
        or_(col(Post.visibility).is_(None), col(Post.visibility) == "public"),
        func.coalesce(col(Post.opted_out), False).is_(True),
        _filled(hidden),
        func.substr(func.coalesce(hidden, ""), 1, len(BY_REQUEST)) == BY_REQUEST,
        _filled(col(Post.spam_reason)),
    ]


def stored_counts(session: Session, events: Sequence[Event]) -> dict[int, ChatCounts]:
    """The count of each of ``events`` from the stored posts, as their transcripts give it.

    The same posts are left out as by a published export (``left_out``), and hosts
    are the accounts the attribution takes for the chat's own
    (:func:`chatbot.collect.events.own_accounts`, by account id or handle). The
    database groups the posts by author and state, so no post row is read.
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
        who = [col(Post.event_id), col(Post.network), col(Post.author_id), col(Post.author_handle)]
        states = _state_columns()
        query = (
            select(*who, *states, func.count())
            .where(col(Post.event_id).in_(wanted))
            .group_by(*who, *states)
        )
        for event_id, network, author_id, handle, *flags, posts in session.execute(query):
            if left_out(PostState(*(bool(flag) for flag in flags)), options) is not None:
                continue
            handle = (handle or "").lstrip("@")
            mine = own[event_id].get(network, set())
            host = author_id in mine or handle.lower() in mine
            grouped[event_id].append(CountedPost(network, handle, host, posts))
    return {event_id: count_posts(posts) for event_id, posts in grouped.items()}
