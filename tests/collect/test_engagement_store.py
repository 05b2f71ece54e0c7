"""Likes, reposts, quotes and replies per post: read from real payloads, stored, migrated."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, select, text
from sqlmodel import Session

from chatbot import db
from chatbot.collect.store import upsert_posts
from chatbot.models import Post, SchemaVersion
from chatbot.platforms.normalise import (
    from_bluesky_post_view,
    from_jetstream,
    from_mastodon_status,
)
from chatbot.text.engagement import Engagement, engagement_of
from tests.export.util import START
from tests.realdata import REAL_FIXTURES


def real(path: str) -> dict:  # type: ignore[type-arg]
    return json.loads((REAL_FIXTURES / path).read_text())  # type: ignore[no-any-return]


def bluesky_view() -> dict:  # type: ignore[type-arg]
    # bsky.app's searchPosts answer (2023): likeCount 7, repostCount 0, replyCount 8 and
    # no quoteCount yet (the AppView added it in 2024).
    return real("bluesky/searchPosts_atprotodart.json")["posts"][0]  # type: ignore[no-any-return]


def mastodon_status() -> dict:  # type: ignore[type-arg]
    # mastodon.social's status: one favourite.
    return real("mastodon/status_mastodon_social_hashtag.json")


def test_counts_are_read_from_real_payloads_and_unknown_is_not_zero() -> None:
    assert engagement_of("bluesky", bluesky_view()) == Engagement(7, 0, None, 8)
    assert engagement_of("mastodon", mastodon_status()) == Engagement(1, 0, 0, 0)
    jetstream = real("bluesky/jetstream_post_create_tags.json")
    assert engagement_of("bluesky", jetstream) == Engagement()  # a record has no counts
    assert not engagement_of("bluesky", jetstream).known
    assert engagement_of("twitter", {"public_metrics": {"like_count": 3, "reply_count": 1}}) == (
        Engagement(3, None, None, 1)
    )
    assert engagement_of("twitter", {"favorite_count": 2, "retweet_count": 5}) == (
        Engagement(2, 5, None, None)
    )


@given(st.dictionaries(st.sampled_from(["likeCount", "repostCount", "x"]), st.from_type(object)))
def test_a_count_is_a_non_negative_integer_or_unknown(raw: dict) -> None:  # type: ignore[type-arg]
    for value in engagement_of("bluesky", raw):
        assert value is None or (type(value) is int and value >= 0)


def stored(engine: Engine) -> dict[str, Post]:
    with Session(engine) as session:
        return {row.network: row for row in session.execute(select(Post)).scalars()}


def store(engine: Engine, posts: list, minutes: float) -> tuple[int, int]:  # type: ignore[type-arg]
    with Session(engine) as session:
        result = upsert_posts(
            session.connection(), posts, event_id=None, now=START + timedelta(minutes=minutes)
        )
        session.commit()
    return result.new, result.updated


def test_counts_are_stored_move_with_each_sighting_and_a_record_keeps_them(
    engine: Engine,
) -> None:
    view = bluesky_view()
    status = mastodon_status()
    assert store(engine, [from_bluesky_post_view(view), from_mastodon_status(status)], 0) == (2, 0)
    rows = stored(engine)
    bluesky, mastodon = rows["bluesky"], rows["mastodon"]
    assert (bluesky.like_count, bluesky.repost_count, bluesky.quote_count) == (7, 0, None)
    assert bluesky.reply_count == 8 and bluesky.counts_at == START
    assert (mastodon.like_count, mastodon.repost_count, mastodon.reply_count) == (1, 0, 0)

    # Seen again with more likes: counts move, the post is not "updated" (not an edit).
    liked = from_bluesky_post_view({**view, "likeCount": 9, "quoteCount": 2})
    boosted = from_mastodon_status({**status, "reblogs_count": 4})
    assert store(engine, [liked, boosted], 5) == (0, 0)
    rows = stored(engine)
    assert (rows["bluesky"].like_count, rows["bluesky"].quote_count) == (9, 2)
    assert rows["bluesky"].counts_at == START + timedelta(minutes=5)
    assert rows["mastodon"].repost_count == 4 and rows["mastodon"].like_count == 1

    # A payload without a count (Mastodon before 4.5: no quotes_count) keeps the stored one;
    # a Jetstream record (no counts at all) leaves them all alone.
    older = {k: v for k, v in status.items() if k != "quotes_count"}
    store(engine, [from_mastodon_status({**older, "favourites_count": 2})], 6)
    record = from_jetstream(
        {
            "did": bluesky.author_id,
            "kind": "commit",
            "commit": {
                "collection": "app.bsky.feed.post",
                "operation": "create",
                "rkey": bluesky.remote_id,
                "cid": bluesky.cid,
                "record": view["record"],
            },
        }
    )
    assert record is not None and record.uri == bluesky.uri
    store(engine, [record], 7)
    rows = stored(engine)
    assert (rows["mastodon"].like_count, rows["mastodon"].quote_count) == (2, 0)
    assert (rows["bluesky"].like_count, rows["bluesky"].counts_at) == (
        9,
        START + timedelta(minutes=5),
    )


def test_migration_10_fills_the_counts_of_an_older_database(engine: Engine) -> None:
    store(
        engine, [from_bluesky_post_view(bluesky_view()), from_mastodon_status(mastodon_status())], 0
    )
    with engine.begin() as connection:
        for column in ("like_count", "repost_count", "quote_count", "reply_count", "counts_at"):
            connection.execute(text(f"ALTER TABLE post DROP COLUMN {column}"))
        versions = SchemaVersion.__table__  # type: ignore[attr-defined]
        connection.execute(versions.delete())
        connection.execute(versions.insert().values(version=9, description="x", applied_at=START))
    assert "like_count" not in {c["name"] for c in inspect(engine).get_columns("post")}
    assert db.migrate(engine) == db.latest_version() >= 10
    rows = stored(engine)
    assert (rows["bluesky"].like_count, rows["bluesky"].reply_count) == (7, 8)
    assert rows["bluesky"].quote_count is None  # the 2023 payload did not say
    assert rows["mastodon"].like_count == 1
    assert rows["bluesky"].counts_at == rows["bluesky"].last_seen_at
    assert db.migrate(engine) == db.latest_version()  # a second run changes nothing
