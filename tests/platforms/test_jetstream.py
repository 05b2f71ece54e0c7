"""The Jetstream filter: one chat's posts out of the whole network's stream."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.platforms.chatfilter import _tag_pattern
from chatbot.platforms.jetstream import JetstreamFilter, parse_line
from tests.realdata import REAL_FIXTURES

CAPTURE = REAL_FIXTURES / "bluesky" / "jetstream_v1_capture.jsonl"
LINES = CAPTURE.read_bytes().splitlines()
EVENTS = [json.loads(line) for line in LINES]
THREAD_ROOT = "at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyospqk2i"
DELETED = "at://did:plc:4smmjsqf6l5jkzczvw6vsrqc/app.bsky.feed.post/3mpt73z3ejc2p"


def uris(posts: list[Any]) -> list[str]:
    return [post.uri for post in posts]


def test_the_tag_in_any_case_keeps_the_real_post_that_carries_it() -> None:
    for written in ("IndieRebellion", "#INDIEREBELLION", "indierebellion"):
        kept = JetstreamFilter(written).feed_many(LINES)
        assert uris(kept) == [
            "at://did:plc:tn3hni2jpphsgl6amfbb7ja6/app.bsky.feed.post/3mptbypfywk2v"
        ]
        assert kept[0].tags == ("howtotellaitoshutup", "indierebellion")
        assert kept[0].text.startswith("#HowToTellAiToShutUp!")


def test_a_tag_that_is_only_part_of_another_is_not_the_chat() -> None:
    assert JetstreamFilter("indie").feed_many(LINES) == []
    assert JetstreamFilter("IndieRebellions").feed_many(LINES) == []


# Text made of what decides a tag's edges: "#", white space, word and non-word
# characters, letters that match others without case (K, ı, İ, ſ), the tag's own.
_EDGES = st.text(
    st.sampled_from("#  \t\nabkisAKIS_9.-!\u212a\u0131\u0130\u017f\u00e9"), max_size=30
)


@given(st.sampled_from(["abs", "kis", "a", "ski_9"]), _EDGES, st.booleans(), _EDGES)
def test_the_text_tag_search_finds_what_the_tag_rule_finds(
    tag: str, before: str, hashed: bool, after: str
) -> None:
    # The rule as Bluesky's apps read text, written the plain way (a lookbehind
    # first); the filter's pattern puts the "#" first to search faster.
    text = before + ("#" if hashed else "") + tag.upper() + after
    plain = re.compile(rf"(?<!\S)#{re.escape(tag)}(?!\w)", re.IGNORECASE)
    assert bool(_tag_pattern(tag).search(text)) == bool(plain.search(text))
    assert bool(_tag_pattern(tag).search(before)) == bool(plain.search(before))


def test_replies_to_a_chat_post_are_kept_down_the_thread() -> None:
    chat = {THREAD_ROOT}
    kept = JetstreamFilter("nothing-tagged-this", chat).feed_many(LINES)
    # The real self-thread: the chat's post itself, a reply to it, a reply to that reply.
    assert len(kept) == 3
    assert kept[0].uri == THREAD_ROOT
    assert all(post.root_uri == THREAD_ROOT for post in kept[1:])
    assert kept[1].parent_uri == THREAD_ROOT
    assert kept[2].parent_uri == kept[1].uri
    assert set(uris(kept)) == chat  # the caller's set grows with what is kept


def test_a_reply_that_comes_before_its_parent_waits_for_it() -> None:
    # Only the middle post's reply names it as parent (its root is the first post):
    # fed backwards, the last reply arrives before the post it answers.
    middle = "at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyou7ls2i"
    thread = [
        json.loads(json.dumps(e)) for e in EVENTS if e["did"] == "did:plc:u4lmvw4wwzaql3z5kcf3r7h4"
    ]
    for event in thread:
        reply = event["commit"]["record"].get("reply")
        if reply:
            reply["root"] = dict(reply["parent"])  # every reply its own root: a chain
    stream = JetstreamFilter("x", {THREAD_ROOT})
    last = next(e for e in thread if e["commit"]["rkey"] == "3mptbyoumc22i")
    assert stream.feed_event(last) == []
    assert stream.held() == 1
    kept = stream.feed_event(next(e for e in thread if e["commit"]["rkey"] == "3mptbyou7ls2i"))
    assert uris(kept) == [middle, middle.replace("3mptbyou7ls2i", "3mptbyoumc22i")]
    assert kept[1].parent_uri == middle
    assert stream.held() == 0


def test_a_deletion_of_a_chat_post_is_a_tombstone_and_others_are_ignored() -> None:
    assert JetstreamFilter("x").feed_many(LINES) == []
    kept = JetstreamFilter("x", {DELETED}).feed_many(LINES)
    assert uris(kept) == [DELETED]
    assert kept[0].deleted
    assert kept[0].author_id == "did:plc:4smmjsqf6l5jkzczvw6vsrqc"


def test_repeated_lines_are_kept_once_and_the_cursor_is_the_largest_time() -> None:
    stream = JetstreamFilter("indierebellion")
    first = stream.feed_many(LINES)
    assert stream.feed_many(LINES) == []
    assert len(first) == 1
    assert stream.cursor == max(e["time_us"] for e in EVENTS)
    assert stream.events == len(LINES) * 2


def test_bad_lines_are_skipped() -> None:
    stream = JetstreamFilter("x")
    for line in (b"", b"not json", b"[1,2]", b'{"kind":"commit","commit":7}', b"\xff\xfe"):
        assert stream.feed(line) == []
    assert parse_line('{"text":"\\ud800"}') == {"text": "\ud800"}  # valid JSON orjson refuses
    assert stream.cursor is None


# -- properties ----------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.binary() | st.text().map(str.encode))
def test_any_bytes_never_crash(line: bytes) -> None:
    JetstreamFilter("chat", {THREAD_ROOT}).feed(line)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(EVENTS),
    st.lists(st.tuples(st.sampled_from(["did", "time_us", "kind", "commit"]), json_values)),
    st.lists(
        st.tuples(
            st.sampled_from(["rev", "operation", "collection", "rkey", "record", "cid"]),
            json_values,
        )
    ),
)
def test_real_events_with_any_field_changed_never_crash(
    event: dict[str, Any],
    top: list[tuple[str, Any]],
    inner: list[tuple[str, Any]],
) -> None:
    changed = json.loads(json.dumps(event))
    changed.update(top)
    if isinstance(changed.get("commit"), dict):
        changed["commit"].update(inner)
        changed["commit"]["record"] = changed["commit"].get("record")
    stream = JetstreamFilter("IndieRebellion", {THREAD_ROOT, DELETED})
    stream.feed(json.dumps(changed))
    stream.feed_event(changed)


TAG = "HeldOut2"


def commit_event(
    did: str, rkey: str, rev: str, operation: str, value: dict[str, Any] | None, moment: int
) -> dict[str, Any]:
    commit: dict[str, Any] = {
        "rev": rev,
        "operation": operation,
        "collection": "app.bsky.feed.post",
        "rkey": rkey,
    }
    if value is not None:
        commit["record"], commit["cid"] = value, f"cid-{rkey}-{rev}"
    return {"did": did, "time_us": moment, "kind": "commit", "commit": commit}


@st.composite
def chats(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A small chat's events: tagged posts in any case, replies, edits and deletions."""
    events: list[dict[str, Any]] = []
    posts: list[tuple[str, str, str]] = []  # (uri, root uri, did)
    count = draw(st.integers(1, 8))
    for index in range(count):
        did = f"did:plc:author{draw(st.integers(0, 2))}"
        rkey = f"3mpost{index:04d}"
        uri = f"at://{did}/app.bsky.feed.post/{rkey}"
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": "hello"}
        how = draw(st.sampled_from(["facet", "tags", "text", "none"]))
        written = draw(st.sampled_from([TAG, TAG.upper(), TAG.lower()]))
        if how == "facet":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": written}
            record["facets"] = [{"features": [feature], "index": {"byteStart": 0, "byteEnd": 1}}]
        elif how == "tags":
            record["tags"] = [written]
        elif how == "text":
            record["text"] = f"answer #{written}"
        root = uri
        if posts and draw(st.booleans()):
            parent_uri, parent_root, _ = draw(st.sampled_from(posts))
            root = parent_root
            record["reply"] = {
                "root": {"uri": parent_root, "cid": "c"},
                "parent": {"uri": parent_uri, "cid": "c"},
            }
        posts.append((uri, root, did))

        def event(operation: str, rev: int, value: dict[str, Any] | None) -> dict[str, Any]:
            moment = 1_783_175_888_000_000 + draw(st.integers(0, 3_000_000))
            return commit_event(did, rkey, f"3mrev{rkey}{rev}", operation, value, moment)  # noqa: B023

        events.append(event("create", 1, record))
        if draw(st.booleans()):
            edited = dict(record, text=draw(st.sampled_from(["edited", f"edited #{TAG}"])))
            if draw(st.booleans()):
                edited.pop("facets", None)
            events.append(event("update", 2, edited))
        if draw(st.integers(0, 3)) == 0:
            events.append(event("delete", 3, None))
    return events


@settings(max_examples=300, deadline=None)
@given(chats(), st.randoms(use_true_random=False), st.lists(st.integers(0, 400), max_size=12))
def test_reordering_or_repeating_events_never_changes_what_is_kept(
    events: list[dict[str, Any]], random: Any, repeats: list[int]
) -> None:
    noise = EVENTS[:40]
    stream = [*noise, *events]
    expected = JetstreamFilter(TAG)
    expected.feed_many(json.dumps(e) for e in stream)
    shuffled = stream + [stream[i % len(stream)] for i in repeats]
    random.shuffle(shuffled)
    other = JetstreamFilter(TAG)
    other.feed_many(json.dumps(e) for e in shuffled)
    assert other.state() == expected.state()
    assert other.cursor == expected.cursor


@settings(max_examples=100, deadline=None)
@given(chats(), st.randoms(use_true_random=False))
def test_what_is_handed_over_folds_to_what_is_kept(
    events: list[dict[str, Any]], random: Any
) -> None:
    random.shuffle(events)
    stream = JetstreamFilter(TAG)
    folded: dict[str, bool] = {}
    for event in events:
        for post in stream.feed_event(event):
            folded[post.uri] = folded.get(post.uri, False) or post.deleted
    state = stream.state()
    assert set(folded) == set(state)
    # Deletions come last in these chats: a post handed over as deleted ends deleted.
    assert {u for u, (_, gone) in state.items() if gone} == {u for u, g in folded.items() if g}


def test_a_post_found_elsewhere_lets_its_waiting_replies_in_and_its_deletion_out() -> None:
    parent = "at://did:plc:author0/app.bsky.feed.post/3mpost0000"
    reply = {"$type": "app.bsky.feed.post", "text": "no tag"}
    reply["reply"] = {"root": {"uri": parent, "cid": "c"}, "parent": {"uri": parent, "cid": "c"}}
    gone = "at://did:plc:author1/app.bsky.feed.post/3mpost0001"
    stream = JetstreamFilter(TAG)
    base = 1_783_175_888_000_000
    assert (
        stream.feed_event(commit_event("did:plc:author2", "3mr", "3r1", "create", reply, base))
        == []
    )
    assert (
        stream.feed_event(
            commit_event("did:plc:author1", "3mpost0001", "3r9", "delete", None, base)
        )
        == []
    )
    found = stream.learn([parent, gone])
    assert [(p.uri, p.deleted) for p in found] == [
        ("at://did:plc:author2/app.bsky.feed.post/3mr", False),
        (gone, True),
    ]
    assert stream.learn([parent, gone]) == []  # once only
    assert stream.held() == 0


@settings(max_examples=200, deadline=None)
@given(chats(), st.randoms(use_true_random=False), st.data())
def test_knowing_posts_from_the_start_or_learning_them_later_ends_the_same(
    events: list[dict[str, Any]], random: Any, data: st.DataObject
) -> None:
    uris = sorted({f"at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}" for e in events})
    known = data.draw(st.lists(st.sampled_from(uris), unique=True))
    at = data.draw(st.integers(0, len(events)))
    random.shuffle(events)
    first = JetstreamFilter(TAG, set(known))
    first.feed_many(json.dumps(e) for e in events)
    later = JetstreamFilter(TAG)
    later.feed_many(json.dumps(e) for e in events[:at])
    later.learn(known)
    later.feed_many(json.dumps(e) for e in events[at:])
    # Which posts the chat has and which are deleted: the same. (A post the caller
    # knows is stored already; its create need not be handed over again.)
    assert outcome(later, known) == outcome(first, known)


def outcome(stream: JetstreamFilter, known: list[str]) -> dict[str, bool]:
    found = dict.fromkeys(known, False)
    found.update({uri: gone for uri, (_, gone) in stream.state().items()})
    return found


def test_what_waits_is_forgotten_after_the_hold_so_memory_stays_bounded() -> None:
    parent = "at://did:plc:author0/app.bsky.feed.post/3mpost0000"
    reply = {"$type": "app.bsky.feed.post", "text": "no tag"}
    reply["reply"] = {"root": {"uri": parent, "cid": "c"}, "parent": {"uri": parent, "cid": "c"}}
    tagged = {"$type": "app.bsky.feed.post", "text": f"question #{TAG}"}
    stream = JetstreamFilter(TAG, hold_us=1_000_000)
    base = 1_783_175_888_000_000
    for number in range(50):
        event = commit_event("did:plc:a", f"3mr{number}", "3r1", "create", reply, base + number)
        stream.feed_event(event)
    stream.feed_event(commit_event("did:plc:a", "3mdel", "3r2", "delete", None, base))
    assert stream.held() == 50
    stream.feed_event(commit_event("did:plc:b", "3mother", "3r1", "create", {}, base + 2_000_000))
    assert stream.held() == 0
    # The parent, come too late: the replies that waited for it are no longer there.
    late = stream.feed_event(
        commit_event("did:plc:author0", "3mpost0000", "3r1", "create", tagged, base)
    )
    assert [post.uri for post in late] == [parent]
