"""The bot service behind ``chatbot run``: APScheduler jobs that claim, post and record posts."""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from chatbot.bot import outbox, replies
from chatbot.bot.atonce import at_once
from chatbot.bot.orphans import give_back_orphans
from chatbot.bot.retry import RetryPolicy
from chatbot.clock import Clock
from chatbot.collect.pacing import Budget
from chatbot.defaults import STOP_GRACE
from chatbot.errors import (
    AuthError,
    ChatbotError,
    ConfigError,
    RateLimitedError,
    StorageError,
    TransientError,
)
from chatbot.platforms import NETWORKS, Platform

log = logging.getLogger(__name__)
# APScheduler warns each time a tick finds a job still busy posting: expected here.
_aps_log = logging.getLogger(f"{__name__}.apscheduler")
_aps_log.setLevel(logging.ERROR)

MIN_JOB_SECONDS = 0.05  # real seconds: the fastest an extra job may repeat
# Late joiners' replies (bot.replies) per network: at most this many per window of clock
# seconds, a share of each network's posting limit (Mastodon: 300 statuses in 3 h, of which
# these take a fifth; Bluesky: 1,666 creates an hour, of which these take under 4 %), so the
# chat's own posts always have room.
REPLY_BUDGETS: dict[str, tuple[int, float]] = {"bluesky": (60, 3600.0), "mastodon": (20, 3600.0)}
# No reply goes out when a scheduled post is due this soon (clock seconds): it goes first.
REPLY_CLEARANCE = timedelta(seconds=30)
# Posts of one network claimed together and sent at once (RunOptions.posts_at_once): when
# many chats fall due at one instant, their posts wait for the network's answer side by
# side instead of one after another.
POSTS_AT_ONCE = 4
# STOP_GRACE: real seconds a stop asked for by a signal waits for the work in flight
# (RunOptions.stop_grace): with closing and leaving, the process is gone well within 2 s.


@dataclass(frozen=True)
class RunOptions:
    """How the runner behaves; times are in the clock's (possibly virtual) seconds."""

    event_ids: tuple[int, ...] | None = None  # None: every live event, re-read each tick
    late_limit: timedelta = timedelta(minutes=10)
    late_after: timedelta = timedelta(minutes=1)
    lease: timedelta = timedelta(minutes=5)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    tick: float = 0.5  # real seconds between looks at the outbox (controls act within this)
    # Due posts a network's job claims in one go and sends at once, one thread each (posts
    # of different chats: a chat's next post waits until its last one is final).
    posts_at_once: int = POSTS_AT_ONCE
    until_done: bool = False
    # Real seconds a prompt stop (a signal) waits for the jobs in flight (a post being sent,
    # a collection pass) before it gives their posts back and returns without them.
    stop_grace: float = STOP_GRACE


@dataclass(frozen=True)
class Job:
    """An extra periodic job hosted by the service (e.g. the collector's poll)."""

    name: str
    func: Callable[[], object]
    seconds: float
    clock_time: bool = True  # seconds of the service's clock (virtual when accelerated)
    # With until_done: what the job still has to do (None: nothing); the run ends
    # only once every post is final and no job has anything left.
    pending: Callable[[], str | None] | None = None

    def real_seconds(self, clock: Clock) -> float:
        speed = getattr(clock, "speed", 1.0) if self.clock_time else 1.0
        return max(MIN_JOB_SECONDS, self.seconds / (speed or 1.0))


def worker_name() -> str:
    """This process's name in ``claimed_by``: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class BotService:
    """Posts every due post exactly once per network, and hosts other periodic jobs.

    One APScheduler job per network claims that network's due posts one at a
    time (so a slow or broken network never holds up the other); more jobs
    are added with :meth:`add_job`.  :meth:`run` blocks until :meth:`stop`
    (or, with ``until_done``, until every post of the events is final) and
    returns the exit code.
    """

    def __init__(
        self,
        engine: Engine,
        connect: Callable[[str], Platform],
        *,
        clock: Clock,
        options: RunOptions | None = None,
        out: Callable[[str], None] = print,
        worker: str | None = None,
        rng: random.Random | None = None,
    ):
        self.engine = engine
        self.clock = clock
        self.options = options or RunOptions()
        self.worker = worker or worker_name()
        self.jobs: list[Job] = []
        self.exit_code = 0
        self._connect = connect
        self._out = out
        self._rng = rng or random.Random()
        self._platforms: dict[str, Platform] = {}
        self._halted: dict[str, str] = {}
        self._refused: set[str] = set()  # networks where a post met refused credentials
        self._held: dict[int, outbox.Claim] = {}
        self._held_replies: dict[int, outbox.Claim] = {}
        self._reply_budgets = {
            network: Budget(float(limit), window)
            for network, (limit, window) in REPLY_BUDGETS.items()
        }
        self._lock = threading.Lock()
        self._say_lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_at: float | None = None  # time.monotonic() of the first prompt stop
        self._busy = 0  # jobs running now
        self._idle = threading.Condition()
        self.abandoned: list[str] = []  # what a stop gave back unfinished ("welcome on mastodon")
        self._storage_trouble = False
        self._posts_done = False  # until_done: "All posts are done." was said
        self._waiting_for: list[str] = []  # until_done: what the jobs last said is left

    # -- hosting ------------------------------------------------------------
    def add_job(
        self,
        func: Callable[[], object],
        seconds: float,
        *,
        name: str | None = None,
        clock_time: bool = True,
        pending: Callable[[], str | None] | None = None,
    ) -> Job:
        """Run ``func()`` every ``seconds`` (clock seconds unless ``clock_time=False``).

        Call before :meth:`run`.  A job never overlaps itself; its exceptions
        are logged and it runs again next time. With ``until_done``, a job
        with ``pending`` keeps the run going while ``pending()`` says what
        is left.
        """
        job = Job(name or str(getattr(func, "__name__", "job")), func, seconds, clock_time, pending)
        if any(j.name == job.name for j in self.jobs):
            raise ValueError(f"a job named {job.name!r} is already added")
        self.jobs.append(job)
        return job

    def platform(self, network: str) -> Platform:
        """The adapter for ``network``, made once and shared (thread-safe creation)."""
        with self._lock:
            if network not in self._platforms:
                self._platforms[network] = self._connect(network)
            return self._platforms[network]

    def check_networks(self, networks: list[str]) -> None:
        """Make every adapter needed now, so missing credentials stop the run before any work."""
        for network in networks:
            self.platform(network)

    def stop(self, code: int | None = None, *, promptly: bool = False) -> None:
        """Ask :meth:`run` to finish: no new claims; the post in flight completes.

        ``promptly`` (a signal): work still in flight ``options.stop_grace`` seconds
        after this is left behind, its post given back (pending, same key) and named
        in :attr:`abandoned`; the next run sends it again and the network keeps one copy.
        """
        if code is not None and self.exit_code == 0:
            self.exit_code = code
        if promptly and self._stop_at is None:
            self._stop_at = time.monotonic()
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def say(self, timezone: str, label: str, network: str, what: str) -> None:
        """One output line: time in the event's zone, post, network, what happened."""
        stamp = self.clock.now().astimezone(ZoneInfo(timezone)).strftime("%H:%M:%S %Z")
        with self._say_lock:
            self._out(f"{stamp}  {label}  {network}  {what}")

    # -- running ------------------------------------------------------------
    def run(self) -> int:
        """Start the jobs and block until stopped; returns the exit code."""
        scheduler = BackgroundScheduler(
            logger=_aps_log,
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(max_workers=len(NETWORKS) + 2 + len(self.jobs))
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        first = datetime.now(UTC)
        scheduler.add_job(self._guarded(self.warm_up), id="warm-up", next_run_time=first)
        for network in NETWORKS:
            scheduler.add_job(
                self._guarded(self.post_job, network), "interval", seconds=self.options.tick,
                id=f"post-{network}", next_run_time=first,
            )  # fmt: skip
        if self.options.until_done:
            scheduler.add_job(
                self._guarded(self.check_done), "interval", seconds=self.options.tick,
                id="until-done", next_run_time=first + timedelta(seconds=self.options.tick / 2),
            )  # fmt: skip
        for job in self.jobs:
            scheduler.add_job(
                self._guarded(job.func), "interval", seconds=job.real_seconds(self.clock),
                id=f"job-{job.name}", next_run_time=first,
            )  # fmt: skip
        scheduler.start()
        try:
            while not self._stop.wait(0.2):
                pass
        finally:
            self._stop.set()
            scheduler.shutdown(wait=self._stop_at is None)
            if not self._wait_idle():
                self.abandoned = [f"{c.label} on {c.network}" for c in list(self._held.values())]
            self._release_held()
        return self.exit_code

    def _wait_idle(self) -> bool:
        """Wait for the jobs in flight (after a prompt stop, up to its grace); True if none is."""
        deadline = self.stop_deadline()
        with self._idle:
            while self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop_deadline(self) -> float | None:
        """time.monotonic() by which a prompt stop gives up on work in flight (None: never)."""
        if self._stop_at is None:
            return None
        return self._stop_at + self.options.stop_grace

    def _guarded(self, func: Callable[..., object], *args: object) -> Callable[[], None]:
        def run() -> None:
            with self._idle:
                if self.stopping:
                    return
                self._busy += 1
            try:
                func(*args)
            except StorageError as error:
                if not self._storage_trouble:  # say it once, not every tick
                    self._out(f"database trouble: {error}; retrying")
                self._storage_trouble = True
            except Exception:
                log.exception(
                    "job %s failed; it runs again next time", getattr(func, "__name__", func)
                )
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        return run

    def _release_held(self) -> None:
        for claim in list(self._held.values()):
            try:
                outbox.release(self.engine, claim, now=self.clock.now())
            except ChatbotError as error:  # the lease will recover it
                log.warning("could not release %s on %s: %s", claim.label, claim.network, error)
        for claim in list(self._held_replies.values()):
            try:
                replies.release_reply(self.engine, claim, now=self.clock.now())
            except ChatbotError as error:  # the lease will recover it
                log.warning("could not release the reply %s: %s", claim.label, error)

    # -- posting --------------------------------------------------------------
    def warm_up(self) -> None:
        """Log in to every network in use before its first post is due.

        First, posts a run of this machine left in flight when it ended are given
        back (bot.orphans), so their chats don't wait out the lease. Refused
        credentials stop that network at once, with the message, instead of at the
        first post; anything else is left for the posts' own retries.
        """
        for orphan in give_back_orphans(self.engine, now=self.clock.now()):
            self.say(
                orphan.timezone, orphan.label, orphan.network,
                "left in flight by a run that ended: sending it again with the same key",
            )  # fmt: skip
        open_rows = outbox.open_deliveries(self.engine, self.options.event_ids)
        for network in sorted({network for _, network, _ in open_rows} | set(self._platforms)):
            try:
                platform = self.platform(network)
                identity = platform.account()
                platform.prepare_to_post()  # limits, client models: not at the first post
            except (AuthError, ConfigError) as error:
                self._halt(network, str(error))
            except ChatbotError as error:
                log.info("warm-up on %s: %s", network, error)
            else:
                log.info("logged in to %s as %s", network, identity.handle)

    def post_job(self, network: str) -> None:
        """The scheduled job: post what is due, then wait for a post due before the next tick.

        Polling alone would make every post late by half a tick on average.
        """
        self.post_due(network)
        if self.stopping or network in self._halted:
            return
        self.reply_due(network)
        speed = getattr(self.clock, "speed", 1.0) or 1.0
        horizon = self.clock.now() + timedelta(seconds=self.options.tick * speed)
        upcoming = outbox.next_due(
            self.engine, network, event_ids=self.options.event_ids, before=horizon
        )
        if upcoming is None:
            return
        wait = (upcoming - self.clock.now()).total_seconds() / speed
        if 0 < wait < self.options.tick:
            if self._stop.wait(wait):
                return
            self.post_due(network)

    def post_due(self, network: str) -> int:
        """Post every post now due on ``network``, oldest first; returns how many were tried.

        Up to ``options.posts_at_once`` posts (of as many chats) are claimed together
        and sent at once; the next ones are claimed when those are recorded.
        """
        count = 0
        while not self.stopping and network not in self._halted:
            claims = self._claim(network, self.options.posts_at_once)
            if claims is None:
                break
            at_once(claims, self._send_held, name="post")  # side by side, each recorded
            count += len(claims)
        return count

    def _claim(self, network: str, most: int) -> list[outbox.Claim] | None:
        """Claim up to ``most`` due posts and say its notices; None when nothing was due."""
        options = self.options
        found = outbox.claim_some(
            self.engine, network, now=self.clock.now(), worker=self.worker, lease=options.lease,
            late_limit=options.late_limit, event_ids=options.event_ids, most=most,
        )  # fmt: skip
        self._storage_trouble = False
        for notice in found.notices:
            self.say(
                notice.timezone, notice.label, notice.network, f"{notice.state}: {notice.reason}"
            )
        if not found.claims and not found.notices:
            return None
        return found.claims

    def _send_held(self, claim: outbox.Claim) -> None:
        self._held[claim.delivery_id] = claim  # given back by a stop that can't wait for it
        try:
            self._send(claim)
        finally:
            self._held.pop(claim.delivery_id, None)

    def reply_due(self, network: str, most: int = 3) -> int:
        """Post up to ``most`` late joiners' replies due on ``network``; returns how many.

        Only while no scheduled post is due within :data:`REPLY_CLEARANCE`, and within the
        network's reply budget (:data:`REPLY_BUDGETS`): the chat's own posts come first.
        """
        count = 0
        budget = self._reply_budgets.get(network)
        while count < most and not self.stopping and network not in self._halted:
            now = self.clock.now()
            if budget is not None and budget.available_at(now) > now:
                break
            soon = outbox.next_due(
                self.engine, network, event_ids=self.options.event_ids, before=now + REPLY_CLEARANCE
            )
            if soon is not None:
                break
            claim = replies.claim_reply(
                self.engine, network, now=now, worker=self.worker, lease=self.options.lease
            )
            if claim is None:
                break
            if budget is not None:
                budget.tokens -= 1
            self._held_replies[claim.delivery_id] = claim
            try:
                self._send(claim)
            finally:
                self._held_replies.pop(claim.delivery_id, None)
            count += 1
        return count

    def _send(self, claim: outbox.Claim) -> None:
        try:
            platform = self.platform(claim.network)
        except ConfigError as error:  # no credentials for a network a newly loaded event uses
            if claim.kind == replies.REPLY_KIND:
                replies.release_reply(self.engine, claim, now=self.clock.now())
            else:
                outbox.release(self.engine, claim, now=self.clock.now())
            self._halt(claim.network, str(error))
            return
        try:
            # Images only when there are some: a Platform without them keeps working.
            extra = {"media": claim.media} if claim.media else {}
            ref = platform.post(
                claim.text, key=claim.key, reply_to=claim.reply_to, root=claim.root,
                language=claim.language, **extra,
            )  # fmt: skip
        except ChatbotError as error:
            self._failed(claim, error)
            return
        except Exception as error:  # a bug or an untranslated client error: retry, say so
            log.exception("posting %s on %s", claim.label, claim.network)
            self._failed(claim, TransientError(f"{type(error).__name__}: {error}"))
            return
        if claim.kind == replies.REPLY_KIND:
            done = replies.complete_reply(self.engine, claim, ref, now=self.clock.now())
            self.say(claim.timezone, f"reply: {claim.label}", claim.network, f"posted  {done.url}")
            return
        outcome = outbox.complete(
            self.engine, claim, ref, now=self.clock.now(), late_after=self.options.late_after
        )
        what = "posted"
        if outcome.late:
            minutes = max(1, round(claim.late_by / 60))
            what = f"posted late ({minutes} min)"
        if claim.reclaimed:
            what += " (recovered after a stop)"
        self.say(claim.timezone, claim.label, claim.network, f"{what}  {outcome.url}".rstrip())

    def _failed(self, claim: outbox.Claim, error: ChatbotError) -> None:
        if isinstance(error, AuthError) and not self._first_refusal(claim.network):
            # A post sent at the same time met the same refusal and stops the network:
            # this one stays pending for the next run, as if never claimed.
            release = replies.release_reply if claim.kind == replies.REPLY_KIND else outbox.release
            release(self.engine, claim, now=self.clock.now())
            return
        record = replies.fail_reply if claim.kind == replies.REPLY_KIND else outbox.fail
        outcome = record(
            self.engine, claim, error, now=self.clock.now(), policy=self.options.policy,
            rng=self._rng,
        )  # fmt: skip
        if claim.kind == replies.REPLY_KIND:
            if isinstance(error, RateLimitedError) and outcome.next_at is not None:
                # Later replies wait too: the network said not now.
                self._reply_budgets[claim.network].blocked_until = outcome.next_at
            self.say(claim.timezone, f"reply: {claim.label}", claim.network, outcome.message)
        else:
            self.say(claim.timezone, claim.label, claim.network, outcome.message)
        if isinstance(error, AuthError):
            self._halt(claim.network, str(error))

    def _first_refusal(self, network: str) -> bool:
        """True for the first post on ``network`` refused for its credentials."""
        with self._lock:
            first = network not in self._refused
            self._refused.add(network)
            return first

    def _halt(self, network: str, reason: str) -> None:
        with self._lock:  # posts sent at once may all be refused: say it once
            if network in self._halted:
                return
            self._halted[network] = reason
        self._out(
            f"Stopped posting on {network}: {reason}. The other network carries on; "
            f"fix this and start chatbot run again to post the rest on {network}."
        )

    @property
    def halted(self) -> dict[str, str]:
        return dict(self._halted)

    def check_done(self) -> bool:
        """With ``until_done``: stop when every post is final (exit 1 if a network halted)."""
        left = outbox.open_deliveries(self.engine, self.options.event_ids)
        if not left:
            if not self._posts_done:
                self._posts_done = True
                self._out("All posts are done.")
            waiting = [what for job in self.jobs if job.pending and (what := job.pending())]
            if waiting:
                if waiting != self._waiting_for:
                    self._waiting_for = waiting
                    self._out(f"Still {'; '.join(waiting)} (Ctrl-C stops).")
                return False
            self.stop(1 if self._halted else 0)
            return True
        if all(network in self._halted for _, network, _ in left):
            networks = sorted({network for _, network, _ in left})
            self._out(
                f"{len(left)} posts are left on {', '.join(networks)}, where posting stopped; "
                "fix the problem above and run again."
            )
            self.stop(1)
            return True
        return False


__all__ = ["POSTS_AT_ONCE", "STOP_GRACE", "BotService", "Job", "RunOptions", "worker_name"]
