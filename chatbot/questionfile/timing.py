"""Durations, time zones and local start times, with DST gaps and overlaps resolved."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from chatbot.questionfile.report import did_you_mean

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip
_PART = re.compile(r"\s*(\d{1,6})\s*([a-z]+)\s*", re.IGNORECASE)
# Nothing in a chat is sensibly further apart than this; it also keeps
# timedelta and datetime arithmetic far from overflow on absurd input.
MAX_DURATION = timedelta(days=7)

MIN_YEAR, MAX_YEAR = 2000, 2200
_START = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")


def parse_duration(text: str) -> timedelta | None:
    """Read ``5m``, ``90s``, ``1h30m`` or ``2 minutes``; None if it is not one."""
    position, seconds = 0, 0
    text = text.strip()
    if not text:
        return None
    while position < len(text):
        match = _PART.match(text, position)
        if not match or match.group(2).lower() not in _UNITS:
            return None
        seconds += int(match.group(1)) * _UNITS[match.group(2).lower()]
        position = match.end()
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Write a duration the way a moderator would: ``1h05m``, ``25m``, ``90s``."""
    total = int(delta.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours}h" if hours else ""
    if minutes or (hours and seconds):
        text += f"{minutes:02d}m" if hours else f"{minutes}m"
    if seconds:
        text += f"{seconds}s"
    return text or "0m"


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


# What people write for a zone, and the place-based name that follows its DST.
_COMMON = {
    "eastern": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "central": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "mountain": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver",
    "pacific": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "gmt": "Europe/London", "bst": "Europe/London", "cet": "Europe/Paris", "cest": "Europe/Paris",
    "ist": "Asia/Kolkata", "jst": "Asia/Tokyo", "aest": "Australia/Sydney",
}  # fmt: skip


def find_zone(name: str) -> tuple[ZoneInfo | None, str]:
    """Return the zone, or None and a sentence saying what is close to ``name``."""
    try:
        if name in _zone_names() or name == "UTC":
            return ZoneInfo(name), ""
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    words = name.lower().replace("standard", "").replace("daylight", "").replace("time", "")
    common = _COMMON.get(words.strip())
    if common:
        return None, f' (did you mean "{common}"?)'
    guess = name.strip().replace(" ", "_")
    return None, did_you_mean(guess, sorted(_zone_names()))


def fixed_zone_note(name: str) -> str:
    """A warning for names like EST that never switch to daylight saving time."""
    common = _COMMON.get(name.lower())
    if common is None or name not in _zone_names():
        return ""

    def shifts(key: str) -> bool:
        # Recent tzdata turned CET and friends into links to real places; only
        # a name whose offset is the same in January and July is a trap.
        zone = ZoneInfo(key)
        january, july = datetime(2027, 1, 15, tzinfo=zone), datetime(2027, 7, 15, tzinfo=zone)
        return january.utcoffset() != july.utcoffset()

    if shifts(name) or not shifts(common):
        return ""
    return (
        f"{name} is a fixed offset that does not follow daylight saving time; "
        f"if the chat follows local clocks, use {common}"
    )


def parse_local(text: str) -> tuple[datetime | None, str]:
    """Read ``2026-12-01 12:00`` as a naive local time, or say why it is not one."""
    match = _START.match(text)
    if not match:
        return None, "not a date and time like 2026-12-01 12:00"
    year, month, day, hour, minute = (int(g) for g in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        # Far years overflow Python's datetime once converted to UTC.
        return None, f"not in the years {MIN_YEAR}-{MAX_YEAR}"
    try:
        return datetime(year, month, day, hour, minute), ""
    except ValueError as error:
        return None, f"not a real date and time ({error})"


def resolve_local(local: datetime, zone: ZoneInfo) -> tuple[datetime | None, str, str]:
    """Attach ``zone`` to a naive local time.

    Returns ``(aware, error, note)``: a time skipped by a DST gap is an error
    naming the valid times around it; a time that happens twice is resolved
    to its first occurrence (fold=0) and explained in the note.
    """
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first, "", ""
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != local:
        before, after = _gap_edges(second, first, zone)
        # A gap can swallow a whole day (Samoa, 2011): then the dates matter too.
        shape = "%H:%M" if before.date() == after.date() else "%Y-%m-%d %H:%M"
        edges = (before.strftime(shape), after.strftime(shape))
        return (
            None,
            f"{local:%Y-%m-%d %H:%M} does not exist in {zone.key}: clocks jump from "
            f"{edges[0]} straight to {edges[1]} ({_abbr(first)} to {_abbr(second)})",
            f"choose a time before {edges[0]} or from {edges[1]} on",
        )
    note = (
        f"{local:%Y-%m-%d %H:%M} happens twice in {zone.key} (clocks go back); "
        f"using the first one, {_abbr(first)} (UTC{_offset(first)}), which is "
        f"{first.astimezone(UTC):%H:%M} UTC"
    )
    return first, "", note


def _gap_edges(early: datetime, late: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local wall times just before and at the end of the DST gap between two instants."""
    low, high = early.astimezone(UTC), late.astimezone(UTC)
    offset = low.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == offset:
            low = middle
        else:
            high = middle
    jump = high.replace(microsecond=0)
    # Wall clock just before the jump (old offset) and right after it (new offset).
    before = (jump + offset).replace(tzinfo=None) if offset is not None else jump
    return before, jump.astimezone(zone).replace(tzinfo=None)


def _abbr(moment: datetime) -> str:
    return moment.tzname() or _offset(moment)


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    sign = "-" if delta < timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
