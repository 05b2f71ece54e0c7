"""Every event in the store, one line each: what ``chatbot events`` shows.

Three grouped queries whatever the number of events (the events, their
deliveries by state, their collected posts), so a store of years of weekly
chats lists at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from chatbot import db
from chatbot.models import Event, Post, PostDelivery, table_of

EVENT, DELIVERY, POST = table_of(Event), table_of(PostDelivery), table_of(Post)

__all__ = ["EventSummary", "list_events"]


@dataclass(frozen=True)
class EventSummary:
    """One event: when, where, how far its posting and its collection have come."""

    id: int
    hashtag: str
    title: str
    state: str  # scheduled, running, paused, finished or cancelled
    timezone: str
    start_at: datetime
    end_at: datetime
    networks: tuple[str, ...]
    posted: int  # deliveries made (one post on one network each)
    deliveries: int
    failed: int
    collected: int  # posts stored for the event (the bot's own included)
    collect_until: datetime

    @property
    def start_local(self) -> str:
        """The start in the event's own zone, as its question file wrote it."""
        return self.start_at.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M %Z")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("start_at", "end_at", "collect_until"):
            data[key] = data[key].isoformat()
        data["networks"] = list(self.networks)
        data["start_local"] = self.start_local
        return data


def list_events(engine: Engine, *, state: str | None = None) -> list[EventSummary]:
    """Every event (or those in ``state``), the latest start first."""
    with db.session_scope(engine) as session:
        connection = session.connection()
        query = select(EVENT).order_by(EVENT.c.start_at.desc(), EVENT.c.id.desc())
        if state is not None:
            query = query.where(EVENT.c.state == state)
        events = connection.execute(query).all()
        deliveries: defaultdict[int, dict[str, int]] = defaultdict(dict)
        by_state = select(DELIVERY.c.event_id, DELIVERY.c.state, func.count()).group_by(
            DELIVERY.c.event_id, DELIVERY.c.state
        )
        for event_id, delivery_state, count in connection.execute(by_state):
            deliveries[event_id][delivery_state] = count
        posts = select(POST.c.event_id, func.count()).where(POST.c.event_id.is_not(None))
        collected: dict[int, int] = {
            event_id: count
            for event_id, count in connection.execute(posts.group_by(POST.c.event_id))
        }
    found: list[EventSummary] = []
    for row in events:
        counts = deliveries.get(row.id, {})
        found.append(
            EventSummary(
                id=row.id,
                hashtag=row.hashtag,
                title=row.title,
                state=row.state,
                timezone=row.timezone,
                start_at=row.start_at,
                end_at=row.end_at,
                networks=tuple(row.networks or ()),
                posted=counts.get("posted", 0),
                deliveries=sum(counts.values()),
                failed=counts.get("failed", 0),
                collected=collected.get(row.id, 0),
                collect_until=row.collect_until,
            )
        )
    return found
