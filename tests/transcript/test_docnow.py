"""The real #DocNowCommunity chat (2016): its questions, and every "A<n>" answer under Q<n>."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from datetime import datetime

import pytest

from chatbot.transcript import ChatPost, ModeratorAccount, build_transcript
from tests.realdata import REAL_FIXTURES

RAW = REAL_FIXTURES / "tweetchats" / "docnowcommunity" / "docnowcommunity_raw.json"
HOST = ModeratorAccount("twitter", "3436812551", "documentnow")
# An independent, deliberately simple reading of "starts with A<n>" (after
# mentions and hashtags) to check the reader against.
SIMPLE_PREFIX = re.compile(r"^(?:[@#]\w+\s+)*A(\d)\b")


def load() -> list[ChatPost]:
    items = json.loads(RAW.read_text(encoding="utf-8"))["items"]
    return [
        ChatPost(
            network="twitter",
            uri=item["permalink"],
            author_id=item["userid"],  # ids stay strings
            author_handle=item["username"],
            created_at=datetime.fromisoformat(item["posted_at"].replace("Z", "+00:00")),
            text=html.unescape(item["text"] or ""),
            mentions=tuple(item["mentions"]),
            tags=tuple(item["hashtags"]),
        )
        for item in items
    ]


def test_docnow_questions_and_prefixed_answers() -> None:
    posts = load()
    transcript = build_transcript(posts, moderators=[HOST])
    assert [question.label for question in transcript.questions] == [f"Q{n}" for n in range(1, 9)]
    q1 = transcript.questions[0]
    assert q1.uris["twitter"].endswith("/documentnow/status/753665765220376576")
    assert q1.text.startswith("Tell us about some of the social media archives")

    attributions = transcript.attributions
    prefixed = 0
    for post in posts:
        match = SIMPLE_PREFIX.match(post.text)
        if match is None or post.author_handle == "documentnow":
            continue
        prefixed += 1
        result = attributions[post.uri]
        assert (result.question, result.method) == (f"Q{match.group(1)}", "prefix"), post.text
    assert prefixed == 54  # this simple reading; 50 of them fall in the hour (19:00-20:00 UTC)

    by_text = {post.text[:40]: attributions[post.uri] for post in posts}
    late = by_text["Late to the #DocNowCommunity party, catc"]
    assert (late.question, late.method) == ("Q3", "prefix")  # "A3" opens a later sentence
    location = by_text["Hi #DocNowCommunity - archivist & PhD st"]
    assert location.method != "prefix"  # "on here from A2." is a place, not an answer


def test_docnow_report_unprefixed(capsys: pytest.CaptureFixture[str]) -> None:
    """Report (not assert) where the answers without a prefix end up."""
    posts = load()
    transcript = build_transcript(posts, moderators=[HOST])
    unprefixed = [
        transcript.attributions[post.uri]
        for post in posts
        if post.author_handle != "documentnow"
        and transcript.attributions[post.uri].method != "prefix"
    ]
    methods = Counter(result.method for result in unprefixed)
    questions = Counter(result.question or "-" for result in unprefixed)
    with capsys.disabled():
        print(f"\nDocNow: {len(unprefixed)} participant posts without a prefix")
        print("  by method:  ", dict(sorted(methods.items())))
        print("  by question:", dict(sorted(questions.items())))
    assert sum(methods.values()) == len(unprefixed)
