"""Federation between sandbox Mastodon instances: delivery late, partly, or never.

Every status posted on one instance is delivered to the others as a remote
copy (:mod:`chatbot.sandbox.mastodon.remote`) after a delay, or, for a share
of (status, instance) pairs, never. Edits and deletions follow to every
instance that has (or is about to get) a copy, never before the status
itself. Who a status is addressed to always gets it: the instance of the
account it replies to and of every account it mentions (private and direct
statuses go only there). A reply whose parent an instance lacks makes that
instance fetch the parent, as Mastodon resolves a thread. A favourite or
boost of a remote copy is delivered to the status's origin (late, or lost
like any activity), which counts it; other copies never hear of it.

Nothing here sleeps or reads the wall clock: each delivery has a due time on
the sandbox clock, and whatever is due is delivered before an instance
answers any request (:meth:`Federation.deliver_due`, a ``catch_up`` hook of
every store) and by a background thread for streams (:meth:`start`). Which
pairs are lost and how long each delivery takes are drawn from a hash of the
seed, the two instances, the author and the author's count of posts, so the
same seed and the same posts give the same federation whatever the load.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from chatbot.clock import Clock
from chatbot.sandbox.mastodon import entities
from chatbot.sandbox.mastodon.records import Status
from chatbot.sandbox.mastodon.remote import copy_status, refresh_copy
from chatbot.sandbox.mastodon.store import MastodonStore

# How long Mastodon tells a client to wait before reading a context again while it
# fetches the replies from their origin (AsyncRefreshesConcern's default, 3 s).
REFRESH_SECONDS = 3

POLL_SECONDS = 0.05  # how often (real time) the background thread delivers what is due
_ADDRESSED_ONLY = ("private", "direct")


@dataclass(frozen=True)
class FederationSettings:
    """How federation behaves: ``delay`` is the longest delivery time in sandbox seconds
    (each delivery takes a seeded share of it), ``loss`` the share of (status, instance)
    pairs that never federate."""

    delay: float = 0.0
    loss: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.delay) and self.delay >= 0):
            raise ValueError(f"federation delay {self.delay!r}: give seconds, 0 or more")
        if not (math.isfinite(self.loss) and 0 <= self.loss <= 1):
            raise ValueError(f"federation loss {self.loss!r}: give a share from 0 to 1")


@dataclass(order=True, frozen=True)
class Delivery:
    """One activity on its way: ``event`` is update (a new status), status.update, delete,
    or reaction (``detail``: kind, the reacting account as the origin names it, given)."""

    due: datetime
    seq: int
    event: str
    uri: str
    target: int
    detail: tuple[str, str, bool] | None = None


class Federation:
    """Links sandbox Mastodon stores (instances 0..N-1) into one small fediverse."""

    def __init__(
        self,
        stores: Sequence[MastodonStore],
        clock: Clock,
        settings: FederationSettings | None = None,
    ):
        self.stores = list(stores)
        self.clock = clock
        self.settings = settings or FederationSettings()
        self._queue: list[Delivery] = []
        self._queue_lock = threading.Lock()
        self._deliver_lock = threading.RLock()  # one delivery (or fetch) at a time
        self._seq = 0
        self._homes: dict[str, tuple[int, str]] = {}  # uri -> (instance, id there)
        self._keys: dict[str, str] = {}  # uri -> its seeded key
        self._posts: Counter[tuple[int, str]] = Counter()  # (instance, author) -> posts
        self._news: Counter[str] = Counter()  # uri -> edits and deletions so far
        self._copies: dict[tuple[str, int], str] = {}  # (uri, instance) -> copy's id
        self._expected: dict[tuple[str, int], datetime] = {}  # (uri, instance) -> last due
        self.lost: set[tuple[str, int]] = set()  # (uri, instance) never delivered
        self._html: dict[str, tuple[datetime | None, str]] = {}  # uri -> origin's content
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for index, store in enumerate(self.stores):
            store.add_listener(partial(self._heard, index))
            store.catch_up_hooks.append(self._catch_up)
            store.resolver = partial(self._resolve_address, index)
            store.reply_fetcher = partial(self.fetch_replies, index)
            store.reaction_hooks.append(partial(self._reacted, index))

    # -- what is where ---------------------------------------------------------
    def instance_of(self, domain: str) -> int | None:
        for index, store in enumerate(self.stores):
            if store.domain.lower() == domain.lower():
                return index
        return None

    def uri_of(self, instance: int, status_id: str) -> str:
        store = self.stores[instance]
        status = store.status(status_id)
        if status is None:
            raise LookupError(f"no status {status_id} on instance {instance}")
        return entities.status_addresses(store, status)[0]

    def home(self, uri: str) -> tuple[int, str] | None:
        """The instance a status was posted on and its id there."""
        return self._homes.get(uri)

    def copy_id(self, uri: str, instance: int) -> str | None:
        """The id of ``uri`` on ``instance``: the original there, or a copy it has received."""
        home = self._homes.get(uri)
        if home is not None and home[0] == instance:
            return home[1]
        return self._copies.get((uri, instance))

    def holders(self, uri: str) -> list[int]:
        """The instances where ``uri`` exists now (not deleted), its home first."""
        found = []
        for index, store in enumerate(self.stores):
            status_id = self.copy_id(uri, index)
            status = store.status(status_id) if status_id else None
            if status is not None and not status.deleted:
                found.append(index)
        home = self._homes.get(uri)
        return sorted(found, key=lambda index: (home is None or index != home[0], index))

    def pending(self) -> int:
        with self._queue_lock:
            return len(self._queue)

    # -- hearing what happens on each instance ------------------------------------
    def _heard(self, index: int, event: str, status: Status) -> None:
        """A store's listener: schedule deliveries of its own statuses' news."""
        if not status.local:
            return  # copies are never passed on; their origin federates them
        store = self.stores[index]
        uri = entities.status_addresses(store, status)[0]
        now = self.clock.now()
        with self._queue_lock:
            if event == "update":
                self._announce(index, store, status, uri, now)
            else:
                self._follow_up(index, event, uri, now)

    def _announce(
        self, index: int, store: MastodonStore, status: Status, uri: str, now: datetime
    ) -> None:
        author = store.account(status.account_id)
        username = author.username if author else status.account_id
        self._posts[(index, username)] += 1
        key = f"{index}:{username}:{self._posts[(index, username)]}"
        self._homes[uri], self._keys[uri] = (index, status.id), key
        addressed = self._addressed(store, status)
        for target in range(len(self.stores)):
            if target == index:
                continue
            lost = status.visibility in _ADDRESSED_ONLY or (
                self._roll(key, target, "loss") < self.settings.loss
            )
            if lost and target not in addressed:
                self.lost.add((uri, target))
                continue
            self._schedule("update", uri, target, now + self._delay(key, target, "update"))

    def _follow_up(self, index: int, event: str, uri: str, now: datetime) -> None:
        key = self._keys.get(uri)
        if key is None:
            return
        self._news[uri] += 1
        for target in range(len(self.stores)):
            pair = (uri, target)
            if target == index or (pair not in self._expected and pair not in self._copies):
                continue
            due = now + self._delay(key, target, f"{event}{self._news[uri]}")
            self._schedule(event, uri, target, due)

    def _reacted(self, index: int, kind: str, status: Status, account_id: str, on: bool) -> None:
        """A store's reaction hook: a favourite or boost of a copy goes to the origin."""
        if status.local:
            return  # given on the origin: counted there already
        store = self.stores[index]
        uri = entities.status_addresses(store, status)[0]
        home = self._homes.get(uri)
        if home is None:
            return
        account = f"{account_id}@{store.domain}"  # the reacting account, foreign there
        key = f"{index}:{account}:{kind}:{uri}:{on}"
        if self._roll(key, "loss") < self.settings.loss:
            return
        due = self.clock.now() + self._delay(key, home[0], "reaction")
        with self._queue_lock:
            self._seq += 1
            heapq.heappush(
                self._queue, Delivery(due, self._seq, "reaction", uri, home[0], (kind, account, on))
            )

    def _addressed(self, store: MastodonStore, status: Status) -> set[int]:
        """Instances that get ``status`` whatever the loss: its parent's and mentions' homes."""
        account_ids = list(status.mention_ids)
        parent = store.status(status.in_reply_to_id) if status.in_reply_to_id else None
        if parent is not None:
            account_ids.append(parent.account_id)
        found = set()
        for account_id in account_ids:
            account = store.account(account_id)
            if account is not None:
                instance = self.instance_of(account.domain or store.domain)
                if instance is not None:
                    found.add(instance)
        return found

    def _schedule(self, event: str, uri: str, target: int, due: datetime) -> None:
        # Never before what came earlier for the same status on the same instance.
        due = max(due, self._expected.get((uri, target), due))
        self._expected[(uri, target)] = due
        self._seq += 1
        heapq.heappush(self._queue, Delivery(due, self._seq, event, uri, target))

    def _roll(self, *parts: object) -> float:
        text = ":".join(str(part) for part in (self.settings.seed, *parts))
        digest = hashlib.sha256(text.encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def _delay(self, key: str, target: int, what: str) -> timedelta:
        return timedelta(seconds=self.settings.delay * self._roll(key, target, what, "delay"))

    # -- delivering -------------------------------------------------------------
    def deliver_due(self, now: datetime | None = None) -> int:
        """Deliver everything due by ``now`` (default: the clock), in order; returns how many."""
        now = now or self.clock.now()
        done = 0
        with self._deliver_lock:
            while True:
                with self._queue_lock:
                    if not self._queue or self._queue[0].due > now:
                        return done
                    delivery = heapq.heappop(self._queue)
                self._apply(delivery)
                done += 1

    def _catch_up(self) -> None:
        self.deliver_due()

    def _apply(self, delivery: Delivery) -> None:
        home = self._homes.get(delivery.uri)
        if home is None:
            return
        origin = self.stores[home[0]]
        if delivery.detail is not None:  # a reaction, to the origin
            kind, account, on = delivery.detail
            origin.reactions.set(kind, home[1], account, on)
            return
        target = self.stores[delivery.target]
        status = origin.status(home[1])
        copy_id = self._copies.get((delivery.uri, delivery.target))
        copy = target.status(copy_id) if copy_id else None
        if delivery.event in ("update", "fetch"):
            if copy is None:
                self._import(delivery.uri, delivery.target, fetched=delivery.event == "fetch")
        elif copy is None or copy.deleted:
            return
        elif delivery.event == "delete":
            target.remove(copy.id)
        elif status is not None and not status.deleted:
            refresh_copy(target, origin, status, copy)

    def resolve(self, uri: str, instance: int) -> str | None:
        """The id of ``uri`` on ``instance``, fetching it there now if it has none (as a person
        pasting its address into search makes their server do). None if it is gone."""
        with self._deliver_lock:
            return self._import(uri, instance, fetched=True)

    def fetch_replies(self, instance: int, status_id: str) -> int:
        """Start fetching to ``instance`` the replies to its copy ``status_id`` that the
        status's origin has and ``instance`` lacks, due ``REFRESH_SECONDS`` from now (Mastodon
        4.4's context refresh); returns how many are on their way."""
        store = self.stores[instance]
        status = store.status(status_id)
        if status is None or status.local:
            return 0
        uri = entities.status_addresses(store, status)[0]
        home = self._homes.get(uri)
        if home is None:
            return 0
        origin = self.stores[home[0]]
        due = self.clock.now() + timedelta(seconds=REFRESH_SECONDS)
        started = 0
        with self._queue_lock:
            for reply in list(origin.statuses.values()):
                if reply.in_reply_to_id != home[1] or reply.deleted or reply.visibility == "direct":
                    continue
                reply_uri = entities.status_addresses(origin, reply)[0]
                if self.copy_id(reply_uri, instance) is None and reply_uri in self._homes:
                    self._schedule("fetch", reply_uri, instance, due)
                    started += 1
        return started

    def _resolve_address(self, instance: int, address: str) -> str | None:
        # A status's ActivityPub id, or its web address on its origin (as people paste it).
        if address not in self._homes:
            for uri, (origin, status_id) in list(self._homes.items()):
                store = self.stores[origin]
                status = store.status(status_id)
                if status is not None and entities.status_addresses(store, status)[1] == address:
                    address = uri
                    break
        return self.resolve(address, instance)

    def _import(self, uri: str, instance: int, *, fetched: bool) -> str | None:
        known = self.copy_id(uri, instance)
        if known is not None:
            return known
        home = self._homes.get(uri)
        if home is None:
            return None
        origin = self.stores[home[0]]
        status = origin.status(home[1])
        if status is None or status.deleted:
            return None  # deleted before it got here: it never shows here
        parent_id = quote_id = None
        if status.in_reply_to_id:
            parent_id = self._import(
                self.uri_of(home[0], status.in_reply_to_id), instance, fetched=True
            )
        if status.quote_id:
            quote_id = self._import(self.uri_of(home[0], status.quote_id), instance, fetched=True)
        cached = self._html.get(uri)
        if cached is None or cached[0] != status.edited_at:
            cached = self._html[uri] = (status.edited_at, entities.content_html(origin, status))
        copy = copy_status(
            self.stores[instance],
            origin,
            status,
            in_reply_to_id=parent_id,
            quote_id=quote_id,
            fetched=fetched,
            content=cached[1],
        )
        self._copies[(uri, instance)] = copy.id
        return copy.id

    # -- the background thread (for streams) -----------------------------------------
    def start(self) -> Federation:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="sandbox-federation", daemon=True
            )
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.deliver_due()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


__all__ = ["Delivery", "Federation", "FederationSettings"]
