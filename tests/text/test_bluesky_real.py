"""Every real post in the recorded Bluesky payloads gets the facets the real app gave it.

The recordings (``tests/fixtures/real/bluesky/``, see SOURCES.md) hold posts
from Jetstream, listRecords, getPostThread, searchPosts and getRecord, their
facets made by the official app.  One thing the app does after detecting
facets is undone first: it shortens a long link's text to ``host/path...``
and keeps the facet over the shortened text, so the text it was typed as is
put back (the link's URI in place of its shortened text) before comparing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chatbot.text.bluesky import LINK, MENTION, build_facets
from tests.realdata import REAL_FIXTURES

REAL = REAL_FIXTURES / "bluesky"
POST = "app.bsky.feed.post"


def _records(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("$type") == POST and isinstance(value.get("text"), str):
            yield value
        for item in value.values():
            yield from _records(item)
    elif isinstance(value, list):
        for item in value:
            yield from _records(item)


def _real_posts() -> list[tuple[str, dict[str, Any]]]:
    posts: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted(REAL.rglob("*.json*")):
        if path.name == "_index.json":
            continue
        lines = path.read_text(encoding="utf-8").splitlines() if path.suffix == ".jsonl" else None
        documents = [json.loads(line) for line in lines if line.strip()] if lines else None
        for document in documents or [json.loads(path.read_text(encoding="utf-8"))]:
            for record in _records(document):
                key = json.dumps([record["text"], record.get("facets")], sort_keys=True)
                posts.setdefault(key, (path.relative_to(REAL).as_posix(), record))
    return list(posts.values())


REAL_POSTS = _real_posts() if REAL.is_dir() else []


def _as_typed(text: str, facets: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Undo the app's link shortening: the full URI back in the text, every facet moved to suit."""
    data = text.encode()
    out, moved, shift, last = b"", [], 0, 0
    for facet in sorted(facets, key=lambda f: f["index"]["byteStart"]):
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        feature = facet["features"][0]
        shown = data[start:end].decode()
        new_start = start + shift
        if feature["$type"] == LINK and shown.endswith("...") and shown not in feature["uri"]:
            full = feature["uri"].encode()
            assert feature["uri"].split("://", 1)[-1].startswith(shown[:-3]), shown
            out += data[last:start] + full
            shift += len(full) - (end - start)
            last = end
        moved.append({**facet, "index": {"byteStart": new_start, "byteEnd": end + shift}})
    return (out + data[last:]).decode(), moved


def _comparable(facets: list[dict[str, Any]]) -> list[tuple[int, int, str, str]]:
    rows = []
    for facet in facets:
        feature = facet["features"][0]
        value = feature.get("tag") or feature.get("did") or feature.get("uri") or ""
        if feature["$type"] == LINK and value.count("/") == 3 and value.endswith("/"):
            value = value[:-1]  # the 2023 app wrote a bare host as "https://host/"
        rows.append(
            (facet["index"]["byteStart"], facet["index"]["byteEnd"], feature["$type"], value)
        )
    return sorted(rows)


def test_the_recordings_hold_real_posts_with_every_kind_of_facet():
    kinds = {
        feature["$type"].rsplit("#", 1)[1]
        for _, record in REAL_POSTS
        for facet in record.get("facets") or []
        for feature in facet["features"]
    }
    assert len(REAL_POSTS) >= 100
    assert kinds == {"tag", "mention", "link"}


@pytest.mark.parametrize(
    ("source", "record"),
    [
        pytest.param(source, record, id=f"{source}:{i}")
        for i, (source, record) in enumerate(REAL_POSTS)
    ],
)
def test_a_real_post_gets_the_facets_the_app_gave_it(source, record):
    text, recorded = _as_typed(record["text"], record.get("facets") or [])
    data = text.encode()
    # The handles the app resolved, read from the recording itself.
    dids = {
        data[f["index"]["byteStart"] + 1 : f["index"]["byteEnd"]].decode().lower(): feature["did"]
        for f in recorded
        for feature in f["features"]
        if feature["$type"] == MENTION
    }
    assert _comparable(build_facets(text, dids.get)) == _comparable(recorded)
