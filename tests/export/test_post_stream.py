"""A document whose posts are a PostStream renders as the same document with a list."""

from __future__ import annotations

import json
from typing import Any

from chatbot.export.markdown import to_markdown
from chatbot.export.stream import PostStream, counts_of
from chatbot.export.tabular import to_csv, to_json, to_jsonl
from chatbot.transcript.counts import document_counts


def _post(number: int, parent: int | None = None) -> dict[str, Any]:
    return {
        "network": "bluesky", "id": str(number), "uri": f"at://p/{number}",
        "url": f"https://bsky.app/p/{number}", "author": {"handle": f"u{number % 3}.test",
        "display_name": ""}, "created_at": f"2030-01-01T17:{number:02d}:00Z",
        "text": f"A1 answer {number}", "question": "Q1", "questions": ["Q1"], "method": "prefix",
        "confidence": 0.9, "is_question": False, "via": None,
        "parent_uri": None if parent is None else f"at://p/{parent}",
        "depth": 0 if parent is None else 1, "mentions": [], "quotes": [], "lang": "en",
        "engagement": {}, "links": [], "media": [],
        "flags": {"spam": False, "hidden": False, "edited": False, "anonymised": False},
    }  # fmt: skip


def _document(posts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": "chatbot-transcript", "version": 1, "generated_at": "2030-01-01T18:00:00Z",
        "event": {"hashtag": "sm35", "title": "#sm35", "start": "2030-01-01T17:00:00Z",
                  "end": "2030-01-01T18:00:00Z", "timezone": "UTC", "networks": ["bluesky"]},
        "questions": [{"label": "Q1", "number": 1, "text": "Why?", "posted": {}, "skipped": False}],
        "posts": posts, "review": False,
    }  # fmt: skip


def test_a_stream_renders_every_format_as_a_list_does_and_counts_once() -> None:
    posts = [_post(1), _post(2, 1), _post(3), _post(4, 2)]
    made = []

    def make() -> Any:
        made.append(1)
        return (dict(post) for post in posts)

    listed, streamed = _document(posts), _document(PostStream(make, len(posts)))
    assert len(streamed["posts"]) == 4 and streamed["posts"]
    for render in (to_json, to_jsonl, to_csv, to_markdown):
        assert render(streamed) == render(listed)
    assert len(made) == 5  # a pass per format, and one for the Markdown's count
    assert json.loads(to_json(streamed))["posts"] == posts
    assert counts_of(streamed) == counts_of(streamed) == document_counts(listed)
    assert len(made) == 6  # the count is kept once made


def test_an_empty_stream_is_an_empty_list_to_json() -> None:
    streamed = _document(PostStream(lambda: iter(()), 0))
    assert not streamed["posts"]
    assert json.loads(to_json(streamed))["posts"] == []
