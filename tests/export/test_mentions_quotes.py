"""Mentions and quote links are stored, migrated into old databases, and attribute posts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, inspect, select, text
from sqlmodel import Session

from chatbot import db
from chatbot.collect.moderation import refresh_flags
from chatbot.eventref import resolve_event
from chatbot.export import ExportOptions, build_document
from chatbot.models import Post, SchemaVersion, utcnow
from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.normalise import from_bluesky_post_view
from tests.export.util import START, opt_out, stored_chat

MENTION = "app.bsky.richtext.facet#mention"
LINK = "app.bsky.richtext.facet#link"


def view(number: int, author: str, minutes: float, text: str, **record: Any) -> NormalisedPost:
    """A Bluesky post view as search returns it, through the real normaliser."""
    did = f"did:plc:{author}"
    created = (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return from_bluesky_post_view(
        {
            "uri": f"at://{did}/app.bsky.feed.post/{number:013d}",
            "cid": f"cid{number}",
            "author": {"did": did, "handle": f"{author}.test"},
            "record": {"text": text, "createdAt": created, **record},
            "indexedAt": created,
        }
    )


def facet(kind: str, **value: str) -> dict[str, Any]:
    return {"index": {"byteStart": 0, "byteEnd": 1}, "features": [{"$type": kind, **value}]}


ANN_URL = "https://bsky.app/profile/ann.test/post/0000000000001"


def chat() -> list[NormalisedPost]:
    """Q1 at minute 1, Q2 at minute 10 (see stored_chat); talk about Q1 after Q2 is out."""
    return [
        view(1, "ann", 8, "A1 wget and a lot of patience #sm35"),
        # A reply that begins with a mention of the person answered, after Q2.
        view(
            2, "bob", 12, "@ann.test same here! #sm35", facets=[facet(MENTION, did="did:plc:ann")]
        ),
        # A quote whose only link is the post's web address (its author by handle).
        view(3, "cat", 13, f"so true {ANN_URL} #sm35", facets=[facet(LINK, uri=ANN_URL)]),
        # Plain chatter after Q2: the clock still decides.
        view(4, "dan", 14, "fair enough #sm35"),
    ]


def attributed(engine: Engine) -> dict[str, tuple[str | None, str]]:
    with Session(engine) as session:
        event = resolve_event(session, "sm35", purpose="record", now=utcnow())
        document = build_document(session, event)
    return {p["author"]["handle"]: (p["question"], p["method"]) for p in document["posts"]}


def test_mention_and_quote_by_link_attribute_posts_from_stored_rows(engine: Engine) -> None:
    stored_chat(engine, chat())
    with Session(engine) as session:
        rows = {r.author_handle: r for r in session.execute(select(Post)).scalars()}
    assert rows["bob.test"].mentions == ["did:plc:ann"]
    assert rows["cat.test"].quote_uris == ["at://ann.test/app.bsky.feed.post/0000000000001"]
    assert rows["cat.test"].quote_uri == "at://ann.test/app.bsky.feed.post/0000000000001"
    found = attributed(engine)
    assert found["ann.test"] == ("Q1", "prefix")
    assert found["bob.test"] == ("Q1", "mention")
    assert found["cat.test"] == ("Q1", "quote")
    assert found["dan.test"] == ("Q2", "time")


def test_migration_5_fills_mentions_and_quotes_of_an_older_database(engine: Engine) -> None:
    stored_chat(engine, chat())
    with engine.begin() as connection:
        for column in ("mentions", "quote_uris"):
            connection.execute(text(f"ALTER TABLE post DROP COLUMN {column}"))
        connection.execute(text("UPDATE post SET quote_uri = NULL"))
        versions = SchemaVersion.__table__  # type: ignore[attr-defined]
        connection.execute(versions.delete())
        connection.execute(
            versions.insert().values(version=4, description="rate limits", applied_at=START)
        )
    assert "mentions" not in {c["name"] for c in inspect(engine).get_columns("post")}
    assert db.migrate(engine) == db.latest_version() >= 5
    assert {"mentions", "quote_uris"} <= {c["name"] for c in inspect(engine).get_columns("post")}
    with Session(engine) as session:
        rows = {r.author_handle: r for r in session.execute(select(Post)).scalars()}
    assert rows["bob.test"].mentions == ["did:plc:ann"]
    assert rows["cat.test"].quote_uris == ["at://ann.test/app.bsky.feed.post/0000000000001"]
    assert rows["cat.test"].quote_uri == "at://ann.test/app.bsky.feed.post/0000000000001"
    assert rows["dan.test"].mentions == [] and rows["dan.test"].quote_uris == []
    found = attributed(engine)
    assert found["bob.test"] == ("Q1", "mention")
    assert found["cat.test"] == ("Q1", "quote")
    assert db.migrate(engine) == db.latest_version()  # a second run changes nothing


def test_the_document_says_what_each_post_mentions_quotes_and_was_placed_by(
    engine: Engine,
) -> None:
    stored_chat(engine, chat())
    with Session(engine) as session:
        event = resolve_event(session, "sm35", purpose="record", now=utcnow())
        posts = {p["author"]["handle"]: p for p in build_document(session, event)["posts"]}
    ann_uri = "at://did:plc:ann/app.bsky.feed.post/0000000000001"
    assert posts["bob.test"]["mentions"] == ["did:plc:ann"]
    assert posts["bob.test"]["via"] == ann_uri  # the post its @name answers
    assert posts["cat.test"]["quotes"] == ["at://ann.test/app.bsky.feed.post/0000000000001"]
    assert posts["cat.test"]["via"] == ann_uri  # the stored post its link quotes
    assert posts["dan.test"]["via"] is None and posts["dan.test"]["mentions"] == []


def test_an_anonymised_author_leaves_no_trace_in_others_posts(engine: Engine) -> None:
    stored_chat(engine, chat())
    opt_out(engine, "ann")
    with Session(engine) as session:
        event = resolve_event(session, "sm35", purpose="record", now=utcnow())
        refresh_flags(session.connection(), event, now=START)
        session.commit()
        options = ExportOptions(anonymise_opted_out=True)
        document = build_document(session, event, options=options)
    posts = {p["text"]: p for p in document["posts"]}
    ann = posts["A1 wget and a lot of patience #sm35"]
    assert ann["author"]["handle"] == "anonymous-1"
    bob = posts["@ann.test same here! #sm35"]
    assert bob["mentions"] == ["anonymous-1"] and bob["via"] == ann["uri"]
    assert "did:plc:ann" not in json.dumps(bob)
