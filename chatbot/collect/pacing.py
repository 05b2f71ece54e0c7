"""How often to poll and how many requests to spend: per-network budgets, backoff, activity."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chatbot.errors import RateLimitedError, TransientError
from chatbot.platforms.mastodon_server import RateState

# Requests per window each network allows one client (see PLATFORMS.md), and the share
# of it the collector lets itself use: the scheduler's posts need the rest.
LIMITS: dict[str, tuple[int, float]] = {
    "bluesky": (3000, 300.0),
    "mastodon": (300, 300.0),
}
# Mastodon also counts the requests that page (max_id, min_id, since_id) apart: 300 per
# 15 minutes per account, or per address without a token. Their budget is the server's
# name with this suffix.
PAGING = "#paging"
PAGING_LIMIT = (300, 900.0)
HEADROOM = 0.5
RETRIES = 4  # transient failures of one request retried within a pass
SHORT_WAIT = 30.0  # seconds: a rate limit resetting sooner is waited out within the pass
T = TypeVar("T")
log = logging.getLogger(__name__)
DEFAULT_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=15)
UNKNOWN_RESET = timedelta(seconds=60)  # a spent server budget whose reset nobody told


class OutOfBudget(Exception):
    """Raised inside a pass when a network's request budget is spent; the pass ends early."""

    def __init__(self, network: str, until: datetime):
        self.network = network
        self.until = until
        super().__init__(f"{network}: request budget spent until {until.isoformat()}")


@dataclass
class Budget:
    """A token bucket on the injected clock: ``capacity`` requests refilled over ``window``."""

    capacity: float
    window: float  # seconds
    tokens: float = -1.0
    updated: datetime | None = None
    blocked_until: datetime | None = None
    failures: int = 0

    def _refill(self, now: datetime) -> None:
        if self.tokens < 0 or self.updated is None:
            self.tokens, self.updated = self.capacity, now
            return
        elapsed = max((now - self.updated).total_seconds(), 0.0)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.capacity / self.window)
        self.updated = now

    def available_at(self, now: datetime) -> datetime:
        """When one request may be made (``now`` if already)."""
        self._refill(now)
        if self.blocked_until is not None and self.blocked_until > now:
            return self.blocked_until
        if self.tokens >= 1:
            return now
        return now + timedelta(seconds=(1 - self.tokens) * self.window / self.capacity)

    def take(self, now: datetime, network: str) -> None:
        """Spend one request, or raise :class:`OutOfBudget`."""
        when = self.available_at(now)
        if when > now:
            raise OutOfBudget(network, when)
        self.tokens -= 1


@dataclass
class Pacer:
    """Per-network budgets and backoff, and the interval between polls.

    The interval shrinks while posts keep arriving and grows when nothing
    happens, between ``minimum`` and ``maximum`` seconds of clock time.
    """

    interval: float = 20.0
    minimum: float = 5.0
    maximum: float = 120.0
    headroom: float = HEADROOM
    budgets: dict[str, Budget] = field(default_factory=dict)

    def budget(self, network: str) -> Budget:
        if network not in self.budgets:
            if network.endswith(PAGING):
                limit, window = PAGING_LIMIT
            else:
                limit, window = LIMITS.get(network, (300, 300.0))
            self.budgets[network] = Budget(max(limit * self.headroom, 1.0), window)
        return self.budgets[network]

    def take(self, network: str, now: datetime) -> None:
        self.budget(network).take(now, network)

    def blocked(self, network: str, now: datetime) -> datetime | None:
        """Until when ``network`` must not be called, or None."""
        when = self.budget(network).available_at(now)
        return when if when > now else None

    def rate_limited(self, error: RateLimitedError, now: datetime) -> datetime:
        """Back off until the network's ``retry_at`` (or a growing default); returns it."""
        budget = self.budget(error.network)
        budget.failures += 1
        until = error.retry_at
        if until is None or until <= now:
            until = now + min(DEFAULT_BACKOFF * budget.failures, MAX_BACKOFF)
        budget.blocked_until = min(until, now + MAX_BACKOFF)
        budget.tokens = 0
        return budget.blocked_until

    def failed(self, network: str, now: datetime) -> datetime:
        """A transient failure: wait a little longer each time in a row."""
        budget = self.budget(network)
        budget.failures += 1
        wait = min(timedelta(seconds=2) * 2 ** min(budget.failures, 8), MAX_BACKOFF)
        budget.blocked_until = now + wait
        return budget.blocked_until

    def observe(self, network: str, state: RateState | None, now: datetime) -> None:
        """Follow the server's own count of what is left (its rate-limit headers).

        The server's budget may be shared (GoToSocial counts per address, so
        every client on the host draws on it), and the scheduler's posts need
        some of it: the collector uses at most ``headroom`` of the limit and
        stops until the reset once what is left falls to the rest, before any 429.
        """
        if state is None or state.limit <= 0:
            return
        budget = self.budget(network)
        budget._refill(now)
        reserve = max(1, round(state.limit * (1 - self.headroom)))
        usable = state.remaining - reserve
        if usable > 0:
            budget.tokens = min(budget.tokens, float(usable))
            return
        wait = timedelta(seconds=state.reset_in) if state.reset_in else UNKNOWN_RESET
        until = min(now + wait, now + MAX_BACKOFF)
        budget.blocked_until = max(budget.blocked_until or until, until)
        budget.tokens = 0
        log.info("collect %s: %d requests left on the server; pausing", network, state.remaining)

    def succeeded(self, network: str) -> None:
        budget = self.budget(network)
        budget.failures = 0
        budget.blocked_until = None

    def caller(
        self,
        network: str,
        now: Callable[[], datetime],
        sleep: Callable[[float], None],
        counted: Callable[[], None] = lambda: None,
        server_budget: Callable[[], RateState | None] | None = None,
    ) -> Callable[..., Any]:
        """A function making one request (``cost`` of them) within the budget (and, with
        ``paging``, within the budget of requests that page too).

        Transient failures are retried a few times, with growing pauses; a rate
        limit that resets within ``SHORT_WAIT`` seconds is waited out. Anything
        else (and :class:`OutOfBudget`) ends the caller's pass. ``server_budget``
        tells what the server said is left after each answer (see :meth:`observe`).
        """

        def call(action: Callable[[], T], cost: int = 1, paging: bool = False) -> T:
            for attempt in range(1, RETRIES + 2):
                for _ in range(cost):
                    if paging:  # the scarcer budget first
                        self.take(network + PAGING, now())
                    self.take(network, now())
                    counted()
                try:
                    result = action()
                    if server_budget is not None:
                        self.observe(network, server_budget(), now())
                    return result
                except TransientError as error:
                    if attempt > RETRIES:
                        raise
                    log.info("collect %s: %s; retrying", network, error)
                    sleep(2.0**attempt)
                except RateLimitedError as error:
                    wait = (error.retry_at - now()).total_seconds() if error.retry_at else 5.0
                    if attempt > RETRIES or wait > SHORT_WAIT:
                        raise
                    log.info("collect %s: rate limited; waiting %.0f s", network, wait)
                    sleep(max(wait, 0.5))
            raise AssertionError("unreachable")

        return call

    def adapt(self, new_posts: int) -> float:
        """The next interval after a pass that found ``new_posts``."""
        if new_posts > 0:
            self.interval = max(self.minimum, self.interval / 2)
        else:
            self.interval = min(self.maximum, self.interval * 1.5)
        return self.interval


def replace_network(error: RateLimitedError, key: str) -> RateLimitedError:
    """The same rate limit, charged to one budget (``mastodon@host``) rather than the
    network's."""
    return RateLimitedError(str(error), network=key, retry_at=error.retry_at)


def waiting_out(
    call: Callable[[], T],
    pacer: Pacer,
    key: str,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    on_wait: Callable[[float], None],
) -> T:
    """``call()``, waiting out a spent request budget or a rate limit (charged to the
    budget ``key``) and trying again: for a job that must finish rather than stop at a
    spent budget. ``on_wait`` hears each wait's seconds."""
    while True:
        try:
            return call()
        except OutOfBudget as stop:
            until = stop.until
        except RateLimitedError as error:
            until = pacer.rate_limited(replace_network(error, key), now())
        seconds = max((until - now()).total_seconds(), 0.5)
        log.info("%s: request budget spent; waiting %.0f s", key, seconds)
        on_wait(seconds)
        sleep(seconds)


__all__ = ["LIMITS", "Budget", "OutOfBudget", "Pacer", "replace_network", "waiting_out"]
