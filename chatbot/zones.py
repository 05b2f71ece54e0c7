"""An event's time zone by its name, with UTC for a name this machine doesn't know (pure).

Events store their zone by IANA name; a database moved to a machine with
older time zone data (or a hand-edited row) can name one ``zoneinfo``
refuses. Every place that shows or files an event's local time falls back
to UTC the same way.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo


def zone_or_utc(name: str | None) -> ZoneInfo:
    """``ZoneInfo(name)``, or UTC when ``name`` is empty, unknown or malformed."""
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        return ZoneInfo("UTC")


__all__ = ["zone_or_utc"]
