"""When a pass also checks the known posts (a sweep), once the chat is over (pure).

During the chat a sweep comes every few passes (collect.collector's
``SWEEP_EVERY``): deletions and edits matter while people are reading. After
the wrap-up the posts change less and less, and the checks were half of what
collection cost (issue 19): so after the chat's end a sweep comes only at
checkpoints whose gaps double, 2, 4, 8, 16, 32 ... minutes after the end,
and the final pass, when the collection window closes, is always one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_GAP = timedelta(minutes=2)

__all__ = ["FIRST_GAP", "checkpoint", "sweep_due_after_end"]


def checkpoint(end: datetime, now: datetime) -> datetime | None:
    """The latest checkpoint at or before ``now`` (``end`` + 2, 4, 8 ... minutes), or None
    when ``now`` is before the first."""
    if now < end + FIRST_GAP:
        return None
    gap = FIRST_GAP
    while end + gap * 2 <= now:
        gap *= 2
    return end + gap


def sweep_due_after_end(end: datetime, now: datetime, last_sweep: datetime | None) -> bool:
    """Whether a pass at ``now``, after the chat's ``end``, should sweep: when a checkpoint
    has passed since the last sweep (or there was none in this run)."""
    point = checkpoint(end, now)
    if point is None:
        return last_sweep is None or last_sweep < end
    return last_sweep is None or last_sweep < point
