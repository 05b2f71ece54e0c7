"""Normalising fast: the same posts and times as the plain constructor and the slow parse."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.normalise import (
    bluesky_thread,
    bluesky_web_url,
    from_bluesky_get_record,
    from_bluesky_post_view,
    from_bluesky_record,
    from_jetstream,
    from_mastodon_status,
    parse_time,
)

VIEW = {
    "uri": "at://did:plc:zoe/app.bsky.feed.post/3kabc",
    "cid": "bafyzoe",
    "author": {
        "did": "did:plc:zoe",
        "handle": "handle.invalid",
        "description": "bots: #NoBot please",
        "labels": [{"val": "!no-unauthenticated"}],
    },
    "record": {
        "text": "hi #a https://x.test",
        "createdAt": "2030-12-03T17:05:00Z",
        "facets": [
            None,
            {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "#A"}]},
            {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": ""}]},
            {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "HTTPS://x.test"}]},
            {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "ftp://x.test"}]},
            {"features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:m"}]},
            {"features": ["not a feature"]},
        ],
    },
}


def rebuilt(post: NormalisedPost) -> NormalisedPost:
    return NormalisedPost(**{field.name: getattr(post, field.name) for field in fields(post)})


@pytest.mark.parametrize(
    "made",
    [
        lambda: from_bluesky_post_view(VIEW),
        lambda: from_bluesky_record("at://did:plc:q/other/x", "", {"text": "t"}),
        lambda: from_bluesky_record("not-a-uri", "", {}),
        lambda: from_mastodon_status({"id": "1", "uri": "u", "content": "<p>x</p>"}),
    ],
)
def test_posts_are_what_the_dataclass_would_build(made):  # type: ignore[no-untyped-def]
    post = made()
    again = rebuilt(post)
    assert post == again and vars(post) == vars(again) and hash(post) == hash(again)
    assert replace(post, text="changed").text == "changed"
    with pytest.raises(AttributeError):
        post.text = "frozen"  # type: ignore[misc]


def test_a_bluesky_view_normalises_every_facet_and_flag():
    post = from_bluesky_post_view(VIEW)
    assert post.tags == ("a",) and post.links == ("HTTPS://x.test",)
    assert post.mentions == ("did:plc:m",)
    assert post.author_flags == frozenset({"no-unauthenticated", "nobot"}) and post.opted_out
    assert post.url == "https://bsky.app/profile/did:plc:zoe/post/3kabc" and post.id == "3kabc"
    other = from_bluesky_record("at://did:plc:q/other/x", "", {"text": "t"})
    assert (other.url, other.id, other.author_id) == ("", "x", "did:plc:q")
    odd = from_bluesky_record("not-a-uri", "", {})
    assert (odd.url, odd.id, odd.author_id, odd.created_at) == ("", "not-a-uri", "", None)


def test_bluesky_links_default_to_bsky_app_and_take_another_web_base():
    web = "http://127.0.0.1:8080"
    uri = VIEW["uri"]
    assert bluesky_web_url(uri, "zoe.test") == "https://bsky.app/profile/zoe.test/post/3kabc"
    assert bluesky_web_url(uri, "handle.invalid", web=web + "/") == (
        f"{web}/profile/did:plc:zoe/post/3kabc"
    )
    assert bluesky_web_url("at://did:plc:zoe/app.bsky.feed.like/3k", web=web) == ""
    expected = f"{web}/profile/did:plc:zoe/post/3kabc"
    assert from_bluesky_post_view(VIEW, web=web).url == expected
    answer = {"uri": uri, "cid": "c", "value": VIEW["record"]}
    assert from_bluesky_get_record(answer, web=web).url == expected
    event = {
        "kind": "commit",
        "did": "did:plc:zoe",
        "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "3kabc"},
    }
    assert from_jetstream(event, web=web).url == expected
    thread = bluesky_thread({"thread": {"post": VIEW, "replies": [{"post": VIEW}]}}, web=web)
    assert thread.anchor.url == thread.replies[0].url == expected
    v2 = bluesky_thread(
        {"thread": [{"depth": 0, "value": {"$type": "x#threadItemPost", "post": VIEW}}]}, web=web
    )
    assert v2.anchor.url == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-12-03T17:05:00z", datetime(2030, 12, 3, 17, 5, tzinfo=UTC)),
        (" 2030-12-03T17:05:00.1234567Z ", datetime(2030, 12, 3, 17, 5, 0, 123456, tzinfo=UTC)),
        ("2030-12-03T19:05:00+02:00", datetime(2030, 12, 3, 17, 5, tzinfo=UTC)),
        ("2030-12-03 17:05:00.000001", datetime(2030, 12, 3, 17, 5, 0, 1, tzinfo=UTC)),
        (datetime(2030, 12, 3, 17, 5), datetime(2030, 12, 3, 17, 5, tzinfo=UTC)),
        (
            datetime(2030, 12, 3, 18, 5, tzinfo=timezone(timedelta(hours=1))),
            datetime(2030, 12, 3, 17, 5, tzinfo=UTC),
        ),
        ("", None),
        ("   ", None),
        ("2030-13-03T17:05:00Z", None),
        (12, None),
    ],
)
def test_parse_time_fast_and_loose(value, expected):  # type: ignore[no-untyped-def]
    moment = parse_time(value)
    assert moment == expected
    assert moment is None or moment.tzinfo is UTC
