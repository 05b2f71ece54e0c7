"""What the live page shows, read from the store as plain JSON-ready data (read only).

One :func:`snapshot` per change: the schedule and each post's state per network
(``chatbot status``'s own :func:`chatbot.bot.eventstatus.status`), the answers
per question as the transcript attributes them, the counts per network, the
spam queue and the low-confidence queue (``chatbot review``'s list, from
:func:`chatbot.export.review.unsure_items` over the same attribution).
:func:`fingerprint` is the cheap query the page's stream polls to know when
to read a new snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy import select as sql_select
from sqlmodel import col, select

from chatbot import db
from chatbot.bot.eventstatus import EventStatus, local_time, status
from chatbot.export.document import ExportOptions, attributed, exclusion
from chatbot.export.review import DEFAULT_BELOW, unsure_items
from chatbot.models import AttributionOverride, Event, Post, PostDelivery, ScheduledPost
from chatbot.recap.sanitise import safe_url

ANSWERS_SHOWN = 50  # the newest answers per question on the page; the count says how many in all
QUEUE_SHOWN = 100  # the oldest entries of each queue
_FINAL = ("posted", "failed", "skipped")


@dataclass(frozen=True)
class NextPost:
    """The next post still to go out on some network, as of the last snapshot.

    The page's clock ticks from it without reading the store again: whatever
    would change it (a post out, a delay, a pause) changes the fingerprint too.
    """

    timezone: str
    paused: bool
    label: str | None = None
    due: datetime | None = None

    @classmethod
    def of(cls, current: EventStatus) -> NextPost:
        for post in current.posts:
            waiting = [i for i in post.deliveries.values() if i["state"] not in _FINAL]
            if waiting:
                due = min(datetime.fromisoformat(info["due_at"]) for info in waiting)
                return cls(current.timezone, current.paused, post.label, due)
        return cls(current.timezone, current.paused)

    def clock(self, now: datetime) -> dict[str, Any]:
        """The clock in the event's zone, and the countdown to the next post."""
        shown: dict[str, Any] = {
            "now_local": local_time(now, self.timezone),
            "next_label": self.label,
            "next_local": None,
            "countdown": None,
        }
        if self.label is not None and self.due is not None:
            shown["next_local"] = local_time(self.due, self.timezone)
            shown["countdown"] = "paused" if self.paused else countdown(self.due - now)
        return shown


@dataclass(frozen=True)
class Snapshot:
    """What the page shows (JSON-ready) and the next post its clock counts down to."""

    data: dict[str, Any]
    next: NextPost


def countdown(delta: timedelta) -> str:
    """E.g. ``4:05``, ``1:02:03``; a due time already passed is ``due``."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "due"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def _post(row: Post, timezone: str) -> dict[str, Any]:
    return {
        "uri": row.uri,
        "url": safe_url(row.url) or "",
        "network": row.network,
        "author": (row.author_handle or row.author_id).lstrip("@"),
        "time_local": local_time(row.created_at, timezone),
        "text": row.text,
    }


def _attributed(engine: Engine, event_id: int) -> dict[str, Any]:
    """Each planned question with its answers (newest first), the posts of no question,
    and the review list: one attribution for both."""
    with db.session_scope(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        rows, planned, transcript = attributed(session, event)
        by_label: dict[str, list[Post]] = {question.label: [] for question in planned}
        unplaced = 0
        for row in rows:
            result = transcript.attributions.get(row.uri)
            if exclusion(row, ExportOptions()) is not None or result is None:
                continue
            if result.is_question or result.method == "moderator":
                continue
            if result.question in by_label:
                by_label[result.question].append(row)
            else:
                unplaced += 1
        questions = []
        for question in planned:
            answers = sorted(by_label[question.label], key=lambda r: (r.created_at, r.uri))
            newest = [_post(row, event.timezone) for row in reversed(answers[-ANSWERS_SHOWN:])]
            questions.append(
                {"label": question.label, "text": question.text, "count": len(answers),
                 "answers": newest}
            )  # fmt: skip
        unsure = unsure_items(rows, transcript, DEFAULT_BELOW)[:QUEUE_SHOWN]
        review = [
            {
                "uri": item.uri,
                "url": safe_url(item.url) or "",
                "network": item.network,
                "author": item.author,
                "time_local": local_time(item.created_at, event.timezone),
                "text": item.text,
                "guess": item.guess or "none",
                "confidence": f"{item.confidence:.2f}",
                "runner_up": item.runner_up or "",
            }
            for item in unsure
        ]
        return {"questions": questions, "unplaced": unplaced, "review": review}


def _spam(engine: Engine, event_id: int, timezone: str) -> list[dict[str, Any]]:
    """Posts flagged as spam and not yet hidden, oldest first."""
    with db.session_scope(engine) as session:
        rows = session.exec(
            select(Post)
            .where(
                col(Post.event_id) == event_id,
                col(Post.deleted_at).is_(None),
                col(Post.hidden_reason).is_(None),
                col(Post.spam_reason).is_not(None),
            )
            .order_by(col(Post.created_at), col(Post.id))
            .limit(QUEUE_SHOWN)
        ).all()
        return [{**_post(row, timezone), "reason": row.spam_reason or ""} for row in rows]


def snapshot(engine: Engine, event_id: int, *, now: datetime) -> Snapshot:
    """Everything the page shows of the event, as JSON-ready data."""
    current = status(engine, str(event_id), now=now)
    upcoming = NextPost.of(current)
    data = {
        "event": {
            "id": current.event_id,
            "hashtag": current.hashtag,
            "title": current.title,
            "timezone": current.timezone,
            "state": "paused" if current.paused else current.state,
            "paused": current.paused,
            "networks": list(current.networks),
        },
        "clock": upcoming.clock(now),
        "schedule": [
            {
                "label": post.label,
                "kind": post.kind,
                "due_local": post.due_local,
                "deliveries": {
                    network: {
                        "state": info["state"] + (" late" if info["late"] else ""),
                        "url": safe_url(info["url"]) or "",
                        "error": info["last_error"],
                    }
                    for network, info in post.deliveries.items()
                },
            }
            for post in current.posts
        ],
        "counts": dict(sorted(current.collected.items())),
        "total": sum(current.collected.values()),
        **_attributed(engine, event_id),
        "spam": _spam(engine, event_id, current.timezone),
    }
    return Snapshot(data, upcoming)


def fingerprint(engine: Engine, event_id: int) -> str:
    """A digest that changes whenever anything :func:`snapshot` reads does.

    A handful of aggregate queries: the event's state, every post's and
    delivery's schedule and state, and the collected posts' count, flags and
    newest sighting (hiding a post sets its ``last_seen_at``).
    """
    with db.session_scope(engine) as session:
        parts: list[Sequence[Any]] = []
        event = session.get(Event, event_id)
        if event is None:
            return "gone"
        parts.append((event.state, event.paused, event.updated_at))
        parts += session.exec(
            select(ScheduledPost.id, ScheduledPost.due_at, ScheduledPost.skipped)
            .where(col(ScheduledPost.event_id) == event_id)
            .order_by(col(ScheduledPost.id))
        ).all()
        parts += session.exec(
            select(
                PostDelivery.id, PostDelivery.state, PostDelivery.due_at, PostDelivery.updated_at
            )
            .where(col(PostDelivery.event_id) == event_id)
            .order_by(col(PostDelivery.id))
        ).all()
        parts.append(
            session.execute(
                sql_select(
                    func.count(),
                    func.max(col(Post.id)),
                    func.max(col(Post.last_seen_at)),
                    func.count(col(Post.spam_reason)),
                    func.count(col(Post.hidden_reason)),
                    func.count(col(Post.deleted_at)),
                ).where(col(Post.event_id) == event_id)
            ).one()
        )
        parts.append(  # a moderator's `chatbot assign` moves an answer
            session.execute(
                sql_select(
                    func.count(),
                    func.max(col(AttributionOverride.id)),
                    func.max(col(AttributionOverride.set_at)),
                ).where(col(AttributionOverride.event_id) == event_id)
            ).one()
        )
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


__all__ = ["ANSWERS_SHOWN", "NextPost", "Snapshot", "countdown", "fingerprint", "snapshot"]
