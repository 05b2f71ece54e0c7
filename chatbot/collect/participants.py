"""Participants: every author seen, with followers count and consent (opt-out) flags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from chatbot.collect.store import PARTICIPANT, POST, chunks, insert_rows, set_post
from chatbot.platforms.base import OPT_OUT_FLAGS, AuthorProfile, NormalisedPost

OPTOUT_POST_REASON = "#optout post"


def profile_opt_out(flags: Iterable[str]) -> str | None:
    """Why a profile's flags opt its owner out, or None."""
    found = sorted(set(flags) & OPT_OUT_FLAGS)
    return "profile: " + ", ".join(found) if found else None


def _profile_key(post: NormalisedPost) -> tuple[Any, ...]:
    return (post.author_handle, post.author_display_name, post.author_followers, post.author_flags)


def _key_of(profile: AuthorProfile) -> tuple[Any, ...]:
    return (profile.handle, profile.display_name, profile.followers, profile.flags)


def upsert_participants(
    connection: Connection,
    seen_in: Iterable[NormalisedPost | AuthorProfile],
    *,
    now: datetime,
    seen: dict[tuple[str, str], tuple[Any, ...]] | None = None,
) -> int:
    """Record every author seen with followers count and consent flags; returns rows changed.

    ``seen_in`` holds posts (their authors are recorded; a deleted post's
    are not) or profiles. ``seen`` (kept by the caller across batches, e.g.
    one per collector) remembers the profile last stored for each account,
    so an author seen again unchanged costs no query.
    """
    authors: dict[tuple[str, str], AuthorProfile] = {}
    for item in seen_in:
        if isinstance(item, AuthorProfile):
            if item.account_id:
                key = (item.network, item.account_id)
                if seen is None or seen.get(key) != _key_of(item):
                    authors[key] = item
        elif item.author_id and not item.deleted:
            key = (item.network, item.author_id)
            if seen is None or seen.get(key) != _profile_key(item):
                authors[key] = item.author  # a profile made only for authors that changed
    if seen is not None:
        seen.update((key, _key_of(profile)) for key, profile in authors.items())
    changed = 0
    by_network: dict[str, list[AuthorProfile]] = {}
    for (network, _), profile in authors.items():
        by_network.setdefault(network, []).append(profile)
    for network, items in by_network.items():
        for chunk in chunks(items):
            changed += _participants_chunk(connection, network, chunk, now)
    return changed


def _participants_chunk(
    connection: Connection, network: str, chunk: Sequence[AuthorProfile], now: datetime
) -> int:
    ids = [profile.account_id for profile in chunk]
    c = PARTICIPANT.c
    wanted = (c.id, c.account_id, c.handle, c.display_name, c.followers_count)
    query = select(*wanted, c.opted_out, c.opt_out_reason, c.noindex).where(
        PARTICIPANT.c.network == network, PARTICIPANT.c.account_id.in_(ids)
    )
    existing = {row.account_id: row for row in connection.execute(query)}
    fresh: list[dict[str, Any]] = []  # new rows, all with the same keys
    changed = 0
    for profile in chunk:
        reason = profile_opt_out(profile.flags)
        values = {
            "handle": profile.handle,
            "display_name": profile.display_name,
            "followers_count": profile.followers,
            "noindex": bool(profile.flags & {"noindex", "no-unauthenticated"}),
        }
        row = existing.get(profile.account_id)
        if row is None:
            fresh.append(
                values
                | {
                    "network": network,
                    "account_id": profile.account_id,
                    "opted_out": reason is not None,
                    "opt_out_reason": reason,
                    "first_seen_at": now,
                    "updated_at": now,
                }
            )
            continue
        sticky = row.opt_out_reason == OPTOUT_POST_REASON
        if profile.followers is None:
            # A partial profile (a Bluesky post view has no bio): it can add an
            # opt-out, never lift one, and says nothing of followers.
            sticky = sticky or bool(row.opted_out)
            values["followers_count"] = row.followers_count
            values["noindex"] = values["noindex"] or row.noindex
        values["opted_out"] = sticky or reason is not None
        values["opt_out_reason"] = row.opt_out_reason if sticky else reason
        if not values["handle"]:
            values.pop("handle")
            values.pop("display_name")
        if any(getattr(row, key) != value for key, value in values.items()):
            connection.execute(
                update(PARTICIPANT)
                .where(PARTICIPANT.c.id == row.id)
                .values(**values, updated_at=now)
            )
            changed += 1
    if fresh:
        insert_rows(connection, PARTICIPANT, fresh)
    return changed + len(fresh)


def sync_post_opt_outs(connection: Connection, event_id: int) -> int:
    """Copy each participant's opt-out onto the event's posts; returns rows changed."""
    rows = connection.execute(
        select(POST.c.id, POST.c.opted_out, PARTICIPANT.c.opted_out.label("wanted"))
        .select_from(
            POST.join(
                PARTICIPANT,
                and_(
                    PARTICIPANT.c.network == POST.c.network,
                    PARTICIPANT.c.account_id == POST.c.author_id,
                ),
            )
        )
        .where(
            POST.c.event_id == event_id,
            func.coalesce(POST.c.opted_out, False) != func.coalesce(PARTICIPANT.c.opted_out, False),
        )
    ).all()
    changed = 0
    for row in rows:  # only the posts whose flag differs from their author's
        if bool(row.opted_out) != bool(row.wanted):
            set_post(connection, row.id, {"opted_out": bool(row.wanted)})
            changed += 1
    return changed


__all__ = [
    "OPTOUT_POST_REASON",
    "profile_opt_out",
    "sync_post_opt_outs",
    "upsert_participants",
]
