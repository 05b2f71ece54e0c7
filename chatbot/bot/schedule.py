"""Moving an event's plan in time: a new start, a compressed clock (pure)."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chatbot.errors import UsageError
from chatbot.questionfile.model import EventPlan

_RELATIVE = re.compile(r"\+(?:\d+[smhd])+")
_PART = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_AHEAD = timedelta(days=5 * 365)  # how far ahead of now a --start may be
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# A chat slowed to a hundredth or sped up a million times: beyond, a typo.
MIN_COMPRESS, MAX_COMPRESS = 0.01, 1e6
_START_FORMS = (
    "use an ISO time such as 2026-12-01T12:00 (in the event's time zone) or "
    "2026-12-01T17:00Z, or a delay from now such as +30s, +5m, +1h or +1h30m"
)


def parse_start(value: str, *, timezone: str, now: datetime) -> datetime:
    """The start time a ``--start`` value asks for, timezone-aware.

    ``+30s`` / ``+5m`` / ``+1h`` / ``+1h30m`` count from ``now``; an ISO time
    with an offset or ``Z`` is taken as is; a naive one is in ``timezone``.
    """
    given = value.strip()
    if not given:
        raise UsageError(f"--start is empty; {_START_FORMS}")
    if given.startswith("+"):
        if not _RELATIVE.fullmatch(given):
            raise UsageError(f"--start {value!r} is not a delay; {_START_FORMS}")
        delay = timedelta()
        try:
            for amount, unit in _PART.findall(given):
                delay += timedelta(**{_UNITS[unit]: int(amount)})
        except OverflowError:
            delay = timedelta.max
        return _within_reach(value, _aware(now), delay)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", given):
        raise UsageError(f"--start {value!r} has no time of day; {_START_FORMS}")
    try:
        parsed = datetime.fromisoformat(given)
    except ValueError:
        raise UsageError(f"--start {value!r} is not a time; {_START_FORMS}") from None
    if parsed.tzinfo is not None:
        try:
            ahead = parsed - _aware(now)
        except OverflowError:
            raise UsageError(f"--start {value!r} is out of range; {_START_FORMS}") from None
        return _within_reach(value, _aware(now), ahead, parsed)
    zone = ZoneInfo(timezone)
    local = parsed.replace(tzinfo=zone)
    try:
        round_trip = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError:  # at the calendar's very ends
        raise UsageError(f"--start {value!r} is out of range; {_START_FORMS}") from None
    # A wall time skipped by a daylight-saving change does not survive a round trip.
    if round_trip != parsed:
        raise UsageError(
            f"--start {value!r} does not exist in {timezone} (the clocks skip it); "
            "give a time outside the change, or an offset such as 2026-03-08T03:30-04:00"
        )
    return _within_reach(value, _aware(now), local - _aware(now), local)


def _within_reach(
    value: str, now: datetime, ahead: timedelta, start: datetime | None = None
) -> datetime:
    # A start years ahead is a typo (and may run past the calendar's end); a
    # past one is a rehearsal of an old chat (--allow-past), back to 1970.
    if ahead > MAX_AHEAD:
        raise UsageError(
            f"--start {value!r} is more than {MAX_AHEAD.days // 365} years from now; {_START_FORMS}"
        )
    if now + ahead < EARLIEST:
        raise UsageError(f"--start {value!r} is before 1970; {_START_FORMS}")
    return start if start is not None else now + ahead


def check_compress(compress: float) -> float:
    """``compress`` if it is a usable clock speed-up, else a :class:`UsageError`."""
    if not math.isfinite(compress) or not MIN_COMPRESS <= compress <= MAX_COMPRESS:
        raise UsageError(
            f"--compress {compress:g} must be a number from {MIN_COMPRESS:g} to "
            f"{MAX_COMPRESS:g}; e.g. --compress 60 runs a one-hour chat in one minute"
        )
    return compress


def shift_plan(plan: EventPlan, *, start: datetime | None, compress: float = 1) -> EventPlan:
    """The plan moved to ``start`` with every offset from the start divided by ``compress``.

    ``start=None`` keeps the planned start.  Order is kept; spacing ratios are
    kept up to a microsecond.
    """
    check_compress(compress)
    if start is None and compress == 1:
        return plan
    zone = ZoneInfo(plan.timezone)
    new_start = _aware(start).astimezone(zone) if start is not None else plan.start
    # Arithmetic in UTC: adding to a zoned time moves the wall clock, not the instant.
    old_utc, new_utc = plan.start.astimezone(UTC), new_start.astimezone(UTC)
    posts = tuple(
        replace(post, due_at=new_utc + (post.due_at.astimezone(UTC) - old_utc) / compress)
        for post in plan.posts
    )
    questions = tuple(replace(q, offset=q.offset / compress) for q in plan.questions)
    note = f"note: moved to start at {new_start:%Y-%m-%d %H:%M:%S %Z}"
    if compress != 1:
        note += f", {compress:g} times faster"
    return replace(
        plan, start=new_start, posts=posts, questions=questions, notes=(*plan.notes, note)
    )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}; give a timezone-aware one")
    return moment


__all__ = ["check_compress", "parse_start", "shift_plan"]
