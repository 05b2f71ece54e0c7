"""The tables, the engine and the migrations, on real SQLite and PostgreSQL databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from chatbot import db
from chatbot.errors import ConfigError, StorageError
from chatbot.models import (
    TABLES,
    CollectionCursor,
    Event,
    Participant,
    Post,
    PostDelivery,
    ScheduledPost,
    SchemaVersion,
    hashtag_key,
)

T0 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def _event(**overrides: object) -> Event:
    values: dict[str, object] = dict(
        hashtag="SM35",
        hashtag_key="sm35",
        title="Social media",
        timezone="America/New_York",
        start_at=T0,
        end_at=T0 + timedelta(hours=1),
        source_path="/q/sm35.md",
        collect_from=T0 - timedelta(minutes=15),
        collect_until=T0 + timedelta(hours=2),
        networks=["bluesky", "mastodon"],
    )
    values.update(overrides)
    return Event(**values)  # type: ignore[arg-type]


def _scheduled(event_id: int) -> ScheduledPost:
    return ScheduledPost(
        event_id=event_id,
        key="Q1",
        kind="question",
        label="Q1",
        number=1,
        position=1,
        due_at=T0,
        original_due_at=T0,
    )


def test_all_tables_created(engine):
    names = set(inspect(engine).get_table_names())
    assert {model.__tablename__ for model in TABLES} <= names
    assert {
        "event",
        "scheduled_post",
        "post_delivery",
        "post",
        "participant",
        "collection_cursor",
        "schema_version",
    } <= names


def test_claim_index_and_unique_constraints_exist(engine):
    inspector = inspect(engine)
    indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("post_delivery")}
    assert indexes["ix_post_delivery_state_due"] == ["state", "due_at"]
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("post_delivery")}
    assert ("scheduled_post_id", "network") in uniques
    assert ("network", "uri") in {
        tuple(u["column_names"]) for u in inspector.get_unique_constraints("post")
    }


def test_no_column_could_hold_a_credential(engine):
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            assert not any(word in column["name"] for word in ("password", "token", "secret")), (
                f"{table}.{column['name']}"
            )


def test_schema_version_recorded_and_migration_idempotent(engine):
    assert db.migrate(engine) == db.latest_version()
    assert db.migrate(engine) == db.latest_version()
    with Session(engine) as session:
        versions = session.exec(select(SchemaVersion.version)).all()
    assert versions == [db.latest_version()]


def test_a_new_migration_runs_once(engine, monkeypatch):
    ran: list[int] = []

    def add_column(connection: Connection) -> None:
        ran.append(1)
        connection.execute(text("ALTER TABLE participant ADD COLUMN pronouns VARCHAR"))

    steps = [*db.MIGRATIONS, (db.latest_version() + 1, "participant pronouns", add_column)]
    monkeypatch.setattr(db, "MIGRATIONS", steps)
    assert db.migrate(engine) == steps[-1][0]
    assert db.migrate(engine) == steps[-1][0]
    assert ran == [1]
    assert "pronouns" in {c["name"] for c in inspect(engine).get_columns("participant")}
    with Session(engine) as session:
        rows = session.exec(select(SchemaVersion).order_by(SchemaVersion.version)).all()
    assert [(r.version, r.description) for r in rows][-1] == (steps[-1][0], "participant pronouns")


def test_a_newer_database_is_refused(engine):
    with engine.begin() as connection:
        connection.execute(
            SchemaVersion.__table__.insert().values(
                version=db.latest_version() + 5, description="future", applied_at=T0
            )
        )
    with pytest.raises(StorageError, match="newer than this chatbot knows"):
        db.migrate(engine)


def test_times_come_back_aware_in_utc(engine):
    zoned = datetime(2026, 12, 1, 12, 0, tzinfo=__import__("zoneinfo").ZoneInfo("America/New_York"))
    with Session(engine) as session:
        event = _event(start_at=zoned)
        session.add(event)
        session.commit()
        event_id = event.id
    with Session(engine) as session:
        stored = session.get(Event, event_id)
        assert stored is not None
        assert stored.start_at == T0
        assert stored.start_at.tzinfo is not None and stored.start_at.utcoffset() == timedelta(0)
        assert stored.networks == ["bluesky", "mastodon"]


def test_naive_times_are_refused(engine):
    with Session(engine) as session:
        session.add(_event(start_at=datetime(2026, 12, 1, 12, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_unique_event_per_hashtag_and_start(engine):
    with Session(engine) as session:
        session.add(_event())
        session.add(_event(source_path="/other.md"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_one_delivery_per_post_and_network_and_cascade(engine):
    with Session(engine) as session:
        event = _event()
        session.add(event)
        session.flush()
        post = _scheduled(event.id)
        session.add(post)
        session.flush()
        for key in ("k1", "k2"):
            session.add(
                PostDelivery(
                    scheduled_post_id=post.id,
                    event_id=event.id,
                    network="bluesky",
                    text="Q1",
                    due_at=T0,
                    idempotency_key=key,
                )
            )
        with pytest.raises(IntegrityError):
            session.commit()
    with Session(engine) as session:
        event = _event()
        session.add(event)
        session.flush()
        post = _scheduled(event.id)
        session.add(post)
        session.flush()
        session.add(
            PostDelivery(
                scheduled_post_id=post.id,
                event_id=event.id,
                network="bluesky",
                text="Q1",
                due_at=T0,
                idempotency_key="k1",
            )
        )
        session.commit()
        session.delete(event)
        session.commit()
        assert session.exec(select(PostDelivery)).all() == []
        assert session.exec(select(ScheduledPost)).all() == []


def test_delivery_state_is_checked(engine):
    with Session(engine) as session:
        event = _event()
        session.add(event)
        session.flush()
        post = _scheduled(event.id)
        session.add(post)
        session.flush()
        session.add(
            PostDelivery(
                scheduled_post_id=post.id,
                event_id=event.id,
                network="bluesky",
                text="Q1",
                due_at=T0,
                idempotency_key="k",
                state="sent",
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_collected_posts_participants_and_cursors(engine):
    with Session(engine) as session:
        event = _event()
        session.add(event)
        session.flush()
        raw = {"uri": "at://did:plc:abc/app.bsky.feed.post/3k", "record": {"text": "A1 yes #sm35"}}
        session.add(
            Post(
                network="bluesky",
                uri=raw["uri"],
                remote_id="3k",
                event_id=event.id,
                author_id="did:plc:abc",
                created_at=T0,
                text="A1 yes #sm35",
                tags=["sm35"],
                raw=raw,
            )
        )
        session.add(
            Participant(network="mastodon", account_id="109876543210987654", handle="a@b.c")
        )
        session.add(
            CollectionCursor(event_id=event.id, network="bluesky", source="search", cursor="25")
        )
        session.commit()
        post = session.exec(select(Post)).one()
        assert post.raw == raw and post.tags == ["sm35"]
        assert session.exec(select(Participant)).one().account_id == "109876543210987654"
        session.add(
            Post(network="bluesky", uri=raw["uri"], remote_id="3k", author_id="x", created_at=T0)
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    engine = db.create_engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (
            connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
        )
    engine.dispose()


def test_dry_run_session_rolls_back_the_schema_too(tmp_path):
    engine = db.create_engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    with db.session_scope(engine, dry_run=True) as session:
        db.migrate(session)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_urls_are_redacted_and_normalised():
    assert db.redact_url("postgresql+psycopg://bot:s3cret@db:5432/chat") == (
        "postgresql+psycopg://bot:***@db:5432/chat"
    )
    assert db.normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.database_url_from_env({}) == "sqlite:///chatbot.db"
    assert db.database_url_from_env({"CHATBOT_DATABASE_URL": "sqlite:///x.db"}) == "sqlite:///x.db"


def test_a_bad_url_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^'not a url' is not a database URL"):
        db.create_engine_for("not a url")
    with pytest.raises(ConfigError, match=r"^the database URL is not a database URL"):
        db.create_engine_for("bot:s3cret@db")
    with pytest.raises(ConfigError, match="no database driver"):
        db.create_engine_for("oracle+nosuchdriver://u@h/d")


def test_an_unreachable_server_is_a_storage_error_without_the_password():
    engine = db.create_engine_for(
        "postgresql+psycopg://bot:s3cret@127.0.0.1:1/chat?connect_timeout=2"
    )
    with pytest.raises(StorageError) as caught:
        db.migrate(engine)
    message = str(caught.value)
    assert message.startswith(
        "cannot use the database at postgresql+psycopg://bot:***@127.0.0.1:1/chat"
    )
    assert "s3cret" not in message
    assert "check that the database server is running" in message


def test_an_unwritable_sqlite_path_is_a_storage_error(tmp_path):
    engine = db.create_engine_for(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    with pytest.raises(StorageError, match="directory exists and is writable"):
        db.migrate(engine)


@pytest.mark.parametrize(
    ("given", "key"), [("SM35", "sm35"), ("#HashTag", "hashtag"), ("ＳＭ３５", "sm35")]
)
def test_hashtag_key(given, key):
    assert hashtag_key(given) == key


def test_due_deliveries_can_be_claimed_with_skip_locked(postgres_engine):
    """The scheduler's claim query: two claimers never get the same row (a PostgreSQL feature;
    SQLite serialises writers)."""
    engine = postgres_engine
    with Session(engine) as session:
        event = _event()
        session.add(event)
        session.flush()
        post = _scheduled(event.id)
        session.add(post)
        session.flush()
        for network in ("bluesky", "mastodon"):
            session.add(
                PostDelivery(
                    scheduled_post_id=post.id,
                    event_id=event.id,
                    network=network,
                    text="Q1",
                    due_at=T0,
                    idempotency_key=network,
                )
            )
        session.commit()

    def claim(session: Session) -> list[str]:
        query = (
            select(PostDelivery)
            .where(PostDelivery.state == "pending", PostDelivery.due_at <= T0)
            .order_by(PostDelivery.due_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return [d.network for d in session.exec(query)]

    with Session(engine) as first, Session(engine) as second:
        got_first = claim(first)
        got_second = claim(second)
        assert len(got_first) == len(got_second) == 1
        assert got_first != got_second
        with Session(engine) as third:
            assert claim(third) == []
