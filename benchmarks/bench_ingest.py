"""Times ingesting 100k synthetic Bluesky posts (normalise, dedupe, store) vs raw executemany."""

from __future__ import annotations

import gc
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON

from chatbot import jsontext
from chatbot.collect.participants import upsert_participants
from chatbot.collect.sightings import FoundBy
from chatbot.collect.store import post_row, upsert_posts
from chatbot.db import create_engine_for, migrate
from chatbot.models import Post, UTCDateTime
from chatbot.platforms.normalise import from_bluesky_post_view

POSTS = 100_000
DUPLICATES = 0.1  # share of posts seen twice (search and a thread both return them)
START = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
# Every page records where its posts were found (post_sighting), as the collector's do.
FOUND_BY = FoundBy("search", "https://public.api.bsky.app")
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


def ours(
    pages: list[dict[str, Any]],
    url: str,
    *,
    commit_each_page: bool = False,
    found_by: FoundBy | None = FOUND_BY,
) -> float:
    """Normalise, dedupe and store, 100 posts a page as the collector gets them.

    The collector commits each page (with its cursor); ``commit_each_page``
    does so too, otherwise all pages share one transaction like the baseline.
    ``found_by=None`` leaves out recording where each post was found.
    """
    engine = create_engine_for(url)
    migrate(engine)
    began = time.perf_counter()
    authors: dict[tuple[str, str], tuple[Any, ...]] = {}  # as a Collector keeps it
    with engine.connect() as connection:
        transaction = connection.begin()
        now = datetime.now(UTC)
        for start in range(0, len(pages), 100):
            posts = [from_bluesky_post_view(view) for view in pages[start : start + 100]]
            upsert_posts(connection, posts, event_id=None, now=now, found_by=found_by)
            upsert_participants(connection, posts, now=now, seen=authors)
            if commit_each_page:
                transaction.commit()
                transaction = connection.begin()
        transaction.commit()
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed


_encode_json = jsontext.dumps  # what the store and the engine write


def _sqlite_time(value: datetime | None) -> str | None:
    """A ``UTCDateTime`` as stored on SQLite: naive UTC text with microseconds."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def raw(pages: list[dict[str, Any]], path: Path, columns: list[str]) -> tuple[float, float]:
    """The same rows with one ``executemany`` of plain tuples (no dedupe, no normalising).

    Timed: converting the values as the column types would (JSON dumped,
    times as text; each column's conversion chosen once) and the insert.
    Returns that time and the insert's alone: the floor under any ingest of
    these rows through Python's ``sqlite3``.
    """
    schema = create_engine_for(f"sqlite:///{path}")
    migrate(schema)
    schema.dispose()
    now = datetime.now(UTC)
    unique = list({view["uri"]: view for view in pages}.values())
    rows = [post_row(from_bluesky_post_view(view), None, now) for view in unique]
    types = [Post.__table__.c[c].type for c in columns]  # type: ignore[attr-defined]
    convert = [
        _sqlite_time
        if isinstance(t, UTCDateTime)
        else _encode_json
        if isinstance(t, JSON)
        else None
        for t in types
    ]
    plan = list(zip(columns, convert, strict=True))
    began = time.perf_counter()
    values = [tuple([row[c] if f is None else f(row[c]) for c, f in plan]) for row in rows]
    connection = sqlite3.connect(path)
    marks = ", ".join("?" for _ in columns)
    inserting = time.perf_counter()
    with connection:
        connection.executemany(f"INSERT INTO post ({', '.join(columns)}) VALUES ({marks})", values)
    connection.close()
    done = time.perf_counter()
    return done - began, done - inserting


def sightings(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM post_sighting").fetchone()
    connection.close()
    return int(count)


def same_rows(one: Path, other: Path, columns: list[str]) -> bool:
    """Whether two databases hold the same post rows (but for the time of the run)."""
    stamps = ("first_seen_at", "last_seen_at", "counts_at")
    wanted = ", ".join(c for c in columns if c not in stamps)
    found = []
    for path in (one, other):
        with sqlite3.connect(path) as connection:
            query = f"SELECT {wanted} FROM post ORDER BY network, uri"
            found.append(connection.execute(query).fetchall())
        connection.close()
    return found[0] == found[1]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else POSTS
    unique = views(count)
    rng = random.Random(5)
    pages = unique + rng.sample(unique, int(count * DUPLICATES))
    columns = list(post_row(from_bluesky_post_view(unique[0]), None, START))
    # The input corpus lives for the whole run, as no collector's input does
    # (it gets a page at a time): keep the garbage collector from walking
    # its million objects again and again while ours and the baseline run.
    gc.collect()
    gc.freeze()
    best_ours, best_raw, best_paged = float("inf"), float("inf"), float("inf")
    best_insert, best_unsighted = float("inf"), float("inf")
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            whole, insert_only = raw(pages, Path(folder) / "raw.db", columns)
            best_raw, best_insert = min(best_raw, whole), min(best_insert, insert_only)
            best_ours = min(best_ours, ours(pages, f"sqlite:///{folder}/ours.db"))
            paged = ours(pages, f"sqlite:///{folder}/paged.db", commit_each_page=True)
            best_paged = min(best_paged, paged)
            unsighted = ours(pages, f"sqlite:///{folder}/unsighted.db", found_by=None)
            best_unsighted = min(best_unsighted, unsighted)
            folder_path = Path(folder)
            if not same_rows(folder_path / "raw.db", folder_path / "ours.db", columns):
                raise SystemExit("the baseline and the ingest stored different rows")
            if sightings(folder_path / "ours.db") != count:
                raise SystemExit("the ingest did not record one sighting per post")
    total = len(pages)
    print(f"{total:,} posts seen ({count:,} unique, {total - count:,} seen twice); best of 3")
    print(f"raw executemany of the unique rows: {best_raw:.3f} s  ({count / best_raw:,.0f} rows/s)")
    rate = count / best_insert
    print(f"  of which the insert alone:        {best_insert:.3f} s  ({rate:,.0f} rows/s)")
    rate = total / best_ours
    print(f"normalise + dedupe + store:         {best_ours:.3f} s  ({rate:,.0f} posts/s)")
    rate = total / best_paged
    print(f"  the same, committing each page:   {best_paged:.3f} s  ({rate:,.0f} posts/s)")
    rate = total / best_unsighted
    print(f"  the same, no post_sighting rows:  {best_unsighted:.3f} s  ({rate:,.0f} posts/s)")
    paged = best_paged / best_raw
    print(f"ratio to raw: {best_ours / best_raw:.2f}x (committing each page: {paged:.2f}x)")
    print(f"recording where posts were found: {best_ours / best_unsighted:.2f}x the ingest without")


if __name__ == "__main__":
    main()
