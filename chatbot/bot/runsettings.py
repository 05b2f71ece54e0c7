"""What ``chatbot run`` stores with its events (layout, recap link, late limit) and reads back.

Stored with the event, so a restarted run keeps them, and a control from
another terminal (``chatbot resume``) decides by the same late limit as the
run that posts.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from chatbot import db
from chatbot.bot.delivery import LAYOUTS, with_recap
from chatbot.bot.eventstatus import posts_of
from chatbot.collect.live import LIVE_SETTING, live_sources
from chatbot.errors import UsageError
from chatbot.models import LIVE_EVENT_STATES, Event
from chatbot.text.length import (
    BLUESKY_MAX_BYTES,
    BLUESKY_MAX_GRAPHEMES,
    MASTODON_DEFAULT_LIMIT,
    bluesky_length,
    mastodon_length,
)

LATE_LIMIT_KEY = "late_limit_seconds"
# The event settings a run stores; a reload of the question file keeps them.
RUN_KEYS = frozenset({"layout", "recap_url", LIVE_SETTING, LATE_LIMIT_KEY})


def set_options(
    engine: Engine,
    event_ids: list[int],
    *,
    layout: str | None = None,
    recap_url: str | None = None,
    live: str | None = None,
    late_limit: timedelta | None = None,
) -> None:
    """Store ``chatbot run``'s --layout / --recap-url / --live / --late-limit in the events."""
    if layout is not None and layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; use {' or '.join(LAYOUTS)}")
    if recap_url is not None and not recap_url.startswith(("https://", "http://")):
        raise UsageError(f"--recap-url {recap_url!r} must start with https://")
    if live is not None:
        live_sources(live)
    with db.session_scope(engine) as session:
        for event_id in sorted(event_ids):  # several events: locked in id order
            event = session.get(Event, event_id)
            if event is None:
                continue
            settings = dict(event.settings or {})
            if layout is not None:
                settings["layout"] = layout
            if recap_url is not None:
                settings["recap_url"] = recap_url
                _check_recap(session, event, recap_url)
            if live is not None:
                settings[LIVE_SETTING] = live
            if late_limit is not None:
                settings[LATE_LIMIT_KEY] = late_limit.total_seconds()
            if settings != (event.settings or {}):  # a restart with the same options writes nothing
                event.settings = settings  # a new dict, so the JSON column is written
                session.add(event)


def default_late_limit() -> timedelta:
    """The setting ``late_limit_seconds`` (600 unless configured)."""
    from chatbot.config import resolve_settings

    return timedelta(seconds=float(resolve_settings()["late_limit_seconds"]))


def late_limit_of(event: Event, default: timedelta) -> timedelta:
    """The late limit the event's run posts by: its stored --late-limit, else ``default``."""
    stored = (event.settings or {}).get(LATE_LIMIT_KEY)
    if isinstance(stored, int | float) and stored >= 0:
        return timedelta(seconds=float(stored))
    return default


def _check_recap(session: Session, event: Event, url: str) -> None:
    for post in posts_of(session, event):
        if post.kind != "wrapup":
            continue
        for delivery in post.deliveries:
            if delivery.state != "pending":
                continue
            text = with_recap(delivery.text, url)
            if delivery.network == "bluesky":
                graphemes, size = bluesky_length(text)
                too_long = graphemes > BLUESKY_MAX_GRAPHEMES or size > BLUESKY_MAX_BYTES
                measured = f"{graphemes} graphemes; Bluesky allows {BLUESKY_MAX_GRAPHEMES}"
            else:
                limit = int((event.settings or {}).get("mastodon_limit") or MASTODON_DEFAULT_LIMIT)
                length = mastodon_length(text)
                too_long, measured = length > limit, f"{length} characters; the limit is {limit}"
            if too_long:
                raise UsageError(
                    f"the wrap-up of #{event.hashtag} with --recap-url is {measured} on "
                    f"{delivery.network}; shorten the wrap-up in {event.source_path} and load it "
                    "again, or use a shorter URL"
                )


def live_event_ids(engine: Engine) -> list[int]:
    """The ids of every event not finished or cancelled."""
    with db.session_scope(engine) as session:
        return [
            e.id
            for e in session.exec(select(Event).where(col(Event.state).in_(LIVE_EVENT_STATES)))
            if e.id is not None
        ]


__all__ = [
    "LATE_LIMIT_KEY",
    "RUN_KEYS",
    "default_late_limit",
    "late_limit_of",
    "live_event_ids",
    "set_options",
]
