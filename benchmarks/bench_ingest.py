"""Times ingesting 100k synthetic Bluesky posts (normalise, dedupe, store) vs raw executemany."""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chatbot.collect.participants import upsert_participants
from chatbot.collect.store import post_row, upsert_posts
from chatbot.db import init_db
from chatbot.platforms.normalise import from_bluesky_post_view

POSTS = 100_000
DUPLICATES = 0.1  # share of posts seen twice (search and a thread both return them)
START = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
WORDS = ("archive", "tweets", "consent", "context", "tools", "we", "our", "the", "a", "of")


def views(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """``postView`` JSON as searchPosts returns it, with tag facets and some replies."""
    rng = random.Random(seed)
    result = []
    for index in range(count):
        did = f"did:plc:user{rng.randrange(5000):05d}"
        uri = f"at://{did}/app.bsky.feed.post/3k{index:011d}"
        when = (START + timedelta(seconds=index * 0.03)).isoformat().replace("+00:00", "Z")
        text = " ".join(rng.choices(WORDS, k=rng.randint(5, 25))) + " #sm35"
        size = len(text.encode())
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": when,
            "langs": ["en"],
            "facets": [
                {
                    "index": {"byteStart": size - 5, "byteEnd": size},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "sm35"}],
                }
            ],
        }
        if index and rng.random() < 0.3:
            parent = result[rng.randrange(len(result))]
            record["reply"] = {
                "root": {"uri": parent["uri"], "cid": parent["cid"]},
                "parent": {"uri": parent["uri"], "cid": parent["cid"]},
            }
        result.append(
            {
                "uri": uri,
                "cid": f"bafyrei{index:052d}",
                "author": {"did": did, "handle": f"{did[8:]}.bsky.social", "displayName": "U"},
                "record": record,
                "indexedAt": when,
                "replyCount": 0,
                "likeCount": 0,
            }
        )
    return result


def ours(pages: list[dict[str, Any]], url: str) -> float:
    """Normalise, dedupe and store, 100 posts a page as the collector gets them."""
    engine = init_db(url)
    began = time.perf_counter()
    authors: dict[tuple[str, str], tuple[Any, ...]] = {}  # as a Collector keeps it
    with engine.begin() as connection:
        now = datetime.now(UTC)
        for start in range(0, len(pages), 100):
            posts = [from_bluesky_post_view(view) for view in pages[start : start + 100]]
            upsert_posts(connection, posts, event_id=None, now=now)
            upsert_participants(connection, posts, now=now, seen=authors)
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed


def raw(pages: list[dict[str, Any]], path: Path, columns: list[str]) -> float:
    """The same rows with one ``executemany`` of plain tuples (no dedupe, no normalising)."""
    init_db(f"sqlite:///{path}").dispose()
    now = datetime.now(UTC)
    unique = list({view["uri"]: view for view in pages}.values())
    rows = [post_row(from_bluesky_post_view(view), None, now) for view in unique]
    began = time.perf_counter()
    values = [
        tuple(
            json.dumps(row[c])
            if c in ("raw", "tags")
            else row[c].replace(tzinfo=None).isoformat(" ")
            if isinstance(row[c], datetime)
            else row[c]
            for c in columns
        )
        for row in rows
    ]
    connection = sqlite3.connect(path)
    marks = ", ".join("?" for _ in columns)
    with connection:
        connection.executemany(f"INSERT INTO post ({', '.join(columns)}) VALUES ({marks})", values)
    connection.close()
    return time.perf_counter() - began


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else POSTS
    unique = views(count)
    rng = random.Random(5)
    pages = unique + rng.sample(unique, int(count * DUPLICATES))
    columns = list(post_row(from_bluesky_post_view(unique[0]), None, START))
    best_ours, best_raw = float("inf"), float("inf")
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            best_raw = min(best_raw, raw(pages, Path(folder) / "raw.db", columns))
            best_ours = min(best_ours, ours(pages, f"sqlite:///{folder}/ours.db"))
    total = len(pages)
    print(f"{total:,} posts seen ({count:,} unique, {total - count:,} seen twice); best of 3")
    print(f"raw executemany of the unique rows: {best_raw:.3f} s  ({count / best_raw:,.0f} rows/s)")
    rate = total / best_ours
    print(f"normalise + dedupe + store:         {best_ours:.3f} s  ({rate:,.0f} posts/s)")
    print(f"ratio to raw: {best_ours / best_raw:.2f}x")


if __name__ == "__main__":
    main()
