"""The ingest fast path: rows stored as SQLAlchemy would store them; migration 2's indexes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, inspect, select, text
from sqlmodel import Session

from chatbot import db
from chatbot.collect import sqliterows
from chatbot.collect import store as store_module
from chatbot.collect.participants import upsert_participants
from chatbot.collect.store import post_row, upsert_posts
from chatbot.models import Post, SchemaVersion
from chatbot.platforms.normalise import from_bluesky_post_view, from_mastodon_status
from tests.export.util import START, post

VIEW = {
    "uri": "at://did:plc:zoe/app.bsky.feed.post/3kabc",
    "cid": "bafyzoe",
    "author": {"did": "did:plc:zoe", "handle": "zoe.test", "displayName": "Zoë 🌱"},
    "record": {
        "$type": "app.bsky.feed.post",
        "text": "A2 déjà vu 🌱 #SM35 #Other",
        "createdAt": "2030-12-03T17:05:00.123456789Z",
        "langs": ["fr"],
        "facets": [
            {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "SM35"}]},
            {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "other"}]},
        ],
        "reply": {
            "root": {"uri": "at://did:plc:x/app.bsky.feed.post/root", "cid": "c"},
            "parent": {"uri": "at://did:plc:x/app.bsky.feed.post/parent", "cid": "c"},
        },
    },
    "indexedAt": "2030-12-03T17:05:01.5+00:00",
}
STATUS = {
    "id": "111",
    "uri": "https://masto.test/users/kim/statuses/111",
    "url": "https://masto.test/@kim/111",
    "created_at": "2030-12-03T18:06:00.000+01:00",
    "edited_at": "2030-12-03T17:07:00.000Z",
    "content": "<p>A3 <a href='https://masto.test/tags/sm35'>#sm35</a> yes</p>",
    "visibility": "unlisted",
    "language": None,
    "tags": [{"name": "sm35"}],
    "account": {"id": "9", "acct": "kim@masto.test", "display_name": "Kim", "note": ""},
}


def test_stored_rows_are_what_sqlalchemy_would_store(engine: Engine) -> None:
    now = START + timedelta(minutes=9)
    posts = [
        from_bluesky_post_view(VIEW),
        from_mastodon_status(STATUS),
        post(1, "plain", tags=(), created_at=datetime(2030, 12, 3, 12, 1, tzinfo=UTC)),
        post(
            2, "zoned", created_at=datetime(2030, 12, 3, 19, 2, tzinfo=timezone(timedelta(hours=2)))
        ),
    ]
    with Session(engine) as session:
        result = upsert_posts(session.connection(), posts, event_id=None, now=now)
        upsert_participants(session.connection(), posts, now=now)
        session.commit()
    assert result.new == 4 and sorted(result.new_uris) == sorted(p.uri for p in posts)
    with Session(engine) as session:
        stored = {row.uri: row for row in session.execute(select(Post)).scalars()}
    for item in posts:
        expected = post_row(item, None, now)
        assert tuple(expected) == sqliterows.POST_COLUMNS
        row = stored[item.uri]
        assert {name: getattr(row, name) for name in expected} == expected, item.uri
    zoe = stored[VIEW["uri"]]
    assert zoe.tags == ["sm35", "other"] and zoe.raw == VIEW
    assert zoe.created_at == datetime(2030, 12, 3, 17, 5, 0, 123456, tzinfo=UTC)
    assert zoe.indexed_at == datetime(2030, 12, 3, 17, 5, 1, 500000, tzinfo=UTC)
    assert stored[posts[3].uri].created_at == datetime(2030, 12, 3, 17, 2, tzinfo=UTC)


def test_edits_are_compared_with_the_stored_times(engine: Engine) -> None:
    edited = from_mastodon_status(STATUS)

    def store(item, minutes):  # type: ignore[no-untyped-def]
        with Session(engine) as session:
            now = START + timedelta(minutes=minutes)
            done = upsert_posts(session.connection(), [item], event_id=None, now=now)
            session.commit()
        return done

    assert store(edited, 10).new == 1
    assert store(edited, 11).unchanged == 1  # the same edit time read back: no change
    later = replace(edited, edited_at=edited.edited_at + timedelta(minutes=1), text="A3 no")
    assert store(later, 12).updated == 1
    with Session(engine) as session:
        row = session.execute(select(Post)).scalars().one()
    assert (row.text, row.edited_at) == ("A3 no", later.edited_at)


def test_migration_2_drops_the_unused_post_indexes(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE INDEX ix_post_network_root ON post (network, root_uri)"))
        connection.execute(text("CREATE INDEX ix_post_network_author ON post (network, author_id)"))
        connection.execute(SchemaVersion.__table__.delete())  # type: ignore[attr-defined]
        connection.execute(
            SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                version=1, description="initial schema", applied_at=START
            )
        )
    assert db.migrate(engine) == db.latest_version()
    names = {index["name"] for index in inspect(engine).get_indexes("post")}
    assert "ix_post_network_root" not in names and "ix_post_network_author" not in names
    assert "ix_post_event_created" in names
    assert db.migrate(engine) == db.latest_version()  # a second run changes nothing


def test_migration_3_makes_the_post_indexes_partial(engine: Engine) -> None:
    with engine.begin() as connection:
        for name in ("ix_post_reply_parent", "ix_post_mastodon_id"):
            connection.execute(text(f"DROP INDEX {name}"))
        connection.execute(
            text("CREATE INDEX ix_post_network_parent ON post (network, parent_uri)")
        )
        connection.execute(SchemaVersion.__table__.delete())  # type: ignore[attr-defined]
        connection.execute(
            SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                version=2, description="drop unused post indexes", applied_at=START
            )
        )
    assert db.migrate(engine) == db.latest_version()
    names = {index["name"] for index in inspect(engine).get_indexes("post")}
    assert "ix_post_network_parent" not in names
    assert {"ix_post_reply_parent", "ix_post_mastodon_id"} <= names


def _plan(engine: Engine, query: object) -> str:
    """The planner's choice for ``query`` as one string (SQLite or PostgreSQL)."""
    compiled = query.compile(engine, compile_kwargs={"render_postcompile": True})  # type: ignore[attr-defined]
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # The tables are empty: ask for the plan an index would give.
            connection.exec_driver_sql("SET enable_seqscan = off")
            rows = connection.exec_driver_sql(
                "EXPLAIN " + str(compiled), compiled.params
            ).fetchall()
        else:
            rows = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled), tuple(compiled.params.values())
            ).fetchall()
    return " ".join(str(value) for row in rows for value in row)


def test_mastodon_id_and_reply_lookups_use_their_partial_indexes(engine: Engine) -> None:
    # Stream deletes and in_reply_to_id links look Mastodon posts up by id;
    # without its index each lookup read every post of every event.
    by_id = select(store_module.POST.c.uri).where(
        store_module.POST.c.network == store_module._network_literal("mastodon"),
        store_module.POST.c.remote_id.in_(["111", "112"]),
    )
    assert "ix_post_mastodon_id" in _plan(engine, by_id)
    replies = select(store_module.POST.c.uri).where(
        store_module.POST.c.network == "bluesky",
        store_module.POST.c.parent_uri.in_(["at://a/app.bsky.feed.post/1"]),
    )
    assert "ix_post_reply_parent" in _plan(engine, replies)


def test_a_stream_delete_finds_the_mastodon_post_by_its_id(engine: Engine) -> None:
    now = START + timedelta(minutes=9)
    with Session(engine) as session:
        connection = session.connection()
        upsert_posts(connection, [from_mastodon_status(STATUS)], event_id=None, now=now)
        assert store_module.mark_deleted_ids(connection, "mastodon", ["111"], now=now) == 1
        assert store_module.mark_deleted_ids(connection, "bluesky", ["111"], now=now) == 0
        session.commit()
    with Session(engine) as session:
        assert session.execute(select(Post.deleted_at)).scalar_one() is not None
