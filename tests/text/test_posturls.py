"""Post links of the three networks read as quote targets, and matched to stored posts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.text.postrefs import bluesky_refs, mastodon_refs, refs_of, tweet_refs
from chatbot.text.posturls import (
    PostIndex,
    bluesky_post_url,
    mastodon_status_url,
    quote_target,
    quote_targets,
    tweet_uri,
    tweet_url,
)

DID = "did:plc:abcdefghijklmnopqrstuvwx"
RKEY = "3kq2x7abcde2a"


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (
            f"https://bsky.app/profile/Alice.bsky.social/post/{RKEY}",
            f"at://alice.bsky.social/app.bsky.feed.post/{RKEY}",
        ),
        (
            f"https://bsky.app/profile/{DID}/post/{RKEY}?ref=x",
            f"at://{DID}/app.bsky.feed.post/{RKEY}",
        ),
        (  # a sandbox's own web address
            f"http://127.0.0.1:8123/profile/{DID}/post/{RKEY}",
            f"at://{DID}/app.bsky.feed.post/{RKEY}",
        ),
        ("https://x.com/Jack/status/20", tweet_uri("20")),
        ("https://mobile.twitter.com/jack/status/20/", tweet_uri("20")),
        ("https://twitter.com/i/web/status/20", tweet_uri("20")),
        ("https://Mastodon.Social/@bob/110001.", "https://mastodon.social/@bob/110001"),
        ("https://m.example/@bob@other.example/7", "https://m.example/@bob@other.example/7"),
        ("https://m.example/users/bob/statuses/7", "https://m.example/users/bob/statuses/7"),
        ("https://mastodon.social/@bob", None),  # a profile, not a post
        ("https://mastodon.social/tags/chat", None),
        ("https://twitter.com/jack", None),
        ("https://example.com/post/1", None),
        ("not a url", None),
    ],
)
def test_post_addresses_become_stored_forms(url: str, target: str | None) -> None:
    assert quote_target(url) == target


def test_addresses_in_text_and_html_are_found_once_in_order() -> None:
    text = (
        f"Q2 see https://bsky.app/profile/{DID}/post/{RKEY}, and "
        '<a href="https://m.example/@u/12">this</a> (https://x.com/a/status/9) '
        f"again https://bsky.app/profile/{DID}/post/{RKEY}"
    )
    assert quote_targets(text) == (
        f"at://{DID}/app.bsky.feed.post/{RKEY}",
        "https://m.example/@u/12",
        tweet_uri("9"),
    )


_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from("/:@.?#https"), max_size=200
)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_any_text_reads_without_error(text: str) -> None:
    targets = quote_targets(text, text, links=[text])
    assert len(set(targets)) == len(targets)
    for target in targets:
        assert PostIndex().resolve(target) is None


_NAME = st.from_regex(r"[a-z][a-z0-9]{0,12}", fullmatch=True)
_ID = st.integers(min_value=1, max_value=10**19).map(str)


@settings(max_examples=200, deadline=None)
@given(_NAME, _NAME, st.from_regex(r"[a-z2-7]{13}", fullmatch=True), _ID)
def test_built_addresses_round_trip(user: str, host: str, rkey: str, status: str) -> None:
    handle = f"{user}.bsky.social"
    assert (
        quote_target(bluesky_post_url(handle, rkey)) == f"at://{handle}/app.bsky.feed.post/{rkey}"
    )
    assert quote_target(bluesky_post_url(DID, rkey)) == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert quote_target(tweet_url(user, status)) == tweet_uri(status)
    web = mastodon_status_url(f"{host}.example", user, status)
    assert quote_target(web) == web
    # And each resolves to the stored post it names.
    index = PostIndex()
    index.add("bluesky", f"at://{DID}/app.bsky.feed.post/{rkey}", "", DID, handle)
    index.add("twitter", tweet_uri(status))
    stored = f"https://{host}.example/users/{user}/statuses/{status}"
    index.add("mastodon", stored, web)
    assert index.resolve(quote_target(bluesky_post_url(handle.upper(), rkey)) or "") == (
        f"at://{DID}/app.bsky.feed.post/{rkey}"
    )
    assert index.resolve(quote_target(tweet_url(user, status)) or "") == tweet_uri(status)
    assert index.resolve(web) == stored
    assert index.resolve(stored) == stored


def test_the_first_stored_target_wins_else_the_first_target() -> None:
    index = PostIndex()
    index.add("twitter", tweet_uri("2"))
    assert index.first([tweet_uri("1"), tweet_uri("2")]) == tweet_uri("2")
    assert index.first([tweet_uri("1")]) == tweet_uri("1")
    assert index.first([]) is None


def test_bluesky_mentions_embeds_link_cards_and_facets() -> None:
    quoted = f"at://{DID}/app.bsky.feed.post/{RKEY}"
    record = {
        "text": "@bob.test agreed",
        "facets": [
            {"features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}]},
            {
                "features": [
                    {
                        "$type": "app.bsky.richtext.facet#link",
                        "uri": "https://x.com/someone/status/77",
                    }
                ]
            },
        ],
        "embed": {
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"$type": "app.bsky.embed.record", "record": {"uri": quoted}},
            "media": {
                "$type": "app.bsky.embed.external",
                "external": {"uri": "https://m.example/@u/5"},
            },
        },
    }
    mentions, quotes = bluesky_refs(record)
    assert mentions == ("did:plc:bob",)
    assert quotes == (quoted, tweet_uri("77"), "https://m.example/@u/5")
    # The same from every shape a row keeps: post view, getRecord, Jetstream.
    for raw in ({"record": record}, {"value": record}, {"commit": {"record": record}}, record):
        assert refs_of("bluesky", raw) == (mentions, quotes)


def test_mastodon_mentions_quotes_and_cards() -> None:
    status = {
        "content": '<p><a href="https://m.example/@ann" class="mention">@ann</a> yes '
        '<a href="https://b.example/@cat/99">https://b.example/@cat/99</a></p>',
        "mentions": [{"acct": "ann", "id": "1"}, {"acct": "cat@b.example", "id": "2"}],
        "card": {"url": "https://bsky.app/profile/c.test/post/3abc"},
        "quote": {"quoted_status": {"uri": "https://q.example/users/q/statuses/1"}},
    }
    assert mastodon_refs(status) == (
        ("ann", "cat@b.example"),
        (
            "https://q.example/users/q/statuses/1",
            "at://c.test/app.bsky.feed.post/3abc",
            "https://b.example/@cat/99",
        ),
    )


def test_tweet_mentions_and_quotes_in_every_format() -> None:
    v1 = {
        "id_str": "1",
        "user": {"screen_name": "a"},
        "text": "@b look https://t.co/x",
        "quoted_status_id_str": "5",
        "entities": {
            "user_mentions": [{"screen_name": "b"}],
            "urls": [{"expanded_url": "https://twitter.com/c/status/6"}],
        },
    }
    assert tweet_refs(v1) == (("b",), (tweet_uri("5"), tweet_uri("6")))
    v2 = {
        "id": "1",
        "author_id": "9",
        "text": "hi",
        "entities": {"mentions": [{"username": "d"}]},
        "referenced_tweets": [{"type": "quoted", "id": "7"}],
    }
    assert tweet_refs(v2) == (("d",), (tweet_uri("7"),))
    row = {"id": "1", "text": "@e @f see x.com/g/status/8 https://x.com/g/status/8", "urls": ""}
    assert tweet_refs(row) == (("e", "f"), (tweet_uri("8"),))
    assert refs_of("twitter", None) == ((), ())
    assert refs_of("elsewhere", {"text": "@x"}) == ((), ())
