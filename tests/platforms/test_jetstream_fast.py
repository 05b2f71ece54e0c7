"""Jetstream's typed fast path keeps exactly what the general path (each line a dict) keeps.

:class:`JetstreamFilter` decodes each line into a typed shape of only the
fields it reads (msgspec) and decides from that; the reference here is the
general path every other source takes: the line parsed whole (orjson, or the
standard library) and handed to :meth:`ChatFilter.feed_event`. The streams are
made to find where the two could part: the tag in any case (letters that match
others without case among them) in facets, ``tags`` or the text, every string
(keys included) with characters written as ``\\uXXXX`` escapes (``\\u0023``
for "#"), fields of any other JSON type, repeats and reordering.
"""

from __future__ import annotations

import json
import random as randoms
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.platforms.chatfilter import POST, ChatFilter
from chatbot.platforms.jetstream import JetstreamFilter, parse_line
from tests.platforms.test_jetstream import (
    EVENTS,
    LINES,
    TAG,
    THREAD_ROOT,
    chats,
    commit_event,
    json_values,
)


class Reference(ChatFilter):
    """The general path: each line parsed whole, then :meth:`ChatFilter.feed_event`."""

    def feed_lines(self, lines: list[bytes]) -> list[Any]:
        found: list[Any] = []
        for line in lines:
            event = parse_line(line)
            if event is not None:
                found.extend(self.feed_event(event))
        return found


def same(lines: list[bytes], tag: str, chat: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Both paths, fed ``lines`` in batches and one by one, keep and hold the same."""
    reference = Reference(tag, set(chat))
    expected = reference.feed_lines(lines)
    fast = JetstreamFilter(tag, set(chat))
    assert fast.feed_many(lines) == expected
    one_by_one = JetstreamFilter(tag, set(chat))
    assert [post for line in lines for post in one_by_one.feed(line)] == expected
    for stream in (fast, one_by_one):
        assert stream.state() == reference.state()
        assert stream.cursor == reference.cursor
        assert stream.events == reference.events
        assert stream.held() == reference.held()
        assert stream.chat == reference.chat


def escaped(value: Any, rng: randoms.Random, rate: float) -> str:
    """``value`` as JSON, each character of each string (keys too) escaped at ``rate``."""
    if isinstance(value, str):
        out = []
        for char in value:
            if rng.random() < rate and ord(char) < 0x10000:
                out.append(f"\\u{ord(char):04x}")
            else:
                out.append(json.dumps(char, ensure_ascii=rng.random() < 0.5)[1:-1])
        return '"' + "".join(out) + '"'
    if isinstance(value, dict):
        items = (f"{escaped(k, rng, rate)}:{escaped(v, rng, rate)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(escaped(v, rng, rate) for v in value) + "]"
    return json.dumps(value)


def test_the_real_capture_goes_the_same_either_way() -> None:
    for tag in ("IndieRebellion", "howtotellaitoshutup", "bluesky", "art"):
        same(LINES * 2, tag, {THREAD_ROOT})


# The tag written in any case, with letters that match others without case:
# the Kelvin sign lowers to "k", "ſ" matches "s" in the text search, "İ" lowers
# to two characters.
WRITTEN = st.sampled_from(
    [TAG, TAG.upper(), TAG.lower(), "#" + TAG, "##" + TAG.lower(), "heldout", "HeldOut2x"]
)
KTAG = "kiss2"
KWRITTEN = st.sampled_from(["KISS2", "\u212aiss2", "ki\u017f\u017f2", "\u0130ss2", "kiss2", "kis"])


@st.composite
def posts(draw: st.DrawFn, tag: st.SearchStrategy[str]) -> dict[str, Any]:
    """A post record carrying (or nearly) a tag in facets, tags or text, maybe a reply."""
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": draw(st.text(max_size=8))}
    for how in draw(st.lists(st.sampled_from(["facet", "tags", "text", "link"]), max_size=3)):
        written = draw(tag)
        if how == "facet":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": written}
            record.setdefault("facets", []).append(
                {"features": [feature], "index": {"byteStart": 0, "byteEnd": 1}}
            )
        elif how == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": f"https://x/{written}"}
            record.setdefault("facets", []).append({"features": [feature]})
        elif how == "tags":
            record.setdefault("tags", []).append(written)
        else:
            record["text"] += draw(st.sampled_from([" #", "#", " ", "x#"])) + written
            record["text"] += draw(st.sampled_from(["", " more", "!", "_x", "\u00e9"]))
    return record


PATHS = [
    ("did",),
    ("time_us",),
    ("kind",),
    ("commit",),
    ("commit", "rev"),
    ("commit", "operation"),
    ("commit", "collection"),
    ("commit", "rkey"),
    ("commit", "record"),
    ("commit", "record", "text"),
    ("commit", "record", "reply"),
    ("commit", "record", "reply", "parent"),
    ("commit", "record", "reply", "root", "uri"),
    ("commit", "record", "facets"),
    ("commit", "record", "facets", 0),
    ("commit", "record", "facets", 0, "features"),
    ("commit", "record", "facets", 0, "features", 0),
    ("commit", "record", "facets", 0, "features", 0, "$type"),
    ("commit", "record", "facets", 0, "features", 0, "tag"),
    ("commit", "record", "tags"),
]


def changed(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of ``event`` with the field at ``path`` set to ``value`` (if its parent is there)."""
    event = json.loads(json.dumps(event))
    parent: Any = event
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return event
    key = path[-1]
    fits = isinstance(key, str) if isinstance(parent, dict) else isinstance(key, int)
    if fits and (not isinstance(parent, list) or key < len(parent)):
        parent[key] = value
    return event


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[bytes], str]:
    """A chat's events and strangers', some fields changed, written with escapes, shuffled."""
    ktag = draw(st.booleans())
    events = [] if ktag else draw(chats())
    base = 1_783_175_888_000_000
    uris: list[str] = []
    for index in range(draw(st.integers(0, 6))):
        did, rkey = f"did:plc:x{index % 3}", f"3mx{index}"
        record = draw(posts(KWRITTEN if ktag else WRITTEN))
        known = uris + [f"at://{e['did']}/{POST}/{e['commit']['rkey']}" for e in events[:3]]
        if known and draw(st.booleans()):
            parent = draw(st.sampled_from(known))
            record["reply"] = {
                "root": {"uri": parent},
                "parent": {"uri": draw(st.sampled_from(known))},
            }
        operation = draw(st.sampled_from(["create", "create", "update", "delete"]))
        value = None if operation == "delete" else record
        moment = base + draw(st.integers(0, 3_000_000))
        events.append(commit_event(did, rkey, f"3r{index}", operation, value, moment))
        uris.append(f"at://{did}/{POST}/{rkey}")
    for _ in range(draw(st.integers(0, 3))):
        if events:
            at = draw(st.integers(0, len(events) - 1))
            path = draw(st.sampled_from(PATHS))
            events[at] = changed(events[at], path, draw(json_values))
    events += draw(st.lists(st.sampled_from(EVENTS), max_size=4))
    events = draw(st.permutations(events))
    rng = randoms.Random(draw(st.integers(0, 2**32)))
    rate = draw(st.sampled_from([0.0, 0.05, 0.5, 1.0]))
    lines = [escaped(event, rng, rate).encode() for event in events]
    return lines, KTAG if ktag else TAG


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_the_fast_path_keeps_what_the_general_path_keeps(stream: tuple[list[bytes], str]) -> None:
    lines, tag = stream
    same(lines, tag)


@given(st.binary() | st.text().map(str.encode), st.sampled_from(LINES))
def test_any_line_goes_the_same_either_way(line: bytes, real: bytes) -> None:
    same([real, line, real[: len(line)], line + real], "IndieRebellion", {THREAD_ROOT})
