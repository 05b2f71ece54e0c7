"""The status of every post of an event, and of the posts collected so far (read only)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from chatbot import db
from chatbot.collect.budgetuse import SOURCE as BUDGET_SOURCE
from chatbot.collect.budgetuse import WINDOW as BUDGET_WINDOW
from chatbot.collect.budgetuse import BudgetUse, budget_use, recent_requests
from chatbot.collect.coverage import CoverageReport, coverage_report
from chatbot.collect.queries import load_cursor
from chatbot.eventref import resolve_event
from chatbot.export.counts import stored_counts
from chatbot.models import CollectionCursor, Event, LateReply, Post, ScheduledPost, utcnow
from chatbot.transcript.counts import ChatCounts


@dataclass(frozen=True)
class PostStatus:
    label: str
    kind: str
    due_at: datetime
    due_local: str
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class EventStatus:
    """Every post of an event with its due time and its state on each network."""

    event_id: int
    hashtag: str
    title: str
    timezone: str
    state: str
    paused: bool
    networks: tuple[str, ...]
    posts: tuple[PostStatus, ...]
    collected: dict[str, int] = field(default_factory=dict)  # network -> posts kept so far
    newest: dict[str, str] | None = None  # the post collected last: network, author, time, url
    coverage: CoverageReport | None = None  # what collection found where, and what it can't see
    counts: ChatCounts | None = None  # posts and participants as the transcript and recap count
    budget: tuple[BudgetUse, ...] = ()  # per network: requests spent of the collector's share
    late_joiners: bool = True  # whether requests for a question are answered (bot.latejoiners)
    replies: dict[str, dict[str, int]] = field(default_factory=dict)  # network -> state -> count

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "hashtag": self.hashtag,
            "title": self.title,
            "timezone": self.timezone,
            "state": self.state,
            "paused": self.paused,
            "networks": list(self.networks),
            "posts": [
                {
                    "label": p.label,
                    "kind": p.kind,
                    "due_at": p.due_at.isoformat(),
                    "due_local": p.due_local,
                    "deliveries": p.deliveries,
                }
                for p in self.posts
            ],
            "collected": dict(self.collected),
            "newest": self.newest,
            "coverage": self.coverage.as_dict() if self.coverage else None,
            "budget": [use.as_dict() for use in self.budget],
            "counts": self.counts.as_dict() if self.counts else None,
            "late_joiners": {"on": self.late_joiners, "replies": self.replies},
        }

    def summary(self) -> str:
        state = "paused" if self.paused else self.state
        lines = [f'#{self.hashtag} "{self.title}" (event {self.event_id}): {state}']
        width = max((len(p.label) for p in self.posts), default=4)
        for post in self.posts:
            for network in self.networks:
                info = post.deliveries.get(network)
                if info is None:
                    continue
                what = info["state"] + (" late" if info["late"] else "")
                if info["state"] in ("failed", "skipped") and info["last_error"]:
                    what += f": {info['last_error'].removeprefix(info['state'] + ': ')}"
                elif info["state"] == "pending" and info["last_error"]:
                    what += f" (retrying: {info['last_error']})"
                link = f"  {info['url']}" if info["url"] else ""
                lines.append(
                    f"{post.label:<{width}}  {post.due_local}  {network:<8}  {what}{link}".rstrip()
                )
        lines.append(self.collected_line())
        if self.counts is not None and (self.counts.posts or self.counts.host_posts):
            lines.append(f"in the transcript and recap: {self.counts.phrase()}")
        if self.coverage is not None:
            lines += self.coverage.lines()
        lines += [use.line(lambda moment: local_time(moment, self.timezone)) for use in self.budget]
        if self.replies or not self.late_joiners:
            lines.append(self.replies_line())
        return "\n".join(lines)

    def replies_line(self) -> str:
        """E.g. "late joiners: 3 replies (bluesky 2 posted, mastodon 1 pending)"."""
        total = sum(sum(states.values()) for states in self.replies.values())
        switch = "" if self.late_joiners else "off"
        if not total:
            return f"late joiners: {switch or 'no replies yet'}"
        parts = ", ".join(
            f"{network} " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
            for network, states in sorted(self.replies.items())
        )
        shown = f"{total} repl{'y' if total == 1 else 'ies'} ({parts})"
        return f"late joiners: {switch + ', ' if switch else ''}{shown}"

    def collected_line(self) -> str:
        """E.g. "collected: 12 posts (bluesky 9, mastodon 3); newest @ada at 16:52:03 EST"."""
        total = sum(self.collected.values())
        if not total:
            return "collected: no posts yet"
        parts = ", ".join(f"{network} {n}" for network, n in sorted(self.collected.items()))
        line = f"collected: {total} post{'s' if total != 1 else ''} ({parts})"
        if self.newest:
            line += f"; newest @{self.newest['author']} at {self.newest['created_local']}"
            line += f"  {self.newest['url']}" if self.newest["url"] else ""
        return line


def posts_of(session: Session, event: Event) -> list[ScheduledPost]:
    return list(
        session.exec(
            select(ScheduledPost)
            .where(ScheduledPost.event_id == event.id)
            .order_by(col(ScheduledPost.position))
        )
    )


def local_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M:%S %Z")


def status(engine: Engine, ref: str, *, now: datetime | None = None) -> EventStatus:
    """Every post of the event: due time in the event's zone, and state and link per network."""
    with db.session_scope(engine) as session:
        event = resolve_event(session, ref, purpose="act", now=now or utcnow())
        assert event.id is not None
        posts = []
        for post in posts_of(session, event):
            deliveries = {
                d.network: {
                    "state": d.state,
                    "late": d.late,
                    "url": d.remote_url or d.remote_uri or "",
                    "uri": d.remote_uri or "",
                    "attempts": d.attempts,  # tries that may have failed for real
                    "rate_limited": d.rate_limited,  # tries refused with a rate limit
                    "last_error": d.last_error or "",
                    "posted_at": d.posted_at.isoformat() if d.posted_at else None,
                    "due_at": d.due_at.isoformat(),
                }
                for d in post.deliveries
            }
            posts.append(
                PostStatus(
                    post.label,
                    post.kind,
                    post.due_at,
                    local_time(post.due_at, event.timezone),
                    deliveries,
                )
            )
        collected, newest = collected_posts(session, event)
        return EventStatus(
            event.id, event.hashtag, event.title, event.timezone, event.state, event.paused,
            tuple(event.networks), tuple(posts), collected, newest,
            coverage_report(session.connection(), event),
            stored_counts(session, [event])[event.id],
            budget_of(session, event, now or utcnow()),
            (event.settings or {}).get("late_joiners") is not False,
            replies_of(session, event),
        )  # fmt: skip


def replies_of(session: Session, event: Event) -> dict[str, dict[str, int]]:
    """How many late joiners' replies the event has, per network and state."""
    rows = session.exec(
        select(LateReply.network, LateReply.state, func.count())
        .where(LateReply.event_id == event.id)
        .group_by(col(LateReply.network), col(LateReply.state))
    ).all()
    found: dict[str, dict[str, int]] = {}
    for network, state, count in rows:
        found.setdefault(network, {})[state] = int(count)
    return found


def budget_of(session: Session, event: Event, now: datetime) -> tuple[BudgetUse, ...]:
    """Per network the event collects from, what collection spent of its request budget
    (nothing for a network not collected from yet)."""
    assert event.id is not None
    uses = []
    for network in event.networks:
        state = load_cursor(session, event.id, network, BUDGET_SOURCE)
        if state:
            use = budget_use(network, state, now)
            chats, together = _account_recent(session, network, now)
            uses.append(replace(use, all_recent=together, chats=max(chats, 1)))
    return tuple(uses)


def _account_recent(session: Session, network: str, now: datetime) -> tuple[int, int]:
    """(chats, requests) that collection spent on ``network`` in the last five minutes,
    every event together: the budget is the account's, shared by the chats collected."""
    rows = session.exec(
        select(CollectionCursor.cursor).where(
            col(CollectionCursor.network) == network,
            col(CollectionCursor.source) == BUDGET_SOURCE,
            col(CollectionCursor.updated_at) >= now - BUDGET_WINDOW,
        )
    ).all()
    spent = [recent_requests(json.loads(raw), now) for raw in rows if raw]
    return sum(1 for n in spent if n), sum(spent)


def collected_posts(session: Session, event: Event) -> tuple[dict[str, int], dict[str, str] | None]:
    """Per network, the event's collected posts still shown (not deleted, hidden or spam),
    and the one collected last (by when the bot first saw it)."""
    shown = (
        col(Post.event_id) == event.id,
        col(Post.deleted_at).is_(None),
        col(Post.hidden_reason).is_(None),
        col(Post.spam_reason).is_(None),
    )
    counts = session.exec(
        select(Post.network, func.count()).where(*shown).group_by(col(Post.network))
    ).all()
    last = session.exec(
        select(Post)
        .where(*shown)
        .order_by(col(Post.first_seen_at).desc(), col(Post.id).desc())
        .limit(1)  # .first() alone would load (and decode) every row
    ).first()
    newest = None
    if last is not None:
        newest = {
            "network": last.network,
            "author": last.author_handle or last.author_id,
            "created_local": local_time(last.created_at, event.timezone),
            "url": last.url or "",
            "uri": last.uri,
        }
    return {network: count for network, count in counts}, newest


__all__ = [
    "EventStatus",
    "PostStatus",
    "collected_posts",
    "local_time",
    "posts_of",
    "status",
]
