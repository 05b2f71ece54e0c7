"""Counts, links and media in the transcript document and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from chatbot.eventref import resolve_event
from chatbot.export import build_document
from chatbot.export.postparts import links_of, media_of
from chatbot.export.tabular import CSV_COLUMNS, to_csv
from chatbot.models import utcnow
from tests.export.util import post, stored_chat
from tests.realdata import REAL_FIXTURES

LINK = "app.bsky.richtext.facet#link"


def view(text: str, **fields: Any) -> dict[str, Any]:
    """A post view's JSON as getPosts gives it: the record and the counts beside it."""
    record = {"text": text, **fields.pop("record", {})}
    return {"record": record, **fields}


def document(engine: Engine, event_id: int) -> dict[str, Any]:
    with Session(engine) as session:
        event = resolve_event(session, str(event_id), purpose="record", now=utcnow())
        return build_document(session, event)


def test_each_post_carries_its_counts_links_and_media_into_the_document_and_csv(
    engine: Engine,
) -> None:
    article = "https://example.org/notes?id=1"
    raw = view(
        "A1 read this #sm35",
        likeCount=4, repostCount=1, quoteCount=0, replyCount=2,
        record={
            "facets": [{"index": {}, "features": [{"$type": LINK, "uri": article}]}],
            "embed": {
                "$type": "app.bsky.embed.images",
                "images": [{"alt": "a chart"}, {"alt": " "}],
            },
        },
    )  # fmt: skip
    event_id = stored_chat(
        engine,
        [
            post(1, "A1 read this #sm35", author="ann", raw=raw),
            post(2, "A1 no counts known #sm35", author="bob"),
        ],
    )
    posts = {p["author"]["handle"]: p for p in document(engine, event_id)["posts"]}
    ann, bob = posts["ann.test"], posts["bob.test"]
    assert {k: ann["engagement"][k] for k in ("likes", "reposts", "quotes", "replies")} == {
        "likes": 4, "reposts": 1, "quotes": 0, "replies": 2,
    }  # fmt: skip
    assert ann["engagement"]["counted_at"] is not None
    assert ann["links"] == [article]
    assert ann["media"] == [{"type": "image", "alt": True}, {"type": "image", "alt": False}]
    assert bob["engagement"]["likes"] is None and bob["engagement"]["counted_at"] is None
    assert (bob["links"], bob["media"]) == ([], [])

    rows = {
        row["author_handle"]: row
        for row in csv.DictReader(io.StringIO(to_csv(document(engine, event_id))))
    }
    assert {"likes", "reposts", "quotes", "replies"} <= set(CSV_COLUMNS)
    assert [rows["ann.test"][k] for k in ("likes", "reposts", "quotes", "replies")] == [
        "4", "1", "0", "2",
    ]  # fmt: skip
    assert [rows["bob.test"][k] for k in ("likes", "reposts", "quotes", "replies")] == [""] * 4


def test_links_and_media_of_real_payloads_leave_post_addresses_and_mentions_out() -> None:
    thread = json.loads((REAL_FIXTURES / "bluesky/getPostThread_embed_media.json").read_text())
    anchor = thread["thread"]["post"]
    # A quote with an image: the image is media; the quoted post is a quote, not a link.
    assert media_of("bluesky", anchor) == [{"type": "image", "alt": False}]
    assert links_of("bluesky", anchor) == []
    status = {
        "content": '<p><span class="h-card"><a href="https://m.example/@ann" class="u-url '
        'mention">@ann</a></span> see <a href="https://example.org/x">example.org/x</a> '
        '<a href="https://m.example/tags/sm35" class="mention hashtag">#sm35</a> and '
        '<a href="https://m.example/@bob/1234">a post</a></p>',
        "card": {"url": "https://example.org/x"},
        "media_attachments": [{"type": "gifv", "description": "a cat"}],
    }
    assert links_of("mastodon", status) == ["https://example.org/x"]
    assert media_of("mastodon", status) == [{"type": "gifv", "alt": True}]
