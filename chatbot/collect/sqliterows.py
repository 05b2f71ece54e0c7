"""Post rows as SQLite's driver takes them: values converted as the column types would.

SQLAlchemy's per-value type processing costs more than SQLite's insert
itself, so the ingest fast path converts values here exactly as the column
types would (``UTCDateTime`` as naive UTC text, JSON as compact text) and
hands plain tuples to the driver. ``tests/collect/test_store_fast_path.py``
checks that the rows read back equal what SQLAlchemy would have stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, insert
from sqlalchemy.dialects import sqlite as sqlite_dialect

from chatbot import jsontext
from chatbot.models import UTCDateTime
from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.normalise import parse_time
from chatbot.text.engagement import engagement_of

_UTC_TIME = UTCDateTime()
_SQLITE = sqlite_dialect.dialect()


POST_COLUMNS = (
    "network",
    "uri",
    "remote_id",
    "cid",
    "url",
    "event_id",
    "author_id",
    "author_handle",
    "author_display_name",
    "created_at",
    "indexed_at",
    "text",
    "html",
    "lang",
    "parent_uri",
    "root_uri",
    "quote_uri",
    "mentions",
    "quote_uris",
    "tags",
    "deleted_at",
    "edited_at",
    "opted_out",
    "visibility",
    "raw",
    "first_seen_at",
    "last_seen_at",
    "like_count",
    "repost_count",
    "quote_count",
    "reply_count",
    "counts_at",
)
SQLITE_INSERT_POST = "INSERT INTO post ({}) VALUES ({})".format(
    ", ".join(f'"{name}"' for name in POST_COLUMNS), ", ".join("?" * len(POST_COLUMNS))
)


def sqlite_post_values(
    post: NormalisedPost, event_id: int | None, stamp: str | None
) -> tuple[Any, ...]:
    """``post_row`` as the tuple SQLite's driver takes, in ``POST_COLUMNS`` order.

    Values are converted as the column types would (see :func:`insert_rows`);
    ``stamp`` is the batch's ``now`` so converted.
    """
    raw = post.raw if isinstance(post.raw, dict) else dict(post.raw)
    created = post.created_at
    edited = post.edited_at
    counts = engagement_of(post.network, raw)
    return (
        post.network,
        post.uri,
        post.id,
        post.cid or None,
        post.url or None,
        event_id,
        post.author_id,
        post.author_handle,
        post.author_display_name,
        sqlite_time(created) if created is not None else stamp,
        sqlite_time(parse_time(raw.get("indexedAt"))),
        post.text,
        post.html or None,
        post.lang,
        post.parent_uri,
        post.root_uri,
        post.quote_uri,
        _sqlite_tags(post.mentions),
        _sqlite_tags(post.quote_uris),
        _sqlite_tags(post.tags),
        None,
        sqlite_time(edited) if edited is not None else None,
        post.opted_out,
        post.visibility or "public",
        jsontext.dumps(raw),
        stamp,
        stamp,
        *counts,
        stamp if counts.known else None,
    )


_last_time: tuple[Any, str] = (None, "")  # the last datetime converted, and its text


def sqlite_time(value: datetime | None) -> str | None:
    """A ``UTCDateTime`` as SQLAlchemy stores it on SQLite: naive UTC, microseconds."""
    global _last_time
    if value is None:
        return None
    last = _last_time  # one read: another thread may replace it, never half of it
    if value is last[0]:  # first/last_seen_at: one ``now`` for a whole batch
        return last[1]
    if value.tzinfo is UTC:
        text = value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"
    else:
        _UTC_TIME.process_bind_param(value, _SQLITE)  # refuses a naive datetime
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    _last_time = (value, text)
    return text


# A chat's posts carry the same few tag lists (and mostly no mentions or quotes).
_tags_json: dict[tuple[str, ...], str] = {}


def _sqlite_tags(tags: tuple[str, ...]) -> str:
    if type(tags) is not tuple:
        return jsontext.dumps(list(tags))
    text = _tags_json.get(tags)
    if text is None:
        if len(_tags_json) >= 4096:
            _tags_json.clear()
        text = _tags_json[tags] = jsontext.dumps(list(tags))
    return text


def _converter(column: Any) -> Callable[[Any], Any] | None:
    if isinstance(column.type, UTCDateTime):
        return sqlite_time
    if isinstance(column.type, JSON):
        return jsontext.dumps
    return None


def insert_rows(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys); on SQLite by one plain ``executemany``.

    SQLAlchemy's per-value type processing costs more than SQLite's insert
    itself, so on SQLite the values are converted here exactly as the column
    types would (``UTCDateTime`` as naive UTC text, JSON as text) and sent to
    the driver directly.
    """
    if connection.dialect.name != "sqlite":
        connection.execute(insert(table), [without_nul(row) for row in rows])
        return
    columns = list(rows[0])
    plan = [(name, _converter(table.c[name])) for name in columns]
    values = [
        tuple([row[name] if convert is None else convert(row[name]) for name, convert in plan])
        for row in rows
    ]
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed: PostgreSQL text and JSONB refuse them."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


__all__ = [
    "POST_COLUMNS",
    "SQLITE_INSERT_POST",
    "insert_rows",
    "sqlite_post_values",
    "sqlite_time",
    "without_nul",
]
