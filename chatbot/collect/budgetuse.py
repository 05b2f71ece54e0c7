"""How much of each network's request budget collection has used, for ``chatbot status``.

The collector spends at most half of a network's budget (the scheduler's posts
need the rest: collect.pacing). A moderator watching a busy chat wants to see
how close it runs to that: the requests of the last five minutes against the
collector's share, the busiest five minutes so far, and whether it is waiting
for a budget to refill. Each pass adds its requests to a per-minute count kept
for an hour (``collection_cursor``, source ``budget``); the pure functions
here fold a pass into that state and read figures out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chatbot.collect.pacing import HEADROOM, LIMITS

SOURCE = "budget"
WINDOW = timedelta(minutes=5)
KEEP = timedelta(hours=1)  # per-minute counts kept for this long

__all__ = ["KEEP", "SOURCE", "WINDOW", "BudgetUse", "budget_use", "recent_requests", "record_pass"]


def _minute(moment: datetime) -> str:
    return moment.replace(second=0, microsecond=0).isoformat()


def _counts(state: dict[str, Any]) -> dict[datetime, int]:
    raw = state.get("minutes")
    if not isinstance(raw, dict):
        return {}
    counts: dict[datetime, int] = {}
    for key, value in raw.items():
        try:
            moment = datetime.fromisoformat(str(key))
        except ValueError:
            continue
        if isinstance(value, int) and value > 0 and moment.tzinfo is not None:
            counts[moment] = value
    return counts


def _busiest(counts: dict[datetime, int]) -> tuple[int, datetime | None]:
    """The most requests in any five consecutive minutes of ``counts``, and where they began."""
    best, start = 0, None
    for first in sorted(counts):
        total = sum(n for moment, n in counts.items() if first <= moment < first + WINDOW)
        if total > best:
            best, start = total, first
    return best, start


def record_pass(
    state: dict[str, Any], at: datetime, requests: int, blocked_until: datetime | None
) -> dict[str, Any]:
    """``state`` with a pass of ``requests`` made at ``at`` added (a new dict).

    Counts older than an hour before ``at`` are dropped; the busiest five minutes
    are kept over the whole collection, not only the last hour.
    """
    counts = {m: n for m, n in _counts(state).items() if m > at - KEEP}
    if requests > 0:
        key = at.replace(second=0, microsecond=0)
        counts[key] = counts.get(key, 0) + requests
    busiest, began = _busiest(counts)
    before = state.get("busiest")
    if isinstance(before, int) and before >= busiest and state.get("busiest_at"):
        busiest, began_text = before, str(state["busiest_at"])
    else:
        began_text = began.isoformat() if began else ""
    total = state.get("total")
    return {
        "minutes": {_minute(m): n for m, n in sorted(counts.items())},
        "busiest": busiest,
        "busiest_at": began_text,
        "total": (total if isinstance(total, int) else 0) + max(requests, 0),
        "blocked_until": blocked_until.isoformat() if blocked_until else None,
    }


@dataclass(frozen=True)
class BudgetUse:
    """One network's figures, as ``chatbot status`` shows them."""

    network: str
    share: int  # requests the collector allows itself per window
    limit: int  # the network's own limit per window
    window_seconds: int
    recent: int  # requests in the last five minutes
    busiest: int
    busiest_at: datetime | None
    total: int
    blocked_until: datetime | None
    # The budget is the account's: what every chat collected in the last five minutes
    # spent of it together, and how many chats those were (this one included).
    all_recent: int = 0
    chats: int = 1

    @property
    def together(self) -> int:
        """The last five minutes' requests of every chat collected, this one's at least."""
        return max(self.all_recent, self.recent)

    def as_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "share": self.share,
            "limit": self.limit,
            "window_seconds": self.window_seconds,
            "last_5_minutes": self.recent,
            "busiest_5_minutes": self.busiest,
            "busiest_at": self.busiest_at.isoformat() if self.busiest_at else None,
            "total": self.total,
            "blocked_until": self.blocked_until.isoformat() if self.blocked_until else None,
            "all_chats_last_5_minutes": self.together,
            "chats_collecting": self.chats,
        }

    def line(self, local: Any) -> str:
        """E.g. "mastodon requests: 12 in the last 5 min of the collector's 150 (half of
        300 per 5 min); busiest 5 min 39 (26%) from 16:40:00 EST; 241 in all"."""
        window = f"{self.window_seconds // 60} min"
        text = (
            f"{self.network} requests: {self.recent} in the last 5 min of the collector's "
            f"{self.share} (half of {self.limit} per {window}); busiest 5 min {self.busiest}"
            f" ({self.busiest / max(self.share, 1):.0%})"
        )
        if self.busiest_at is not None:
            text += f" from {local(self.busiest_at)}"
        text += f"; {self.total} in all"
        if self.chats > 1:
            text += (
                f"; with the {self.chats - 1} other chat{'s' if self.chats > 2 else ''} "
                f"collected now {self.together} in the last 5 min "
                "(one budget: the account's)"
            )
        if self.blocked_until is not None:
            text += f"; waiting for the budget until {local(self.blocked_until)}"
        return text


def recent_requests(state: dict[str, Any], now: datetime) -> int:
    """The requests of the last five minutes before ``now`` in a stored ``state``."""
    return sum(n for moment, n in _counts(state).items() if moment > now - WINDOW)


def budget_use(network: str, state: dict[str, Any], now: datetime) -> BudgetUse:
    """The figures of one network's stored ``state`` at ``now``."""
    limit, window = LIMITS.get(network, (300, 300.0))
    recent = recent_requests(state, now)
    blocked = _time(state.get("blocked_until"))
    total = state.get("total")
    busiest = state.get("busiest")
    return BudgetUse(
        network=network,
        share=int(limit * HEADROOM),
        limit=limit,
        window_seconds=int(window),
        recent=recent,
        busiest=busiest if isinstance(busiest, int) else 0,
        busiest_at=_time(state.get("busiest_at")),
        total=total if isinstance(total, int) else 0,
        blocked_until=blocked if blocked is not None and blocked > now else None,
    )


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
