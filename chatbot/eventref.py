"""Which event the user means by EVENT on the command line: an id, a hashtag or TAG@YYYY-MM-DD.

Every command that takes an EVENT resolves it here, with one rule:

- ``12`` (ASCII digits) is the event with that id.
- ``sm35`` or ``#sm35`` is a hashtag, matched as :func:`chatbot.models.hashtag_key`
  does (without ``#``, NFKC, case-insensitive). A hashtag often has several
  events (one per week, a rehearsal); which one depends on what the command
  is doing, its *purpose*:

  ``"act"`` (``run`` and the live controls: status, pause, resume, skip,
  delay, post-now) acts on the chat: its live event (scheduled, running or
  paused) starting first, the one running or next; with none live, the
  latest.

  ``"record"`` (collect, transcript, hide, recap) keeps the record of a
  chat: the one running now (the bot is posting it, or ``now`` lies between
  its start and end; the latest such), else the most recent one that has
  started, else the next one.

- ``sm35@2027-12-07`` narrows a hashtag to its events starting that day, in
  each event's own time zone (the day of the question file, and of the
  ``transcripts/sm35-2027-12-07`` folder); the purpose picks among them in the
  rare case there are several.

Anything else is a :class:`~chatbot.errors.UsageError` that says what was
asked for and how to fix it. Only :func:`resolve_event` touches the database;
:func:`choose_event` is the rule itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

from sqlmodel import Session, col, select

from chatbot.errors import UsageError
from chatbot.models import LIVE_EVENT_STATES, Event, hashtag_key
from chatbot.zones import zone_or_utc

Purpose = Literal["act", "record"]
PURPOSES: tuple[Purpose, ...] = ("act", "record")
RUNNING_STATES = ("running", "paused")
MAX_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL
STORES = "`chatbot load FILE` (or `chatbot import FILE`) stores one"
FORMAT = "give an event id, a hashtag (sm35 or #sm35) or TAG@YYYY-MM-DD (e.g. sm35@2027-12-07)"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LISTED = 5  # at most this many of a hashtag's events are named in an error


def resolve_event(session: Session, ref: str, *, purpose: Purpose, now: datetime) -> Event:
    """The event ``ref`` names, by the rule in this module's docstring.

    ``purpose`` is ``"act"`` (run or control the chat) or ``"record"`` (keep
    its record); ``now`` is the time (aware) that "running" and "started"
    are judged against.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
    text = ref.strip()
    if not text:
        raise UsageError(f"no event given; {FORMAT}")
    if text.isascii() and text.isdigit():
        return _by_id(session, text)
    tag, at, day_text = text.partition("@")
    key = hashtag_key(tag.strip())
    if not key:
        raise UsageError(f"{_shown(text)} names no hashtag; {FORMAT}")
    day = _parse_day(text, day_text) if at else None
    name = _shown("#" + tag.strip().lstrip("#"))
    events = _events_of(session, key)
    if not events:
        raise UsageError(f"no event {name} in the database; {STORES}")
    if day is not None:
        that_day = [e for e in events if local_day(e) == day]
        if not that_day:
            known = ", ".join(f"{e.hashtag}@{local_day(e)}" for e in events[-_LISTED:])
            more = f"{len(events) - _LISTED} more, " if len(events) > _LISTED else ""
            raise UsageError(
                f"no event {name} starting {day} in the database (its events start: {more}"
                f"{known}); {STORES}"
            )
        events = that_day
    return choose_event(events, purpose=purpose, now=now)


def choose_event(events: Sequence[Event], *, purpose: Purpose, now: datetime) -> Event:
    """Of one hashtag's ``events`` (not empty), the one ``purpose`` means at ``now``."""
    ordered = sorted(events, key=lambda e: e.start_at)
    if purpose == "act":
        live = [e for e in ordered if e.state in LIVE_EVENT_STATES]
        return live[0] if live else ordered[-1]
    running = [e for e in ordered if e.state in RUNNING_STATES or e.start_at <= now <= e.end_at]
    if running:
        return running[-1]
    started = [e for e in ordered if e.start_at <= now]
    return started[-1] if started else ordered[0]


def local_day(event: Event) -> date:
    """The day ``event`` starts in its own time zone (UTC if the zone is unknown)."""
    return event.start_at.astimezone(zone_or_utc(event.timezone)).date()


def _by_id(session: Session, text: str) -> Event:
    number = int(text)
    event = session.get(Event, number) if number <= MAX_ID else None
    if event is None:
        raise UsageError(
            f"no event with id {text} in the database; `chatbot status TAG` shows a "
            f"hashtag's event with its id; {STORES}"
        )
    return event


def _parse_day(text: str, day_text: str) -> date:
    day = day_text.strip()
    if _DAY.fullmatch(day):
        try:
            return date.fromisoformat(day)
        except ValueError:
            pass
    raise UsageError(
        f"{_shown(text)}: after @ give the day the event starts as YYYY-MM-DD, in the "
        "event's time zone (e.g. sm35@2027-12-07)"
    )


def _events_of(session: Session, key: str) -> list[Event]:
    # No stored hashtag holds NUL or a lone surrogate, and drivers refuse them.
    if "\x00" in key or not _encodable(key):
        return []
    query = select(Event).where(col(Event.hashtag_key) == key).order_by(col(Event.start_at))
    return list(session.exec(query))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(text: str) -> str:
    """``text`` for a message: as typed, or quoted with escapes if it has odd characters."""
    if text.isprintable() and not any(c.isspace() for c in text) and text:
        return text
    return repr(text)


__all__ = [
    "PURPOSES",
    "Purpose",
    "choose_event",
    "local_day",
    "resolve_event",
]
