"""Comparing a collected event with the crowd's ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.models import Post

# The adapters treat Mastodon's `indexable: false` as no opt-out (it is the default for
# new accounts and only concerns full-text search); the crowd counts it as one.
NOT_AN_OPT_OUT = {"not_indexable"}


def stored_posts(engine: Engine, event_id: int) -> list[Post]:
    with Session(engine) as session:
        query = select(Post).where(Post.event_id == event_id)
        return list(session.execute(query).scalars())


def row_of(rows: dict[tuple[str, str], Post], post: dict[str, Any]) -> Post | None:
    return rows.get((post["network"], post["ref"] or ""))


def index(rows: list[Post]) -> dict[tuple[str, str], Post]:
    """Rows by (network, truth ref): at:// URI on Bluesky, status id on Mastodon."""
    found: dict[tuple[str, str], Post] = {}
    for row in rows:
        key = (row.network, row.uri if row.network == "bluesky" else row.remote_id)
        assert key not in found, f"stored twice: {key}"
        found[key] = row
    return found


@dataclass
class Coverage:
    """What of the truth was collected."""

    expected: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    unreachable_missing: list[dict[str, Any]] = field(default_factory=list)
    not_marked_deleted: list[dict[str, Any]] = field(default_factory=list)
    stale_edits: list[tuple[str, str]] = field(default_factory=list)
    thread_answers_without_tag: int = 0


def unreachable(post: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> bool:
    """True when a deleted ancestor cut the post off from every tagged post and question."""
    parent = by_id.get(post["parent_plan_id"] or "")
    while parent is not None:
        if parent["deleted"]:
            return True
        parent = by_id.get(parent["parent_plan_id"] or "")
    return False


def coverage(truth: dict[str, Any], rows: list[Post]) -> Coverage:
    by_id = {p["plan_id"]: p for p in truth["posts"]}
    stored = index(rows)
    result = Coverage()
    for post in truth["posts"]:
        if post["status"] != "posted":
            continue
        row = row_of(stored, post)
        if post["deleted"]:
            if row is not None and row.deleted_at is None:
                result.not_marked_deleted.append(post)
            continue
        if post["visibility"] != "public":
            continue
        result.expected.append(post)
        if row is None:
            cut = not post["has_hashtag"] and unreachable(post, by_id)
            (result.unreachable_missing if cut else result.missing).append(post)
            continue
        if post["kind"] == "thread_answer" and not post["has_hashtag"]:
            result.thread_answers_without_tag += 1
        if post["edited"] and row.text.strip() != post["text"].strip():
            result.stale_edits.append((row.text, post["text"]))
    return result


def describe(posts: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(p["network"], p["kind"], p["text"][:40]) for p in posts]
