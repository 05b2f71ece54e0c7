"""The status of every post of an event (read only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from chatbot import db
from chatbot.eventref import resolve_event
from chatbot.models import Event, ScheduledPost, utcnow


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
        return "\n".join(lines)


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
        return EventStatus(
            event.id, event.hashtag, event.title, event.timezone, event.state, event.paused,
            tuple(event.networks), tuple(posts),
        )  # fmt: skip


__all__ = [
    "EventStatus",
    "PostStatus",
    "local_time",
    "posts_of",
    "status",
]
