"""Database engines, sessions and schema migrations (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    SQLAlchemyError,
)
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, col

from chatbot import jsontext, models
from chatbot.defaults import DATABASE_URL_ENV, DEFAULT_DATABASE_URL
from chatbot.errors import ConfigError, StorageError, UnreachableDatabaseError
from chatbot.text.engagement import COUNT_FIELDS, engagement_of
from chatbot.text.postrefs import refs_of

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT = 10  # seconds to make a connection (libpq's connect_timeout)
POSTGRES_STATEMENT_TIMEOUT = 300  # seconds one statement may run or wait on a lock
# Any constant works; it only has to be the same in every bot process.
_PG_MIGRATION_LOCK = 0x63686174


def database_url_from_env(environ: dict[str, str] | None = None) -> str:
    """The database URL from ``CHATBOT_DATABASE_URL``, or the default SQLite file."""
    environ = dict(os.environ) if environ is None else environ
    return environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def normalise_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact_url(url: object) -> str:
    """The URL with its password hidden, safe to print or log."""
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


def create_engine_for(url: str | None = None, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (default ``sqlite:///chatbot.db`` in the working directory).

    SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE``
    transactions (so a reader never has to upgrade to a writer and fail with
    "database is locked").  Nothing is connected until first use.
    """
    raw = normalise_url(url or DEFAULT_DATABASE_URL)
    try:
        parsed = make_url(raw)
    except ArgumentError:
        # Without a parse we cannot find a password in it: show it only if it has none.
        shown = repr(raw) if not any(c in raw for c in ":@") else "the database URL"
        raise ConfigError(
            f"{shown} is not a database URL; use e.g. sqlite:///chatbot.db "
            "or postgresql+psycopg://user@host:5432/dbname"
        ) from None
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed.render_as_string(hide_password=False), echo=echo)
        return create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            json_serializer=jsontext.dumps,
            connect_args=postgres_connect_args(parsed.query),
        )
    except (NoSuchModuleError, ModuleNotFoundError) as error:
        raise ConfigError(
            f"no database driver for {redact_url(raw)} ({error}); "
            "use sqlite:///FILE or postgresql+psycopg://..."
        ) from None


def postgres_connect_args(query: Mapping[str, Any]) -> dict[str, Any]:
    """Timeouts for a PostgreSQL connection, unless the URL's query sets its own.

    Without them a server that accepts connections and never answers stalls
    every command for minutes (the operating system's TCP timeout): a
    connection must be made within ``POSTGRES_CONNECT_TIMEOUT`` seconds, and a
    statement that runs (or waits on a lock) for ``POSTGRES_STATEMENT_TIMEOUT``
    is stopped. ``?connect_timeout=N`` or ``?options=-c statement_timeout=...``
    in the URL win.
    """
    found: dict[str, Any] = {}
    if "connect_timeout" not in query:
        found["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT
    if "options" not in query:
        found["options"] = f"-c statement_timeout={POSTGRES_STATEMENT_TIMEOUT * 1000}"
    return found


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    in_memory = make_url(url).database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        "json_serializer": jsontext.dumps,
    }
    if in_memory:
        kwargs.update(poolclass=StaticPool)
        kwargs["connect_args"]["check_same_thread"] = False
    engine = create_engine(url, echo=echo, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def storage_error(error: SQLAlchemyError, engine_url: object = None) -> StorageError:
    """Our error for a database failure: what happened, where, without SQL or password."""
    original = getattr(error, "orig", None) or error
    detail = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
    )
    where = f" at {redact_url(engine_url)}" if engine_url is not None else ""
    if (isinstance(error, DBAPIError) and error.connection_invalidated) or _is_connect_error(error):
        hint = "check that the database server is running and the URL is right"
        if str(engine_url or "").startswith("sqlite"):
            hint = "check that the file's directory exists and is writable"
        return UnreachableDatabaseError(f"cannot use the database{where}: {detail}; {hint}")
    if isinstance(error, IntegrityError):
        return StorageError(
            f"the database{where} refused the change: {detail}; if another process changed "
            "the same event at the same time, run the command again"
        )
    return StorageError(f"the database{where} refused the change: {detail}")


def _is_connect_error(error: SQLAlchemyError) -> bool:
    # By the driver's own class or any it derives from (psycopg's ConnectionTimeout is an
    # OperationalError).
    names = {cls.__name__ for cls in type(getattr(error, "orig", None)).__mro__}
    message = str(getattr(error, "orig", error)).lower()
    words = ("connect", "unable to open", "could not", "refused", "resolve", "timeout")
    return bool(names & {"OperationalError", "InterfaceError"}) and any(
        word in message for word in words
    )


@contextmanager
def translate_errors(url: object = None) -> Iterator[None]:
    """Turn SQLAlchemy errors raised inside the block into :class:`StorageError`."""
    try:
        yield
    except SQLAlchemyError as error:
        raise storage_error(error, url) from error


@contextmanager
def session_scope(engine: Engine, *, dry_run: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed at the end, or rolled back.

    With ``dry_run`` everything done inside is rolled back, schema changes
    included (both engines have transactional DDL).
    """
    with translate_errors(engine.url), Session(engine) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
        else:
            session.commit()


# --- migrations -------------------------------------------------------------

Migration = tuple[int, str, Callable[[Connection], None]]


def _initial_schema(connection: Connection) -> None:
    SQLModel.metadata.create_all(connection, tables=[models.table_of(m) for m in models.TABLES])


def _drop_unused_post_indexes(connection: Connection) -> None:
    # Nothing looks posts up by root URI or by author alone; both slowed ingest.
    for name in ("ix_post_network_root", "ix_post_network_author"):
        connection.execute(text(f"DROP INDEX IF EXISTS {name}"))


def _partial_post_indexes(connection: Connection) -> None:
    # Replies only, and Mastodon ids only: see the Post model.
    connection.execute(text("DROP INDEX IF EXISTS ix_post_network_parent"))
    post = models.table_of(models.Post)
    for index in post.indexes:
        if index.name in ("ix_post_reply_parent", "ix_post_mastodon_id"):
            index.create(connection, checkfirst=True)


def _rate_limited_count(connection: Connection) -> None:
    # Tries refused with a rate limit are counted apart from attempts (see PostDelivery).
    # Old rows keep their attempts: which of them were rate limited is not known.
    if "rate_limited" not in {c["name"] for c in inspect(connection).get_columns("post_delivery")}:
        connection.execute(
            text("ALTER TABLE post_delivery ADD COLUMN rate_limited INTEGER NOT NULL DEFAULT 0")
        )


def _first_tried_at(connection: Connection) -> None:
    # When the first try that may have reached the network began (PostDelivery). A row
    # in flight now takes its claim time: the best that is known of it.
    columns = {c["name"] for c in inspect(connection).get_columns("post_delivery")}
    if "first_tried_at" not in columns:
        kind = models.table_of(models.PostDelivery).c.first_tried_at.type
        compiled = kind.compile(dialect=connection.dialect)
        connection.execute(text(f"ALTER TABLE post_delivery ADD COLUMN first_tried_at {compiled}"))
        connection.execute(
            text(
                "UPDATE post_delivery SET first_tried_at = claimed_at "
                "WHERE state = 'posting' OR (attempts > 0 AND state = 'pending')"
            )
        )


def _attribution_overrides(connection: Connection) -> None:
    # The moderator's decisions about posts' questions, apart from the automatic attribution.
    models.table_of(models.AttributionOverride).create(connection, checkfirst=True)


def _coverage_tables(connection: Connection) -> None:
    # Where each post was found, and what each source did: the coverage report.
    # Posts stored before have no sightings: the report counts them as "source unknown".
    for model in (models.PostSighting, models.SourceTally):
        models.table_of(model).create(connection, checkfirst=True)


_BACKFILL_BATCH = 1000


def _post_mentions_and_quotes(connection: Connection) -> None:
    # Mentions and every quote target (post links in text and link cards too) are
    # stored per post: the attributor's mention and quote evidence needs them.
    post = models.table_of(models.Post)
    present = {c["name"] for c in inspect(connection).get_columns("post")}
    for name in ("mentions", "quote_uris"):
        if name not in present:
            kind = post.c[name].type.compile(dialect=connection.dialect)
            connection.execute(
                text(f"ALTER TABLE post ADD COLUMN {name} {kind} NOT NULL DEFAULT '[]'")
            )
    # Backfill from each row's raw JSON, a batch at a time (ordered by id, so the
    # memory used stays that of one batch however many posts are stored).
    last = 0
    while True:
        rows = connection.execute(
            select(post.c.id, post.c.network, post.c.raw, post.c.quote_uri)
            .where(post.c.id > last)
            .order_by(post.c.id)
            .limit(_BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changes = []
        for row in rows:
            mentions, quotes = refs_of(row.network, row.raw)
            if mentions or quotes:
                first = row.quote_uri or (quotes[0] if quotes else None)
                changes.append(
                    {"row": row.id, "m": list(mentions), "q": list(quotes), "first": first}
                )
        if changes:
            connection.execute(
                post.update()
                .where(post.c.id == bindparam("row"))
                .values(
                    mentions=bindparam("m"), quote_uris=bindparam("q"), quote_uri=bindparam("first")
                ),
                changes,
            )


def _scheduled_post_media(connection: Connection) -> None:
    # The images a post carries (question files' `![alt](file)`); old posts have none.
    if "media" not in {c["name"] for c in inspect(connection).get_columns("scheduled_post")}:
        kind = models.table_of(models.ScheduledPost).c["media"].type
        shown = kind.compile(dialect=connection.dialect)
        connection.execute(
            text(f"ALTER TABLE scheduled_post ADD COLUMN media {shown} NOT NULL DEFAULT '[]'")
        )


def _claim_indexes(connection: Connection) -> None:
    # The claim reads one network's pending posts in due order and probes an
    # event's open posts, instead of loading every live event's posts.
    delivery = models.table_of(models.PostDelivery)
    for index in delivery.indexes:
        if index.name in ("ix_post_delivery_pending_due", "ix_post_delivery_open_event"):
            index.create(connection, checkfirst=True)


def _post_counts(connection: Connection) -> None:
    # Likes, reposts, quotes and replies per post, filled from each row's raw JSON
    # (the payload kept when it was stored) where that payload carried them.
    post = models.table_of(models.Post)
    present = {c["name"] for c in inspect(connection).get_columns("post")}
    for name in (*COUNT_FIELDS, "counts_at"):
        if name not in present:
            kind = post.c[name].type.compile(dialect=connection.dialect)
            connection.execute(text(f"ALTER TABLE post ADD COLUMN {name} {kind}"))
    last = 0
    while True:
        rows = connection.execute(
            select(post.c.id, post.c.network, post.c.raw, post.c.last_seen_at)
            .where(post.c.id > last)
            .order_by(post.c.id)
            .limit(_BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changes = []
        for row in rows:
            counts = engagement_of(row.network, row.raw)
            if counts.known:
                changes.append({"row": row.id, "at": row.last_seen_at, **counts.columns()})
        if changes:
            connection.execute(
                post.update()
                .where(post.c.id == bindparam("row"))
                .values(
                    counts_at=bindparam("at"),
                    **{name: bindparam(name) for name in COUNT_FIELDS},
                ),
                changes,
            )


def _late_replies(connection: Connection) -> None:
    # Replies to participants who ask the bot for a question (bot.asking, bot.replies).
    models.table_of(models.LateReply).create(connection, checkfirst=True)


# Append only; never edit a released step.  A fresh database gets the current
# tables from the models and is stamped with the latest version, so a step only
# runs on databases made before it.
MIGRATIONS: list[Migration] = [
    (1, "initial schema", _initial_schema),
    (2, "drop unused post indexes (root URI, author)", _drop_unused_post_indexes),
    (3, "partial post indexes: reply parents, Mastodon ids", _partial_post_indexes),
    (4, "post_delivery.rate_limited: rate-limit waits apart from attempts", _rate_limited_count),
    (
        5,
        "post.mentions, post.quote_uris: filled from each post's raw JSON",
        _post_mentions_and_quotes,
    ),
    (6, "attribution_override: moderators' decisions on posts' questions", _attribution_overrides),
    (7, "post_sighting, source_tally: where each post was found (coverage)", _coverage_tables),
    (8, "scheduled_post.media: the images a post carries", _scheduled_post_media),
    (9, "post_delivery indexes for claims: pending by due time, open by event", _claim_indexes),
    (10, "post like/repost/quote/reply counts: filled from each post's raw JSON", _post_counts),
    (11, "late_reply: answers to participants who ask for a question", _late_replies),
    (12, "post_delivery.first_tried_at: the key's hour counts from the first try", _first_tried_at),
]


def latest_version() -> int:
    """The schema version this code expects."""
    return MIGRATIONS[-1][0]


def schema_version(connection: Connection) -> int | None:
    """The database's schema version, or None for a database never migrated."""
    if not inspect(connection).has_table("schema_version"):
        return None
    version = (
        connection.execute(
            select(col(models.SchemaVersion.version)).order_by(
                col(models.SchemaVersion.version).desc()
            )
        )
        .scalars()
        .first()
    )
    return version


def migrate(bind: Connection | Session | Engine) -> int:
    """Bring the schema up to date (idempotent); returns the version.

    Runs in the caller's transaction when given a connection or session.
    """
    if isinstance(bind, Engine):
        with translate_errors(bind.url), bind.begin() as connection:
            return migrate(connection)
    connection = bind.connection() if isinstance(bind, Session) else bind
    with translate_errors(connection.engine.url):
        if connection.dialect.name == "postgresql":
            # Two bot processes starting together must not both migrate.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        current = schema_version(connection)
        newest = latest_version()
        if current is None:
            SQLModel.metadata.create_all(
                connection, tables=[models.table_of(m) for m in models.TABLES]
            )
            _record(connection, newest, "created at the current schema")
            return newest
        if current > newest:
            raise StorageError(
                f"the database schema is version {current}, newer than this chatbot "
                f"knows ({newest}); upgrade chatbot"
            )
        for version, description, step in MIGRATIONS:
            if version > current:
                step(connection)
                _record(connection, version, description)
        return newest


def _record(connection: Connection, version: int, description: str) -> None:
    connection.execute(
        models.table_of(models.SchemaVersion)
        .insert()
        .values(version=version, description=description, applied_at=models.utcnow())
    )


@contextmanager
def open_store(url: str | None = None, *, migrated: bool = True) -> Iterator[Engine]:
    """The database of ``url`` (default: the environment's, else ``chatbot.db``), up to date.

    The one way a command opens the store: the schema is migrated before any
    work, and the engine's connections are closed when the block ends, even
    on an error. ``migrated=False`` leaves migrating to the caller's own
    transaction (``chatbot load --dry-run`` must leave even a new database as
    it was).
    """
    engine = create_engine_for(url)
    try:
        if migrated:
            migrate(engine)
        yield engine
    finally:
        engine.dispose()


__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "MIGRATIONS",
    "create_engine_for",
    "database_url_from_env",
    "latest_version",
    "migrate",
    "normalise_url",
    "open_store",
    "redact_url",
    "schema_version",
    "session_scope",
    "storage_error",
    "translate_errors",
]
