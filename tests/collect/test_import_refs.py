"""The real #DocNowCommunity chat imported as twarc JSONL: mentions, quote links and languages.

The Storify export keeps each tweet's mention screen names and expanded links;
written back as API v1.1 tweets they are what a twarc archive of the chat holds.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.eventref import resolve_event
from chatbot.export import build_document
from chatbot.imports import import_file
from chatbot.models import Post, utcnow
from tests.realdata import REAL_FIXTURES

RAW = REAL_FIXTURES / "tweetchats" / "docnowcommunity" / "docnowcommunity_raw.json"


def v1(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id_str": item["tweet_id"],
        "created_at": item["posted_at"],
        "text": html.unescape(item["text"] or ""),
        "lang": item["lang"],
        "user": {"screen_name": item["username"], "id_str": item["userid"], "name": item["name"]},
        "entities": {
            "hashtags": [{"text": tag} for tag in item["hashtags"]],
            "user_mentions": [{"screen_name": name} for name in item["mentions"]],
            "urls": [{"expanded_url": url} for url in item["urls"]],
        },
    }


def test_docnow_twarc_import_stores_mentions_quote_links_and_languages(
    engine: Engine, tmp_path: Path
) -> None:
    items = json.loads(RAW.read_text(encoding="utf-8"))["items"]
    path = tmp_path / "docnow.jsonl"
    path.write_text("\n".join(json.dumps(v1(item)) for item in items) + "\n", encoding="utf-8")
    report = import_file(engine, path, hashtag="DocNowCommunity", host="documentnow")
    assert report.posts == 319
    with Session(engine) as session:
        rows = list(session.execute(select(Post)).scalars())
        event = resolve_event(session, "DocNowCommunity", purpose="record", now=utcnow())
        document = build_document(session, event)
    stored = {row.uri for row in rows}
    assert sum(1 for row in rows if row.mentions) == 130
    assert sum(1 for row in rows if row.quote_uris) == 41
    # Quote links name tweets of the chat itself (all but two, which were not collected).
    assert sum(1 for row in rows if set(row.quote_uris) & stored) == 39
    assert all(row.quote_uri == row.quote_uris[0] for row in rows if row.quote_uris)
    assert {row.lang for row in rows} >= {"en"} and all(row.lang for row in rows)
    replying = next(row for row in rows if row.text.startswith("@") and row.mentions)
    assert replying.mentions[0].lower() in replying.text.lower()
    methods = Counter(post["method"] for post in document["posts"])
    # The mention and quote evidence now runs on a real chat (none before: nothing stored).
    assert methods["quote"] >= 10 and methods["mention"] >= 10, methods
