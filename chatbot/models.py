"""SQLModel tables: events, the outbox, collected posts, participants, cursors and overrides."""

import unicodedata
from datetime import UTC, datetime
from typing import Any, ClassVar, Optional

import sqlalchemy
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Index,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Relationship, SQLModel

from chatbot.defaults import EVENT_STATES, LIVE_EVENT_STATES

# An event with posts still to send (or sending), LIVE_EVENT_STATES: the runner and the
# controls act on these.
POST_KINDS: tuple[str, ...] = ("welcome", "question", "reminder", "wrapup")
DELIVERY_STATES: tuple[str, ...] = ("pending", "posting", "posted", "failed", "skipped")
# A delivery in one of these states may have reached the network: never rewrite it.
LOCKED_DELIVERY_STATES: frozenset[str] = frozenset({"posting", "posted"})


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def hashtag_key(hashtag: str) -> str:
    """The form of a hashtag used for matching: no '#', NFKC, lower case."""
    return unicodedata.normalize("NFKC", hashtag.lstrip("#")).lower()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine.

    PostgreSQL stores ``timestamptz``; SQLite has no zones, so UTC is stored
    naive and made aware again on the way out.  Naive input is refused: a time
    without a zone is a bug waiting for a daylight-saving change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given to the database; use UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON everywhere, JSONB (indexable, compact) on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def _states_check(column: str, states: tuple[str, ...], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{state}'" for state in states)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class SchemaVersion(SQLModel, table=True):
    """One row per applied migration; the highest version is the schema's."""

    __tablename__: ClassVar[str] = "schema_version"

    version: int = Field(primary_key=True)
    description: str
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """A hashtag chat loaded from a question file."""

    __tablename__: ClassVar[str] = "event"
    __table_args__ = (
        UniqueConstraint("hashtag_key", "start_at", name="uq_event_hashtag_start"),
        Index("ix_event_state_start", "state", "start_at"),
        _states_check("state", EVENT_STATES, "ck_event_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hashtag: str  # as written, without '#'
    hashtag_key: str = Field(index=True)  # see hashtag_key()
    title: str
    timezone: str  # IANA name
    start_at: datetime = Field(sa_type=UTCDateTime)
    end_at: datetime = Field(sa_type=UTCDateTime)
    networks: list[str] = Field(default_factory=list, sa_type=JSONType)
    moderators: list[str] = Field(default_factory=list, sa_type=JSONType)
    accounts: dict[str, str] = Field(default_factory=dict, sa_type=JSONType)  # handles only
    source_path: str
    source_sha256: str = ""
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    state: str = "scheduled"
    paused: bool = False
    collect_from: datetime = Field(sa_type=UTCDateTime)
    collect_until: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    posts: list["ScheduledPost"] = Relationship(
        back_populates="event",
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "order_by": "ScheduledPost.position",
        },
    )


class ScheduledPost(SQLModel, table=True):
    """One post of an event's plan (the outbox row); delivered per network."""

    __tablename__: ClassVar[str] = "scheduled_post"
    __table_args__ = (
        UniqueConstraint("event_id", "key", name="uq_scheduled_post_event_key"),
        Index("ix_scheduled_post_event_position", "event_id", "position"),
        _states_check("kind", POST_KINDS, "ck_scheduled_post_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    key: str  # stable identity across reloads: the label, "#2" etc. if repeated
    kind: str
    label: str  # "welcome", "Q1", "Q2a", "A1 reminder", "wrapup"
    number: int | None = None
    suffix: str = ""
    position: int  # order in the plan
    line: int = 0  # where it stands in the question file
    due_at: datetime = Field(sa_type=UTCDateTime)  # after live delays
    original_due_at: datetime = Field(sa_type=UTCDateTime)  # as planned
    # Images posted with it: the question file's checked images (file, alt, mime, size
    # in pixels and bytes, sha256), in order (migration 8).
    media: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONType, sa_column_kwargs={"server_default": "[]"}
    )
    skipped: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    event: Event | None = Relationship(back_populates="posts")
    deliveries: list["PostDelivery"] = Relationship(
        back_populates="scheduled_post",
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "order_by": "PostDelivery.network",
        },
    )


class PostDelivery(SQLModel, table=True):
    """A scheduled post on one network: what the scheduler claims and posts.

    ``due_at`` repeats the scheduled post's so the claim query
    (``state = 'pending' AND due_at <= now ... FOR NO KEY UPDATE SKIP LOCKED``)
    walks one network's pending rows in due order through one index.
    """

    __tablename__: ClassVar[str] = "post_delivery"
    __table_args__ = (
        UniqueConstraint("scheduled_post_id", "network", name="uq_post_delivery_post_network"),
        UniqueConstraint("idempotency_key", name="uq_post_delivery_idempotency_key"),
        Index("ix_post_delivery_state_due", "state", "due_at"),
        Index("ix_post_delivery_event", "event_id"),
        # The claim (bot.outbox): pending posts of one network in due order, and
        # whether an earlier post of the same event is still open (migration 9).
        Index(
            "ix_post_delivery_pending_due",
            "network",
            "due_at",
            "event_id",
            sqlite_where=sqlalchemy.text("state = 'pending'"),
            postgresql_where=sqlalchemy.text("state = 'pending'"),
        ),
        Index(
            "ix_post_delivery_open_event",
            "event_id",
            "network",
            sqlite_where=sqlalchemy.text("state IN ('pending', 'posting')"),
            postgresql_where=sqlalchemy.text("state IN ('pending', 'posting')"),
        ),
        _states_check("state", DELIVERY_STATES, "ck_post_delivery_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    scheduled_post_id: int = Field(foreign_key="scheduled_post.id", ondelete="CASCADE")
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    network: str
    text: str
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: str = "pending"
    idempotency_key: str  # Mastodon Idempotency-Key; seed of the Bluesky rkey
    attempts: int = 0  # tries that may have failed for real (max_attempts applies to these)
    # Tries the network refused with a rate limit: waits, not failures (migration 4).
    # sqlalchemy.text: in this class body, type checkers read `text` as the column above.
    rate_limited: int = Field(default=0, sa_column_kwargs={"server_default": sqlalchemy.text("0")})
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the first try that may have reached the network began (migration 12): a claim
    # taken again after a crash moves claimed_at, never this, so the Idempotency-Key's
    # hour counts from the first send however many processes stopped since.
    first_tried_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    remote_id: str | None = None  # ids stay strings end to end
    remote_uri: str | None = None
    remote_cid: str | None = None  # Bluesky needs it to reply to the post
    remote_url: str | None = None
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    scheduled_post: Optional["ScheduledPost"] = Relationship(back_populates="deliveries")


class Post(SQLModel, table=True):
    """A post collected from a network (raw JSON kept, fields normalised)."""

    __tablename__: ClassVar[str] = "post"
    __table_args__ = (
        UniqueConstraint("network", "uri", name="uq_post_network_uri"),
        Index("ix_post_event_created", "event_id", "created_at"),
        # Partial indexes: most posts are not replies, and only Mastodon posts
        # are looked up by their network's id (stream deletes, in_reply_to_id),
        # so the other rows cost an insert nothing here (migration 3).
        Index(
            "ix_post_reply_parent",
            "network",
            "parent_uri",
            sqlite_where=text("parent_uri IS NOT NULL"),
            postgresql_where=text("parent_uri IS NOT NULL"),
        ),
        Index(
            "ix_post_mastodon_id",
            "network",
            "remote_id",
            sqlite_where=text("network = 'mastodon'"),
            postgresql_where=text("network = 'mastodon'"),
        ),
        # No index on root_uri or author_id: no query looks posts up by either
        # (an event's authors are found through ix_post_event_created), and
        # they slowed ingest by up to a third (migration 2 drops them).
    )

    id: int | None = Field(default=None, primary_key=True)
    network: str
    uri: str  # at:// URI on Bluesky, the status URI on Mastodon
    remote_id: str  # status id or record key; a string, never a number
    cid: str | None = None
    url: str | None = None
    event_id: int | None = Field(default=None, foreign_key="event.id", ondelete="SET NULL")
    author_id: str  # DID or account id
    author_handle: str = ""
    author_display_name: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)
    indexed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    text: str = ""
    html: str | None = None  # Mastodon content, unsanitised as received
    lang: str | None = None
    parent_uri: str | None = None
    root_uri: str | None = None
    quote_uri: str | None = None  # the first of quote_uris
    # Migration 5: accounts the post @mentions (DID, Mastodon acct, tweet screen name)
    # and every post it quotes: embedded records, quoted statuses, post links (text,
    # link cards), as chatbot.text.posturls writes them.
    mentions: list[str] = Field(
        default_factory=list, sa_type=JSONType, sa_column_kwargs={"server_default": "[]"}
    )
    quote_uris: list[str] = Field(
        default_factory=list, sa_type=JSONType, sa_column_kwargs={"server_default": "[]"}
    )
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    question_label: str | None = None
    question_number: int | None = None
    attribution_method: str | None = None  # prefix, thread, time, ...
    attribution_confidence: float | None = None
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_reason: str | None = None
    spam_reason: str | None = None
    opted_out: bool = False
    visibility: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Migration 10: likes, reposts, quotes and replies as the network last gave them
    # (chatbot.text.engagement; None: never given), and when they were read.
    like_count: int | None = None
    repost_count: int | None = None
    quote_count: int | None = None
    reply_count: int | None = None
    counts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Participant(SQLModel, table=True):
    """An account seen in a chat, with its consent flags."""

    __tablename__: ClassVar[str] = "participant"
    __table_args__ = (
        UniqueConstraint("network", "account_id", name="uq_participant_network_account"),
    )

    id: int | None = Field(default=None, primary_key=True)
    network: str
    account_id: str  # DID on Bluesky, account id on Mastodon
    handle: str = ""
    display_name: str = ""
    followers_count: int | None = None
    opted_out: bool = False
    opt_out_reason: str | None = None
    noindex: bool = False
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CollectionCursor(SQLModel, table=True):
    """Where collection resumes for one event, network and source."""

    __tablename__: ClassVar[str] = "collection_cursor"
    __table_args__ = (
        UniqueConstraint("event_id", "network", "source", name="uq_collection_cursor_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    network: str
    source: str  # "search", "timeline", "stream" or "thread:<uri>"
    cursor: str | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# Kinds of reading that find posts (post_sighting.source, source_tally.source).
SIGHTING_SOURCES: tuple[str, ...] = (
    "timeline",  # a Mastodon-API server's hashtag timeline
    "search",  # Bluesky's searchPosts
    "thread",  # a thread or a status context read around a post
    "stream",  # a live stream (Mastodon event stream or WebSocket, Jetstream)
    "check",  # the check and final pass (Mastodon: a walk of the tag timeline)
    "account",  # authors' own timelines (where the tag timeline leaves replies out)
    "import",  # an archive brought in with ``chatbot import``
)


class PostSighting(SQLModel, table=True):
    """One source that found a post: the kind of reading, the server that answered, when first.

    A source finding the post again changes nothing (insert or ignore), so
    this costs one row per post and source however often it is read. Lookups
    of a post by its own address (a check of known posts, a thread's own
    post) are not sightings: they find nothing new.
    """

    __tablename__: ClassVar[str] = "post_sighting"
    __table_args__ = {"sqlite_with_rowid": False}

    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", primary_key=True)
    source: str = Field(primary_key=True)  # one of SIGHTING_SOURCES
    instance: str = Field(primary_key=True)  # base URL of the server (or Jetstream) that answered
    first_seen_at: datetime = Field(sa_type=UTCDateTime)


class SourceTally(SQLModel, table=True):
    """What one source did for an event on one server, summed over every collection pass.

    ``feed`` says how the server's hashtag feed stands: ``"open"``, ``"no posts
    yet"`` or ``"closed: why"`` (401, 403, 404, switched off), so a closed feed
    is never mistaken for a quiet one. ``tag_history`` keeps the server's own
    daily counts of the tag (Mastodon's ``GET /api/v1/tags/:name``).
    """

    __tablename__: ClassVar[str] = "source_tally"
    __table_args__ = (
        UniqueConstraint("event_id", "network", "instance", "source", name="uq_source_tally"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    network: str
    instance: str
    source: str
    pages: int = 0
    requests: int = 0
    errors: int = 0
    last_error: str | None = None
    feed: str | None = None
    tag_history: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONType)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttributionOverride(SQLModel, table=True):
    """A moderator's decision about which question a post answers (``None``: none).

    Kept apart from the post's automatic attribution, which is recomputed on
    every export, so re-attributing never overwrites what a person decided.
    """

    __tablename__: ClassVar[str] = "attribution_override"
    __table_args__ = (
        UniqueConstraint("event_id", "network", "uri", name="uq_attribution_override_post"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    network: str
    uri: str
    question_label: str | None = None  # e.g. "Q3"; None: the post answers no question
    note: str = ""
    set_by: str = ""
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LateReply(SQLModel, table=True):
    """A reply to a participant who asked the bot for a question ("@bot Q3?").

    One row per event, network, asker and question (the unique constraint), so
    a person asking twice, or a restart reading the request again, never gets
    a second reply.  Delivered like a ``post_delivery`` row (same states,
    idempotency key, attempts and rate-limit waits; ``bot.replies``) but apart
    from the plan: a reply never holds up a scheduled post (migration 11).
    """

    __tablename__: ClassVar[str] = "late_reply"
    __table_args__ = (
        UniqueConstraint("event_id", "network", "asker_id", "label", name="uq_late_reply_asker"),
        UniqueConstraint("idempotency_key", name="uq_late_reply_idempotency_key"),
        Index(
            "ix_late_reply_pending",
            "network",
            "due_at",
            sqlite_where=sqlalchemy.text("state IN ('pending', 'posting')"),
            postgresql_where=sqlalchemy.text("state IN ('pending', 'posting')"),
        ),
        _states_check("state", DELIVERY_STATES, "ck_late_reply_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    network: str
    asker_id: str  # DID or account id
    asker_handle: str = ""
    label: str  # the question answered: "Q3", "Q2a"
    request_uri: str  # the post that asked
    request_id: str  # its record key / status id on the bot's server
    request_cid: str = ""
    root_uri: str = ""  # its thread's root (Bluesky), to keep the reply in that thread
    root_cid: str = ""
    text: str
    due_at: datetime = Field(sa_type=UTCDateTime)  # when the request was found
    state: str = "pending"
    idempotency_key: str
    attempts: int = 0
    rate_limited: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    remote_id: str | None = None
    remote_uri: str | None = None
    remote_url: str | None = None
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


TABLES: tuple[type[SQLModel], ...] = (
    SchemaVersion,
    Event,
    ScheduledPost,
    PostDelivery,
    Post,
    Participant,
    CollectionCursor,
    AttributionOverride,
    PostSighting,
    SourceTally,
    LateReply,
)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a ``table=True`` model, for bulk statements and DDL."""
    # SQLModel sets __table__ on table models but does not declare it.
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


__all__ = [
    "DELIVERY_STATES",
    "EVENT_STATES",
    "LIVE_EVENT_STATES",
    "LOCKED_DELIVERY_STATES",
    "POST_KINDS",
    "SIGHTING_SOURCES",
    "TABLES",
    "AttributionOverride",
    "CollectionCursor",
    "Event",
    "LateReply",
    "Participant",
    "Post",
    "PostDelivery",
    "PostSighting",
    "ScheduledPost",
    "SchemaVersion",
    "SourceTally",
    "UTCDateTime",
    "hashtag_key",
    "table_of",
    "utcnow",
]
