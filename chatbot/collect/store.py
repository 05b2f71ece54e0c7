"""Storing collected posts: bulk upsert keyed by network + URI, edits, tombstones, participants."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from chatbot.collect.sightings import FoundBy, record_sightings
from chatbot.collect.sqliterows import (
    SQLITE_INSERT_POST,
    insert_rows,
    sqlite_post_values,
    sqlite_time,
    without_nul,
)
from chatbot.models import Participant, Post, table_of
from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.normalise import parse_time
from chatbot.text.engagement import Engagement, engagement_of

POST = table_of(Post)
PARTICIPANT = table_of(Participant)
CHUNK = 500  # URIs per IN (...) lookup: well under every engine's parameter limit


@dataclass
class StoreResult:
    """What one batch did to the post table."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    new_uris: tuple[str, ...] = ()

    def add(self, other: StoreResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.new_uris = self.new_uris + other.new_uris


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def post_row(post: NormalisedPost, event_id: int | None, now: datetime) -> dict[str, Any]:
    """The column values of a new ``post`` row for ``post``."""
    raw = post.raw if isinstance(post.raw, dict) else dict(post.raw)
    counts = engagement_of(post.network, raw)
    return {
        "network": post.network,
        "uri": post.uri,
        "remote_id": post.id,
        "cid": post.cid or None,
        "url": post.url or None,
        "event_id": event_id,
        "author_id": post.author_id,
        "author_handle": post.author_handle,
        "author_display_name": post.author_display_name,
        "created_at": post.created_at or now,
        "indexed_at": parse_time(raw.get("indexedAt")),
        "text": post.text,
        "html": post.html or None,
        "lang": post.lang,
        "parent_uri": post.parent_uri,
        "root_uri": post.root_uri,
        "quote_uri": post.quote_uri,
        "mentions": list(post.mentions),
        "quote_uris": list(post.quote_uris),
        "tags": list(post.tags),
        "deleted_at": None,
        "edited_at": post.edited_at,
        "opted_out": post.opted_out,
        "visibility": post.visibility or "public",
        "raw": raw,
        "first_seen_at": now,
        "last_seen_at": now,
        **counts.columns(),
        "counts_at": now if counts.known else None,
    }


_COMPARED = (
    POST.c.id, POST.c.uri, POST.c.text, POST.c.cid, POST.c.edited_at,
    POST.c.deleted_at, POST.c.parent_uri, POST.c.root_uri, POST.c.event_id,
    POST.c.author_handle, POST.c.like_count, POST.c.repost_count, POST.c.quote_count,
    POST.c.reply_count,
)  # fmt: skip


def upsert_posts(
    connection: Connection,
    posts: Iterable[NormalisedPost],
    *,
    event_id: int | None,
    now: datetime,
    found_by: FoundBy | None = None,
    named: Collection[str] = (),
) -> StoreResult:
    """Insert new posts, update edited ones, record tombstones; one row per network + URI.

    A post already marked deleted stays deleted (search indexes lag behind a
    deletion); a tombstone for a post never stored is ignored: there is
    nothing to hide. With ``found_by``, each stored post of the batch is
    recorded as found by that source, but for tombstones and the posts in
    ``named`` (asked for by their own address: nothing was found).
    """
    batch: dict[tuple[str, str], NormalisedPost] = {}
    for post in posts:
        if post.uri:
            batch[(post.network, post.uri)] = post  # the last sighting wins
    result = StoreResult()
    by_network: dict[str, list[NormalisedPost]] = {}
    for (network, _), post in batch.items():
        by_network.setdefault(network, []).append(post)
    for network, items in by_network.items():
        for chunk in chunks(items):
            result.add(_upsert_chunk(connection, network, chunk, event_id, now))
        if found_by is not None:
            uris = [p.uri for p in items if not p.deleted and p.uri not in named]
            record_sightings(connection, network, uris, found_by, now=now)
    return result


def _upsert_chunk(
    connection: Connection,
    network: str,
    chunk: Sequence[NormalisedPost],
    event_id: int | None,
    now: datetime,
) -> StoreResult:
    sqlite = connection.dialect.name == "sqlite"
    existing = _stored(connection, network, [post.uri for post in chunk], sqlite)
    result = StoreResult()
    fresh: list[NormalisedPost] = []
    for post in chunk:
        row = existing.get(post.uri)
        if row is None:
            if not post.deleted:
                fresh.append(post)
            continue
        if row.deleted_at is not None:
            result.unchanged += 1
            continue
        if post.deleted:
            set_post(connection, row.id, {"deleted_at": now, "last_seen_at": now})
            result.deleted += 1
            continue
        changes = _changes(row, post, event_id, now)
        # Counts that moved are stored, but a like is no edit: the post is not "updated".
        counts = _moved_counts(row, post, now)
        if changes or counts:
            set_post(connection, row.id, {**counts, **changes})
        if changes:
            result.updated += 1
        else:
            result.unchanged += 1
    if fresh:
        if sqlite:
            stamp = sqlite_time(now)
            values = [sqlite_post_values(post, event_id, stamp) for post in fresh]
            connection.exec_driver_sql(SQLITE_INSERT_POST, values)
        else:
            insert_rows(connection, POST, [post_row(post, event_id, now) for post in fresh])
        result.new = len(fresh)
        result.new_uris = tuple(post.uri for post in fresh)
    return result


class _Stored(NamedTuple):
    """The columns of a stored post that an upsert compares."""

    id: int
    uri: str
    text: str
    cid: str | None
    edited_at: datetime | None
    deleted_at: datetime | None
    parent_uri: str | None
    root_uri: str | None
    event_id: int | None
    author_handle: str | None
    like_count: int | None
    repost_count: int | None
    quote_count: int | None
    reply_count: int | None


_COMPARED_NAMES = ", ".join(f'"{name}"' for name in _Stored._fields)
_lookup_sql: dict[int, str] = {}  # SQLite: the dedupe query for each number of URIs


def _stored(connection: Connection, network: str, uris: list[str], sqlite: bool) -> dict[str, Any]:
    """The stored rows among ``uris`` on ``network``, by URI (one query)."""
    if not sqlite:
        query = select(*_COMPARED).where(POST.c.network == network, POST.c.uri.in_(uris))
        return {row.uri: row for row in connection.execute(query)}
    # Through the driver: SQLAlchemy's expanding IN (...) and result
    # processing cost more than the indexed lookup itself.
    sql = _lookup_sql.get(len(uris))
    if sql is None:
        marks = ", ".join("?" * len(uris))
        sql = f"SELECT {_COMPARED_NAMES} FROM post WHERE network = ? AND uri IN ({marks})"
        _lookup_sql[len(uris)] = sql
    found = {}
    for values in connection.exec_driver_sql(sql, (network, *uris)):
        row = _Stored(*values)
        if row.edited_at is not None or row.deleted_at is not None:
            row = row._replace(
                edited_at=_from_sqlite_time(row.edited_at),
                deleted_at=_from_sqlite_time(row.deleted_at),
            )
        found[row.uri] = row
    return found


def _from_sqlite_time(value: Any) -> datetime | None:
    """A ``UTCDateTime`` as SQLite returns it (naive UTC text), aware again."""
    return None if value is None else parse_time(value)


def _changes(row: Any, post: NormalisedPost, event_id: int | None, now: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    edited = post.text != row.text or (post.cid and row.cid and post.cid != row.cid)
    if post.edited_at is not None and post.edited_at != row.edited_at:
        edited = True
    if edited:
        raw = post.raw if isinstance(post.raw, dict) else dict(post.raw)
        changes.update(
            text=post.text,
            html=post.html or None,
            cid=post.cid or None,
            raw=raw,
            tags=list(post.tags),
            mentions=list(post.mentions),
            quote_uri=post.quote_uri,
            quote_uris=list(post.quote_uris),
            edited_at=post.edited_at or now,
            last_seen_at=now,
        )
    # Threads know parents and roots that a hashtag page did not say.
    if post.parent_uri and not row.parent_uri:
        changes["parent_uri"] = post.parent_uri
    if post.root_uri and not row.root_uri:
        changes["root_uri"] = post.root_uri
    if event_id is not None and row.event_id is None:
        changes["event_id"] = event_id
    # A stream names only the author's DID; a later sighting in a view names them.
    if post.author_handle and not row.author_handle:
        changes["author_handle"] = post.author_handle
        changes["author_display_name"] = post.author_display_name
        if post.url:
            changes["url"] = post.url
    return changes


def _moved_counts(row: Any, post: NormalisedPost, now: datetime) -> dict[str, Any]:
    """The counts ``post`` gives that differ from the row's (none given: nothing moves)."""
    counts = engagement_of(post.network, post.raw)
    stored = Engagement(row.like_count, row.repost_count, row.quote_count, row.reply_count)
    if not counts.known or counts == stored:
        return {}
    # A payload that leaves one count out (Mastodon before 4.5: quotes) keeps the stored one.
    pairs = zip(counts, stored, strict=True)
    merged = Engagement(*(new if new is not None else old for new, old in pairs))
    if merged == stored:
        return {}
    return {**merged.columns(), "counts_at": now}


def set_post(connection: Connection, row_id: int, values: dict[str, Any]) -> None:
    if connection.dialect.name != "sqlite":
        values = without_nul(values)
    connection.execute(update(POST).where(POST.c.id == row_id).values(**values))


def mark_deleted(
    connection: Connection,
    network: str,
    uris: Iterable[str],
    *,
    now: datetime,
    seen_before: datetime | None = None,
) -> int:
    """Record that these posts are gone from their network; returns how many rows changed.

    With ``seen_before``, only posts first stored before then are marked: a post
    the network showed a moment ago and now says it can't find may be index lag.
    """
    wanted = sorted(set(uris))
    count = 0
    for chunk in chunks(wanted):
        query = update(POST).where(
            POST.c.network == network, POST.c.uri.in_(chunk), POST.c.deleted_at.is_(None)
        )
        if seen_before is not None:
            query = query.where(POST.c.first_seen_at <= seen_before)
        done = connection.execute(query.values(deleted_at=now, last_seen_at=now))
        count += done.rowcount or 0
    return count


def mark_deleted_ids(
    connection: Connection, network: str, ids: Iterable[str], *, now: datetime
) -> int:
    """Like :func:`mark_deleted`, for posts known by the network's id (a stream's delete)."""
    count = 0
    for chunk in chunks(sorted(set(ids))):
        done = connection.execute(
            update(POST)
            .where(
                POST.c.network == _network_literal(network),
                POST.c.remote_id.in_(chunk),
                POST.c.deleted_at.is_(None),
            )
            .values(deleted_at=now, last_seen_at=now)
        )
        count += done.rowcount or 0
    return count


def _network_literal(network: str) -> Any:
    """``network`` written into the SQL itself, not bound as a parameter.

    The index on Mastodon ids is partial (``WHERE network = 'mastodon'``); a
    planner can only choose it when the query names the network as a constant.
    """
    return bindparam("network_name", network, literal_execute=True)


def link_mastodon_parents(connection: Connection, event_id: int) -> int:
    """Fill ``parent_uri`` of Mastodon replies from ``in_reply_to_id`` once the parent is stored."""
    orphans = connection.execute(
        select(POST.c.id, POST.c.raw).where(
            POST.c.event_id == event_id,
            POST.c.network == "mastodon",
            POST.c.parent_uri.is_(None),
        )
    ).all()
    wanted = {row.id: str(row.raw.get("in_reply_to_id")) for row in orphans if _reply_id(row.raw)}
    if not wanted:
        return 0
    known: dict[str, str] = {}
    for chunk in chunks(sorted(set(wanted.values()))):
        query = select(POST.c.remote_id, POST.c.uri).where(
            POST.c.network == _network_literal("mastodon"), POST.c.remote_id.in_(chunk)
        )
        known.update({row.remote_id: row.uri for row in connection.execute(query)})
    linked = 0
    for row_id, parent_id in wanted.items():
        if parent_id in known:
            set_post(connection, row_id, {"parent_uri": known[parent_id]})
            linked += 1
    return linked


def _reply_id(raw: Any) -> bool:
    return isinstance(raw, dict) and raw.get("in_reply_to_id") not in (None, "")


__all__ = [
    "StoreResult",
    "chunks",
    "insert_rows",
    "link_mastodon_parents",
    "mark_deleted",
    "mark_deleted_ids",
    "post_row",
    "set_post",
    "upsert_posts",
]
