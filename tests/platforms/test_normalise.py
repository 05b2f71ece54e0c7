"""The normalisers against every real recording in fixtures/real/ (bluesky and mastodon)."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mastodon.return_types import Context, Status
from mastodon.types_base import try_cast_recurse

from chatbot.platforms.normalise import (
    bluesky_thread,
    from_bluesky_get_record,
    from_bluesky_post_view,
    from_bluesky_record,
    from_jetstream,
    from_mastodon_status,
    mastodon_thread,
    parse_time,
    plain,
)
from chatbot.text.postrefs import refs_of
from tests.realdata import REAL_FIXTURES

REAL = REAL_FIXTURES
BLUE = REAL / "bluesky"
MASTO = REAL / "mastodon"


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def jsonl(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def sse_events(path: Path):
    event, events = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event:
            events.append((event, line.split(":", 1)[1].strip()))
    return events


def _every_bluesky_post(path: Path):
    """Normalise whatever a Bluesky recording holds; return the posts found."""
    name = path.name
    if name.endswith(".jsonl"):
        return [p for p in map(from_jetstream, jsonl(path)) if p is not None]
    data = load(path)
    if name.startswith("jetstream_") and "manifest" not in name:
        post = from_jetstream(data)
        return [post] if post else []
    if name.startswith("getRecord"):
        return [from_bluesky_get_record(data)]
    if name.startswith("searchPosts"):
        return [from_bluesky_post_view(v) for v in data["posts"]]
    if name.startswith("listRecords"):
        return [from_bluesky_get_record(r) for r in data["postRecords"]]
    if "thread" in name.lower():
        thread = bluesky_thread(data)
        return ([thread.anchor] if thread.anchor else []) + thread.replies
    return None  # not a post payload (indexes, manifests)


BLUESKY_FILES = sorted(p for p in BLUE.rglob("*") if p.suffix in (".json", ".jsonl"))
MASTODON_FILES = sorted(
    p for p in MASTO.glob("*") if p.suffix in (".json", ".sse") and p.name != "exchanges.json"
)


@pytest.mark.parametrize("path", BLUESKY_FILES, ids=lambda p: p.name)
def test_every_bluesky_recording_parses(path):
    posts = _every_bluesky_post(path)
    if posts is None:
        assert path.name in {"_index.json", "jetstream_v1_capture_manifest.json"}
        return
    for post in posts:
        assert post.network == "bluesky" and post.uri and post.id
        assert post.deleted or post.created_at is None or post.created_at.tzinfo == UTC
        assert all(tag == tag.lower() for tag in post.tags)
        assert all(link.startswith(("http://", "https://")) for link in post.links)
        json.dumps(post.raw)  # raw stays plain JSON
        if not post.deleted:  # migration 5 reads the stored raw JSON the same way
            assert refs_of("bluesky", post.raw) == (post.mentions, post.quote_uris)
            assert post.quote_uri == (post.quote_uris[0] if post.quote_uris else None)


@pytest.mark.parametrize("path", MASTODON_FILES, ids=lambda p: p.name)
def test_every_mastodon_recording_parses(path):
    if path.suffix == ".sse":
        statuses = []
        for event, data in sse_events(path):
            if event in ("update", "status.update"):
                statuses.append(json.loads(data))
            elif event == "notification" and json.loads(data).get("status"):
                statuses.append(json.loads(data)["status"])
        assert statuses
    else:
        data = load(path)
        if isinstance(data, list):
            statuses = data
        elif "ancestors" in data:
            statuses = data["ancestors"] + data["descendants"]
        elif "type" in data and isinstance(data.get("status"), dict):
            statuses = [data["status"]]  # a Notification: its status
        elif "account" in data and "id" in data:
            statuses = [data]
        else:
            return  # instance and error bodies are not statuses
    for raw in statuses:
        post = from_mastodon_status(raw)
        assert post.network == "mastodon" and isinstance(post.id, str) and post.uri
        assert post.created_at is not None and post.created_at.tzinfo == UTC
        assert post.text or post.html == ""
        assert refs_of("mastodon", post.raw) == (post.mentions, post.quote_uris)


def test_jetstream_tags_use_byte_offsets_and_lower_case():
    post = from_jetstream(load(BLUE / "jetstream_post_create_tags.json"))
    assert post.tags == ("howtotellaitoshutup", "indierebellion")
    assert post.lang == "de"
    assert post.author_id == "did:plc:tn3hni2jpphsgl6amfbb7ja6"
    assert post.uri == "at://did:plc:tn3hni2jpphsgl6amfbb7ja6/app.bsky.feed.post/3mptbypfywk2v"
    assert post.parent_uri is None


def test_jetstream_link_facet_and_languages():
    post = from_jetstream(load(BLUE / "jetstream_post_create_tags_2.json"))
    assert post.links == (
        "https://www.tumblr.com/tempo-tales/765681292369166336/"
        "behind-them-timmi-and-wankyu-follow-silently-but?source=share",
    )
    assert post.tags == ("talesatwonderworld", "balanwonderworldoc")
    assert post.lang == "es"
    assert post.created_at == datetime(2026, 7, 4, 14, 38, 6, 71000, tzinfo=UTC)


def test_jetstream_reply_and_delete():
    reply = from_jetstream(load(BLUE / "jetstream_post_create_reply.json"))
    parent = "at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyospqk2i"
    assert reply.parent_uri == parent and reply.root_uri == parent
    gone = from_jetstream(load(BLUE / "jetstream_post_delete.json"))
    assert gone.deleted and gone.id == "3mpt73z3ejc2p" and gone.text == ""
    assert from_jetstream(load(BLUE / "jetstream_identity.json")) is None


def test_jetstream_capture_has_the_documented_posts():
    posts = [p for p in map(from_jetstream, jsonl(BLUE / "jetstream_v1_capture.jsonl")) if p]
    created = [p for p in posts if not p.deleted]
    assert len(created) == 17 and len(posts) - len(created) == 1
    assert sum(1 for p in created if p.parent_uri) == 8
    assert sum(1 for p in created if p.tags) == 2


def test_get_record_time_with_microseconds_and_offset():
    post = from_bluesky_get_record(load(BLUE / "getRecord_post.json"))
    assert post.text == "new text114"
    assert post.created_at == datetime(2024, 2, 22, 19, 58, 13, 903293, tzinfo=UTC)
    assert post.cid.startswith("bafyrei") and post.id == "3k2yihcrp6f2c"


def test_search_post_view_author():
    post = from_bluesky_post_view(load(BLUE / "searchPosts_atprotodart.json")["posts"][0])
    assert post.author_handle == "luy.gay" and post.author_display_name == "luy 🦋"
    assert post.url == "https://bsky.app/profile/luy.gay/post/3ju4p6u2i3a2g"
    assert post.author_flags == frozenset() and not post.opted_out


def test_list_records_links_and_mentions():
    records = load(BLUE / "listRecords_posts_atproto_com.json")["postRecords"]
    posts = [from_bluesky_get_record(r) for r in records]
    assert len(posts) == 20
    assert sum(1 for p in posts if p.parent_uri) == 8
    assert sum(len(p.mentions) for p in posts) >= 4
    assert all(m.startswith("did:") for p in posts for m in p.mentions)


def test_threads_from_the_appview():
    hell = bluesky_thread(load(BLUE / "getPostThread_hellthread.json"))
    assert hell.anchor.id == "3jujgsslyxt2h" and len(hell.replies) == 4
    deleted_middle = bluesky_thread(
        load(BLUE / "appview_snapshots/thread_delete_after_root_view.json")
    )
    assert deleted_middle.anchor.text == "Deletion thread" and deleted_middle.replies == []
    before = bluesky_thread(load(BLUE / "appview_snapshots/thread_delete_before.json"))
    assert len(before.replies) == 2
    blocked_root = bluesky_thread(load(BLUE / "appview_snapshots/thread_root_blocked.json"))
    assert blocked_root.deleted and blocked_root.incomplete
    blocked_reply = bluesky_thread(load(BLUE / "appview_snapshots/thread_blocked_reply.json"))
    assert blocked_reply.missing == ["record(5)"] and len(blocked_reply.replies) == 1
    v2 = bluesky_thread(load(BLUE / "appview_snapshots/thread_v2_anchor_mid.json"))
    assert v2.anchor.uri == "record(1)" and [r.uri for r in v2.replies] == ["record(2)"]


def test_bluesky_opt_out_label_and_bio():
    author = {
        "did": "did:plc:x",
        "handle": "x.test",
        "labels": [{"val": "!no-unauthenticated"}],
        "description": "I post about cats. #NoBot",
    }
    post = from_bluesky_record(
        "at://did:plc:x/app.bsky.feed.post/3k", "c", {"text": "hi"}, author=author
    )
    assert post.author_flags == {"no-unauthenticated", "nobot"} and post.opted_out


def test_mastodon_status_with_tags_mentions_and_edit():
    post = from_mastodon_status(load(MASTO / "status_mastodon_social_hashtag.json"))
    assert post.id == "110446223051565765" and post.author_id == "23972"
    assert post.tags == ("thisisahashtag",)
    assert post.mentions == ("halcy@icosahedron.website",)
    assert post.text.startswith("@halcy you're a doo-doo head\n\nedit:")
    assert post.html.startswith('<p><span class="h-card">')
    assert post.links == ()  # mention and hashtag anchors are not links
    assert post.edited_at == datetime(2023, 5, 28, 12, 9, 44, tzinfo=UTC)
    assert post.author_followers == 3553 and not post.opted_out


def test_mastodon_noindex_and_unindexable_authors_are_opted_out():
    assert from_mastodon_status(load(MASTO / "status_mastodon_social_plain.json")).opted_out
    reply = from_mastodon_status(load(MASTO / "status_reply.json"))
    assert reply.author_flags == {"unindexable"} and reply.opted_out
    assert reply.parent_id == "117020583245459824" and reply.parent_uri is None
    assert reply.mentions == ("mastodonpy_test_2",)


def test_mastodon_deleted_status_has_text_and_no_content():
    post = from_mastodon_status(load(MASTO / "status_delete_hashtag.json"))
    assert post.text == "#hoot (hashtag toot)" and post.html == "" and post.tags == ("hoot",)


def test_mastodon_timeline_pages_keep_string_ids():
    page = [from_mastodon_status(s) for s in load(MASTO / "timeline_hashtag_page1.json")]
    assert len(page) == 10 and page[0].text.startswith("Toot number 29!")
    assert all(isinstance(p.id, str) and p.id.isdigit() for p in page)


def test_mastodon_context_fills_parent_and_root_uris():
    context = load(MASTO / "status_context_mastodon_social.json")
    thread = mastodon_thread(None, context)
    assert [r.id for r in thread.replies] == ["110446984249325790"]
    assert thread.replies[0].root_uri == context["ancestors"][0]["uri"]


def test_mastodon_py_entities_normalise_like_the_json():
    raw = load(MASTO / "status_mastodon_social_hashtag.json")
    entity = try_cast_recurse(Status, raw)
    a, b = from_mastodon_status(raw), from_mastodon_status(entity)
    assert a == b and type(b.id) is str and b.created_at.tzinfo == UTC
    assert plain(entity)["created_at"] == "2023-05-28T12:06:50Z"
    context = try_cast_recurse(Context, load(MASTO / "status_context_mastodon_social.json"))
    thread = mastodon_thread(entity, context)
    assert thread.anchor.id == a.id and thread.anchor.root_uri == context["ancestors"][0]["uri"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-04-24T13:50:19.672Z", datetime(2023, 4, 24, 13, 50, 19, 672000, tzinfo=UTC)),
        ("2024-02-22T19:58:13.903293+00:00", datetime(2024, 2, 22, 19, 58, 13, 903293, tzinfo=UTC)),
        ("2024-01-01T01:00:00.123456789+01:00", datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("not a time", None),
        (None, None),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected
