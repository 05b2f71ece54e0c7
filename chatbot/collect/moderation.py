"""Event-wide passes over stored posts: #optout posts, spam flags, opt-outs onto posts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, select, update

from chatbot.collect.participants import OPTOUT_POST_REASON, sync_post_opt_outs
from chatbot.collect.rowbatches import live_post_ids, row_batches
from chatbot.collect.spam import SpamInput, classify, has_link
from chatbot.collect.store import PARTICIPANT, POST
from chatbot.models import Event
from chatbot.platforms.htmltext import html_links
from chatbot.transcript import read_prefixes

DEFAULT_OPTOUT_TAG = "optout"
MANUAL_PREFIX = "moderator:"  # spam reasons set by hand are kept as they are
STREAM_ROWS = 2_000  # rows read at a time (a server-side cursor on PostgreSQL)
WRITE_ROWS = 1_000  # flags written back per executemany


def setting_list(event: Event, name: str) -> list[str]:
    """A list-valued event setting (a list, or a comma/space separated string)."""
    value = (event.settings or {}).get(name) or []
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    return [str(item) for item in value if str(item).strip()]


def optout_tag(event: Event) -> str:
    return str((event.settings or {}).get("optout_tag") or DEFAULT_OPTOUT_TAG).lstrip("#").lower()


def apply_optout_posts(connection: Connection, event: Event, *, now: datetime) -> int:
    """Opt out every author of an ``#optout`` post (tag per event); returns accounts changed."""
    tag = optout_tag(event)
    pattern = re.compile(rf"(?<![\w#])#{re.escape(tag)}(?!\w)", re.IGNORECASE)
    rows = connection.execute(
        select(POST.c.network, POST.c.author_id, POST.c.tags, POST.c.text)
        .where(POST.c.event_id == event.id, POST.c.deleted_at.is_(None))
        .execution_options(yield_per=STREAM_ROWS)
    )
    authors = {
        (row.network, row.author_id)
        for row in rows
        if tag in {str(t).lower() for t in row.tags or []} or pattern.search(row.text or "")
    }
    changed = 0
    for network, author_id in sorted(authors):
        done = connection.execute(
            update(PARTICIPANT)
            .where(
                PARTICIPANT.c.network == network,
                PARTICIPANT.c.account_id == author_id,
                (PARTICIPANT.c.opt_out_reason.is_(None))
                | (PARTICIPANT.c.opt_out_reason != OPTOUT_POST_REASON),
            )
            .values(opted_out=True, opt_out_reason=OPTOUT_POST_REASON, updated_at=now)
        )
        changed += done.rowcount or 0
    return changed


def cohost_keys(event: Event) -> set[tuple[str, str]]:
    """(network, lower-case handle) of every co-host, on each of the event's networks."""
    networks = [*(event.networks or []), "twitter"]
    return {
        (network, handle.lstrip("@").lower())
        for handle in setting_list(event, "cohosts")
        for network in networks
    }


def _links(row: Any) -> bool:
    if has_link(row.text or ""):
        return True
    if row.html and html_links(row.html):
        return True
    record = (row.raw or {}).get("record") or {}
    for facet in record.get("facets") or []:
        for feature in (facet or {}).get("features") or []:
            if str((feature or {}).get("$type", "")).endswith("#link"):
                return True
    return False


def apply_spam(
    connection: Connection, event: Event, moderators: Iterable[tuple[str, str]] = ()
) -> int:
    """Flag (and unflag) the event's spam; returns rows changed. Hand-set reasons stay.

    ``moderators`` are the bot's and the moderators' accounts; the question
    file's co-hosts (``cohosts`` in the event's settings) join them.
    """
    mods = set(moderators) | cohost_keys(event)
    rows = connection.execute(
        select(
            POST.c.id,
            POST.c.uri,
            POST.c.network,
            POST.c.author_id,
            POST.c.author_handle,
            POST.c.created_at,
            POST.c.text,
            POST.c.html,
            # Only a Bluesky post's raw JSON says more (its link facets): decoding is the cost.
            case((POST.c.network == "bluesky", POST.c.raw), else_=None).label("raw"),
            POST.c.tags,
            POST.c.parent_uri,
            POST.c.quote_uri,
        )
        .where(POST.c.event_id == event.id, POST.c.deleted_at.is_(None))
        .execution_options(yield_per=STREAM_ROWS)
    )
    # Read in batches and kept compact: the rules need every post's text, not its raw JSON.
    inputs: list[SpamInput] = []
    # One object for each author, handle and set of tags, shared by all their posts.
    shared: dict[Any, Any] = {}
    for row in rows:
        author = f"{row.network}:{row.author_id}"
        tags = tuple(str(t) for t in row.tags or [])
        inputs.append(
            SpamInput(
                uri=row.uri,
                author=shared.setdefault(author, author),
                handle=shared.setdefault(row.author_handle or "", row.author_handle or ""),
                created_at=row.created_at,
                text=row.text or "",
                tags=shared.setdefault(tags, tags),
                has_link=_links(row),
                parent_uri=row.parent_uri,
                quote_uri=row.quote_uri,
                answers=any(m.kind == "A" for m in read_prefixes(row.text or "")),
                moderator=(row.network, row.author_id) in mods
                or (row.network, (row.author_handle or "").lower()) in mods,
            )
        )
    reasons = classify(
        inputs,
        event.hashtag,
        block=setting_list(event, "spam_block"),
        allow=setting_list(event, "spam_allow"),
    )
    del inputs, shared
    return _write_reasons(connection, event, reasons)


def _write_reasons(connection: Connection, event: Event, reasons: dict[str, str]) -> int:
    """Set each live post's spam reason to ``reasons``' (hand-set ones stay); rows changed.

    The rows are read again ``WRITE_ROWS`` at a time by id (no cursor open
    while they are written), with only their id, URI and reason now.
    """
    statement = (
        update(POST).where(POST.c.id == bindparam("row_id")).values(spam_reason=bindparam("reason"))
    )
    assert event.id is not None
    changed = 0
    ids = live_post_ids(connection, event.id)
    for rows in row_batches(connection, [POST.c.uri, POST.c.spam_reason], ids, WRITE_ROWS):
        changes = [
            {"row_id": row_id, "reason": reasons.get(uri)}
            for row_id, uri, reason in rows
            if not (reason or "").startswith(MANUAL_PREFIX) and reasons.get(uri) != reason
        ]
        if changes:
            connection.execute(statement, changes)
            changed += len(changes)
    return changed


def refresh_flags(
    connection: Connection,
    event: Event,
    *,
    now: datetime,
    moderators: Iterable[tuple[str, str]] = (),
) -> None:
    """Run every event-wide pass: #optout posts, opt-outs onto posts, spam."""
    apply_optout_posts(connection, event, now=now)
    assert event.id is not None
    sync_post_opt_outs(connection, event.id)
    apply_spam(connection, event, moderators)


__all__ = [
    "DEFAULT_OPTOUT_TAG",
    "apply_optout_posts",
    "apply_spam",
    "cohost_keys",
    "optout_tag",
    "refresh_flags",
    "setting_list",
]
