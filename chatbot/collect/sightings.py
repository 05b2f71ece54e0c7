"""Where each stored post was found: one ``post_sighting`` row per post, source and server.

Written with every batch the collector stores (``upsert_posts(found_by=...)``):
one insert-or-ignore statement per batch, so a source reading the same posts
again and again costs an index probe per post and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from chatbot.collect.sqliterows import sqlite_time
from chatbot.models import SIGHTING_SOURCES, Post, PostSighting, table_of

POST = table_of(Post)
SIGHTING = table_of(PostSighting)
CHUNK = 500  # URIs per statement: well under every engine's parameter limit


@dataclass(frozen=True)
class FoundBy:
    """A source of posts: the kind of reading (``SIGHTING_SOURCES``) and the server's base URL."""

    source: str
    instance: str

    def __post_init__(self) -> None:
        if self.source not in SIGHTING_SOURCES:
            raise ValueError(f"unknown source {self.source!r}; one of {SIGHTING_SOURCES}")


_sqlite_sql: dict[int, str] = {}  # the statement for each number of URIs


def record_sightings(
    connection: Connection,
    network: str,
    uris: Sequence[str],
    found_by: FoundBy,
    *,
    now: datetime,
) -> None:
    """Record that ``found_by`` returned the stored posts among ``uris`` (others are skipped)."""
    for start in range(0, len(uris), CHUNK):
        chunk = list(uris[start : start + CHUNK])
        if connection.dialect.name == "sqlite":
            _sqlite(connection, network, chunk, found_by, sqlite_time(now))
        else:
            _portable(connection, network, chunk, found_by, now)


def _sqlite(
    connection: Connection, network: str, uris: list[str], found_by: FoundBy, stamp: str | None
) -> None:
    # Through the driver, as the post insert is: SQLAlchemy's statement building
    # would cost more than the indexed lookups themselves.
    sql = _sqlite_sql.get(len(uris))
    if sql is None:
        marks = ", ".join("?" * len(uris))
        sql = _sqlite_sql[len(uris)] = (
            "INSERT OR IGNORE INTO post_sighting (post_id, source, instance, first_seen_at) "
            f"SELECT id, ?, ?, ? FROM post WHERE network = ? AND uri IN ({marks})"
        )
    connection.exec_driver_sql(sql, (found_by.source, found_by.instance, stamp, network, *uris))


def _portable(
    connection: Connection, network: str, uris: list[str], found_by: FoundBy, now: datetime
) -> None:
    rows = select(
        POST.c.id,
        literal(found_by.source),
        literal(found_by.instance),
        literal(now, SIGHTING.c.first_seen_at.type),
    ).where(POST.c.network == network, POST.c.uri.in_(uris))
    columns = ["post_id", "source", "instance", "first_seen_at"]
    statement = pg_insert(SIGHTING).from_select(columns, rows).on_conflict_do_nothing()
    connection.execute(statement)


__all__ = ["FoundBy", "record_sightings"]
