"""What the recap and the archive read from the database beyond the transcript document."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlmodel import Session, col

from chatbot.collect.coverage import coverage_report
from chatbot.export.counts import stored_counts
from chatbot.export.folder import chat_dirname
from chatbot.models import CollectionCursor, Event, Participant, Post
from chatbot.transcript.counts import participant_key

from .archive import ArchiveEvent
from .document import Coverage, RecapExtras

__all__ = ["archive_events", "recap_extras"]

_LIVE = col(Post.deleted_at).is_(None)
_PUBLIC = or_(col(Post.visibility).is_(None), col(Post.visibility) == "public")
_OPTED_OUT = col(Post.opted_out).is_(True)


def _facets(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    record = raw.get("record") if isinstance(raw.get("record"), Mapping) else raw
    facets = record.get("facets") if isinstance(record, Mapping) else None
    return [facet for facet in facets or () if isinstance(facet, dict)]


def recap_extras(session: Session, event: Event, document: Mapping[str, Any]) -> RecapExtras:
    """Mastodon HTML, Bluesky facets, followers, series history and coverage counts."""
    assert event.id is not None
    uris = {post.get("uri") for post in document.get("posts") or ()}
    extras = RecapExtras()
    # Only a Bluesky post's raw JSON is read (for its facets): decoding it is most of the cost.
    raw = case((col(Post.network) == "bluesky", col(Post.raw)), else_=None)
    columns = (col(Post.network), col(Post.uri), col(Post.html), raw, col(Post.created_at))
    query = select(*columns, col(Post.indexed_at)).where(col(Post.event_id) == event.id)
    # A batch at a time (a server-side cursor on PostgreSQL): the raw JSON is read, not kept.
    rows = session.execute(query.execution_options(yield_per=2_000))
    lags: list[float] = []
    for network, uri, html, raw, created, indexed in rows:
        if uri not in uris:
            continue
        if network == "mastodon" and html:
            extras.html[uri] = html
        elif network == "bluesky" and isinstance(raw, Mapping):
            facets = _facets(raw)
            if facets:
                extras.facets[uri] = facets
        if indexed is not None and created is not None and indexed >= created:
            lags.append((indexed - created).total_seconds())
    authors = session.execute(
        select(
            col(Participant.network), col(Participant.handle), col(Participant.followers_count)
        ).where(col(Participant.followers_count).is_not(None))
    )
    extras.followers = {
        participant_key(net, handle): count for net, handle, count in authors if handle
    }
    earlier = list(
        session.execute(
            select(Event).where(
                col(Event.hashtag_key) == event.hashtag_key,
                col(Event.start_at) < event.start_at,
            )
        ).scalars()
    )
    extras.earlier_chats = len(earlier)
    # Who took part before: counted as the archive counts them (chatbot.export.counts).
    extras.previous = set()
    for counts in stored_counts(session, earlier).values():
        extras.previous |= counts.people
    extras.coverage = _coverage(session, event, lags)
    # The document's event block may leave these out.
    extras.moderators = tuple(event.moderators or ())
    extras.accounts = {k: str(v) for k, v in (event.accounts or {}).items()}
    language = (event.settings or {}).get("language")
    extras.language = language if isinstance(language, str) and language else None
    return extras


def _count(session: Session, event_id: int, *conditions: ColumnElement[bool]) -> int:
    query = (
        select(func.count()).select_from(Post).where(col(Post.event_id) == event_id, *conditions)
    )
    return int(session.execute(query).scalar_one())


def _coverage(session: Session, event: Event, lags: list[float]) -> Coverage:
    # Counted in the export's order of reasons: deleted, not public, opted out, hidden.
    assert event.id is not None
    last_run = session.execute(
        select(func.max(col(CollectionCursor.updated_at))).where(
            col(CollectionCursor.event_id) == event.id
        )
    ).scalar_one()
    if isinstance(last_run, datetime) and last_run.tzinfo is None:
        last_run = last_run.replace(tzinfo=UTC)
    mastodon = (event.accounts or {}).get("mastodon", "")
    instance = mastodon.rpartition("@")[2] if "@" in mastodon.lstrip("@") else None
    hidden = col(Post.hidden_reason).is_not(None)
    found = coverage_report(session.connection(), event)
    days = tuple(
        (_host(server.instance), day.day, day.server_uses, day.server_accounts, day.collected)
        for server in found.tag_days
        for day in server.days
        if day.server_uses or day.collected
    )
    return Coverage(
        deleted=_count(session, event.id, ~_LIVE),
        not_public=_count(session, event.id, _LIVE, ~_PUBLIC),
        opted_out=_count(session, event.id, _LIVE, _PUBLIC, _OPTED_OUT),
        hidden=_count(session, event.id, _LIVE, _PUBLIC, ~_OPTED_OUT, hidden),
        spam=_count(
            session,
            event.id,
            _LIVE,
            _PUBLIC,
            ~_OPTED_OUT,
            ~hidden,
            col(Post.spam_reason).is_not(None),
        ),
        mastodon_instance=instance,
        collected_until=min(last_run, event.collect_until) if last_run else None,
        search_lag_seconds=median(lags) if lags else None,
        sources=tuple(
            (row.network, _host(row.instance), row.source, row.posts, row.only)
            for row in found.sources
            if row.posts
        ),
        closed=tuple(
            (row.network, _host(row.instance), row.feed) for row in found.sources if row.closed
        ),
        tag_days=days,
    )


def _host(url: str) -> str:
    """A server's name for a reader: the host of its base URL (``file:NAME`` as it is)."""
    host = urlsplit(url).netloc
    return host or url


def archive_events(session: Session, out_dir: Path | None = None) -> list[ArchiveEvent]:
    """Every event with its posts and participants, and its recap if ``out_dir`` has one.

    Posts and participants are the one count the recap shows too
    (:func:`chatbot.export.counts.stored_counts`): the hosts' posts apart.
    """
    events = list(session.execute(select(Event).order_by(col(Event.start_at))).scalars())
    counts = stored_counts(session, events)
    found: list[ArchiveEvent] = []
    for event in events:
        assert event.id is not None
        folder = chat_dirname(event.hashtag, event.start_at, event.timezone)
        recap = None
        if out_dir is not None and (out_dir / folder / "index.html").exists():
            recap = f"{folder}/index.html"
        found.append(
            ArchiveEvent(
                id=event.id,
                hashtag=event.hashtag,
                title=event.title,
                start=event.start_at,
                timezone=event.timezone,
                state=event.state,
                posts=counts[event.id].posts,
                people=counts[event.id].people,
                recap=recap,
            )
        )
    return found
