"""Per-network reading for the collector: new hashtag posts with a resumable cursor, checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from chatbot.errors import NotFoundError, PlatformError
from chatbot.platforms.base import AuthorProfile, NormalisedPost, Platform, RemoteRef, Thread
from chatbot.platforms.mastodon_server import RateState, newest_id, status_id_key
from chatbot.platforms.normalise import bluesky_profile, parse_time

# Search results are ordered by the earlier of createdAt and indexedAt; a post can
# land a little below the newest one seen, so every scan reaches back this far.
SEARCH_OVERLAP = timedelta(minutes=2)
MASTODON_PAGE = 40
SEARCH_CAP = 10_000  # results one searchPosts query gives at most, over all its pages
BLUESKY_BATCH = 25
MASTODON_BATCH = 40  # ids one GET /api/v1/statuses takes (Mastodon 4.3+)


class Call(Protocol):
    """Makes one request (``cost`` of them) on the budget, retrying transient failures."""

    def __call__(self, action: Callable[[], T], cost: int = 1, paging: bool = False) -> T: ...


Spend = Call
Window = tuple[datetime, datetime]
T = TypeVar("T")


@dataclass(frozen=True)
class Checked:
    """What a check of known posts found: the live ones (fresh copies) and the gone ones."""

    alive: list[NormalisedPost]
    gone: list[str]  # URIs
    unchecked: int = 0  # left for the next check (request budget)
    # URIs of ``alive`` posts that a listing returned (the tag timeline), not a lookup
    # of a known post by its address: only these were found by the check.
    listed: frozenset[str] = frozenset()


class Source(Protocol):
    """What the collector needs from one network."""

    network: str
    platform: Platform

    def scan(
        self, tag: str, window: Window, state: dict[str, Any], spend: Spend, now: datetime
    ) -> Iterator[tuple[list[NormalisedPost], dict[str, Any]]]: ...

    def check(
        self, tag: str, window: Window, known: Sequence[RemoteRef], spend: Spend
    ) -> Checked: ...

    def thread(self, ref: RemoteRef, spend: Spend) -> Thread: ...

    def copies(self, refs: Sequence[RemoteRef], spend: Spend) -> dict[str, NormalisedPost]: ...

    @property
    def batch(self) -> int:
        """Posts one request of :meth:`copies` reads."""
        ...


def reply_count(post: NormalisedPost) -> int:
    """How many replies the network says the post has (0 when it doesn't say)."""
    raw = post.raw
    value = raw.get("replyCount", raw.get("replies_count", 0))
    return value if isinstance(value, int) else 0


def sort_time(post: NormalisedPost) -> datetime | None:
    """The time search orders a post by: the earlier of created and indexed."""
    indexed = parse_time(post.raw.get("indexedAt"))
    times = [t for t in (post.created_at, indexed) if t is not None]
    return min(times) if times else None


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _below(low: datetime | None, until: datetime) -> datetime | None:
    """The upper bound of the query for what a query cut off at the cap left out: just
    above its oldest result (posts of that very millisecond are read again, never lost),
    or None when that would not narrow the window (more than a cap of posts in one
    millisecond: they can't be told apart by time)."""
    if low is None:
        return None
    lower = low + timedelta(milliseconds=1)
    return lower if lower < until else None


class BlueskySource:
    """searchPosts newest first down to the last complete scan, by time windows past the
    search's cap on results; getPosts to check.

    searchPosts gives at most ``search_cap`` results per query (10,000 on the real
    service) and ignores ``tag`` (and, on the reference AppView, ``since``/``until``):
    the adapter checks the tag (facets and the record's ``tags``, in any case) and the
    window itself. A query whose results end at the cap, or before the number of
    results it says it has (``hitsTotal``), is cut off: the scan asks again for the
    rest of the window, up to the oldest post the cut-off query gave.
    """

    network = "bluesky"
    batch = BLUESKY_BATCH  # posts a getPosts request reads
    # getPostThread answers a bounded tree (depth, replies per level): the collector
    # reads again where a post's replyCount says replies were left out.
    cuts_threads = True

    def __init__(self, platform: Any, *, search_cap: int = SEARCH_CAP):
        self.platform = platform
        self.search_cap = search_cap

    def scan(
        self, tag: str, window: Window, state: dict[str, Any], spend: Spend, now: datetime
    ) -> Iterator[tuple[list[NormalisedPost], dict[str, Any]]]:
        """Pages of new posts, each with the state to store once the page is stored.

        State: ``hwm`` is the newest sort time of the last complete scan; ``scan``
        an unfinished one (its query's upper bound ``until``, its cursor, the
        results the query gave so far ``seen`` and the oldest sort time among them
        ``low``, the newest time the whole scan saw ``top``); ``capped``, how many
        times the last complete scan met the cap. Only a finished scan moves
        ``hwm``, so a crash mid-scan never leaves a gap.
        """
        start, end = window
        hwm = parse_time(state.get("hwm"))
        scan = dict(state.get("scan") or {})
        floor = max(start, hwm - SEARCH_OVERLAP) if hwm else start
        if scan.get("floor"):
            floor = parse_time(scan["floor"]) or floor
        until = parse_time(scan.get("until")) or end
        cursor = scan.get("cursor")
        top = parse_time(scan.get("top"))
        low = parse_time(scan.get("low"))
        seen = int(scan.get("seen") or 0)
        capped = int(scan.get("capped") or 0)
        while True:
            search = self.platform.search_hashtag
            page = spend(partial(search, tag, since=floor, until=until, cursor=cursor))
            seen += page.seen
            total = page.total
            for post in page.posts:
                moment = sort_time(post)
                if moment is not None and moment <= now and (top is None or moment > top):
                    top = moment
                if moment is not None and (low is None or moment < low):
                    low = moment
            if page.cursor is None or page.cursor == cursor:
                # Cut off: the cap reached, or fewer results given than the query says it has.
                cut = seen >= self.search_cap or (total is not None and total > seen)
                lower = _below(low, until) if cut else None
                if lower is None or lower <= floor:
                    newest = max(t for t in (hwm, top) if t is not None) if (hwm or top) else None
                    yield page.posts, {"hwm": _iso(newest), "scan": None, "capped": capped}
                    return
                # Cut off at the cap: the rest of the window is a query of its own.
                until, cursor, seen, low, capped = lower, None, 0, None, capped + 1
            else:
                cursor = page.cursor
            scan = {
                "cursor": cursor,
                "top": _iso(top),
                "floor": _iso(floor),
                "until": _iso(until),
                "seen": seen,
                "low": _iso(low),
                "capped": capped,
            }
            yield page.posts, {"hwm": _iso(hwm), "scan": scan}

    def check(self, tag: str, window: Window, known: Sequence[RemoteRef], spend: Spend) -> Checked:
        alive: list[NormalisedPost] = []
        gone: list[str] = []
        uris = [ref.uri for ref in known]
        for index in range(0, len(uris), BLUESKY_BATCH):
            chunk = uris[index : index + BLUESKY_BATCH]
            found = spend(partial(self.platform.fetch_many, chunk))
            alive.extend(found.values())
            gone.extend(uri for uri in chunk if uri not in found)
        return Checked(alive, gone)

    def thread(self, ref: RemoteRef, spend: Spend) -> Thread:
        thread: Thread = spend(lambda: self.platform.thread(ref))
        return thread

    def reply_counts(self, refs: Sequence[RemoteRef], spend: Spend) -> dict[str, int]:
        """Each post's replyCount by URI, 25 posts a request; a post that is gone is left out."""
        return {uri: reply_count(post) for uri, post in self.copies(refs, spend).items()}

    def copies(self, refs: Sequence[RemoteRef], spend: Spend) -> dict[str, NormalisedPost]:
        """Fresh post views (with their counts) by URI, 25 a getPosts request; gone ones left
        out."""
        found: dict[str, NormalisedPost] = {}
        uris = [ref.uri for ref in refs]
        for index in range(0, len(uris), BLUESKY_BATCH):
            found.update(
                spend(partial(self.platform.fetch_many, uris[index : index + BLUESKY_BATCH]))
            )
        return found

    def profiles(self, dids: Sequence[str], spend: Spend) -> list[AuthorProfile]:
        """Authors' full profiles: a post view lacks the bio and the follower count."""
        found: list[AuthorProfile] = []
        for index in range(0, len(dids), BLUESKY_BATCH):
            chunk = list(dids[index : index + BLUESKY_BATCH])
            views = spend(partial(self.platform.profiles, chunk))
            found.extend(bluesky_profile(view) for view in views if view.get("did"))
        return found


NO_POSTS_YET = "no posts yet (the server answers 404 until someone uses the tag)"


class MastodonSource:
    """The tag timeline by the ids the server gives; contexts; a timeline walk to check.

    Ids are opaque (Mastodon's numbers, GoToSocial's ULIDs): none is ever made
    from a time. The first scan reads newest first until the window's start;
    later ones page upwards with ``min_id`` from the newest id seen. A 404 for
    the tag (GoToSocial, before anyone used it) is "no posts yet", not an error.
    """

    network = "mastodon"

    def __init__(self, platform: Any, *, max_lookups: int = 60):
        self.platform = platform
        self.max_lookups = max_lookups
        # Whether GET /api/v1/statuses?id[]= answers: None until it has been tried.
        batches = callable(getattr(platform, "fetch_many", None))
        self._batches: bool | None = None if batches else False
        self._author_turn = 0  # where the next sweep of authors' timelines begins

    @property
    def batch(self) -> int:
        """Statuses a read of :meth:`copies` takes: 40, or 1 where the server has no batches."""
        return MASTODON_BATCH if self._batches is not False else 1

    @property
    def expands_every_answer(self) -> bool:
        """Whether every collected post's context must be read: the server's tag timeline
        may leave out tagged replies to other accounts (GoToSocial)."""
        server = getattr(self.platform, "server", None)
        return bool(server is not None and server().tag_omits_replies)

    def rate_state(self) -> RateState | None:
        state = getattr(self.platform, "rate_state", None)
        return state() if callable(state) else None

    def scan(
        self, tag: str, window: Window, state: dict[str, Any], spend: Spend, now: datetime
    ) -> Iterator[tuple[list[NormalisedPost], dict[str, Any]]]:
        """Pages of new posts, each with the state to store once the page is stored.

        State: ``min_id``, the newest id of the last finished scan (None before
        the first); ``scan``, an unfinished first scan (the ``max_id`` to go on
        from and the newest id it saw); ``feed``, what the timeline said last
        time when it was not a list (``NO_POSTS_YET``). Only a finished first scan
        sets ``min_id``, so a crash mid-scan never leaves a gap.
        """
        bare = tag.lstrip("#")
        min_id = state.get("min_id")
        try:
            if min_id and not state.get("scan"):
                yield from self._upwards(bare, window, str(min_id), spend)
            else:
                yield from self._first(bare, window, dict(state.get("scan") or {}), spend)
        except NotFoundError:
            yield [], {"min_id": min_id, "scan": None, "feed": NO_POSTS_YET}

    def _first(
        self, tag: str, window: Window, scan: dict[str, Any], spend: Spend
    ) -> Iterator[tuple[list[NormalisedPost], dict[str, Any]]]:
        start, end = window
        max_id, top = scan.get("max_id"), scan.get("top")
        while True:
            read = partial(self.platform.tag_timeline, tag, max_id=max_id, limit=MASTODON_PAGE)
            posts: list[NormalisedPost] = spend(read, paging=max_id is not None)
            top = newest_id([i for i in [top, *(p.id for p in posts)] if i])
            oldest = min((p.created_at for p in posts if p.created_at), default=None)
            done = not posts or (oldest is not None and oldest < start)
            kept = _within(posts, start, end)
            if done:
                yield kept, {"min_id": top, "scan": None, "feed": None}
                return
            lowest = min((p.id for p in posts), key=status_id_key)
            if max_id and status_id_key(lowest) >= status_id_key(max_id):
                # A server that ignores max_id: stop here rather than loop; the next
                # scan starts again from the top.
                yield kept, {"min_id": None, "scan": None, "feed": None}
                return
            max_id = lowest
            yield kept, {"min_id": None, "scan": {"max_id": max_id, "top": top}, "feed": None}

    def _upwards(
        self, tag: str, window: Window, min_id: str, spend: Spend
    ) -> Iterator[tuple[list[NormalisedPost], dict[str, Any]]]:
        start, end = window
        while True:
            read = partial(self.platform.tag_timeline, tag, min_id=min_id, limit=MASTODON_PAGE)
            posts: list[NormalisedPost] = spend(read, paging=True)
            if not posts:
                return
            newest = newest_id([p.id for p in posts])
            if newest is None or status_id_key(newest) <= status_id_key(min_id):
                return  # a server that ignores min_id: don't loop
            min_id = newest
            yield _within(posts, start, end), {"min_id": min_id, "scan": None, "feed": None}
            oldest = min((p.created_at for p in posts if p.created_at), default=None)
            if oldest is not None and oldest >= end:
                return  # past the window: later pages are later still

    def check(self, tag: str, window: Window, known: Sequence[RemoteRef], spend: Spend) -> Checked:
        start, end = window
        alive: dict[str, NormalisedPost] = {}
        cursor: str | None = None
        while True:  # the whole tag timeline of the window, newest first
            search = self.platform.search_hashtag
            try:
                read = partial(search, tag, since=start, until=end, cursor=cursor)
                page = spend(read, paging=cursor is not None)
            except NotFoundError:
                break  # nobody used the tag here yet: every known post is looked up below
            alive.update((post.uri, post) for post in page.posts)
            if page.cursor is None or page.cursor == cursor:
                break
            cursor = page.cursor
        listed = frozenset(alive)
        suspects = [ref for ref in known if ref.uri not in alive]
        found, gone, unchecked = self._look_up(suspects, spend)
        alive.update(found)
        return Checked(list(alive.values()), gone, unchecked, listed)

    def checks_in_batches(self, known: Sequence[RemoteRef], spend: Spend) -> bool:
        """Whether known posts are looked up 40 a request (Mastodon 4.3+): then a check
        needs no conversation's context to learn what was deleted or answered. Until a
        batch has been asked for, one is (with some of ``known``) to learn it."""
        if self._batches is None and known:
            self._look_up(known[:MASTODON_BATCH], spend)
        return self._batches is True

    def _look_up(
        self, refs: Sequence[RemoteRef], spend: Spend
    ) -> tuple[dict[str, NormalisedPost], list[str], int]:
        """Each of ``refs`` as the server shows it now, by URI; the URIs it no longer shows;
        how many were left for a later check (at most ``max_lookups`` requests a call)."""
        per_request = MASTODON_BATCH if self._batches is not False else 1
        chosen = [ref for ref in refs if ref.id][: self.max_lookups * per_request]
        found = self.copies(chosen, spend)
        gone = [ref.uri for ref in chosen if ref.uri not in found]
        return found, gone, len(refs) - len(chosen)

    def thread(self, ref: RemoteRef, spend: Spend) -> Thread:
        return spend(lambda: self._thread(ref), 2)  # the status and its context

    def reply_counts(self, refs: Sequence[RemoteRef], spend: Spend) -> dict[str, int]:
        """Each status's replies_count by URI; a status that is gone is left out."""
        return {uri: reply_count(post) for uri, post in self.copies(refs, spend).items()}

    def copies(self, refs: Sequence[RemoteRef], spend: Spend) -> dict[str, NormalisedPost]:
        """Fresh statuses (with their counts) by URI: 40 a request where the server takes
        many ids (Mastodon 4.3+), else one request each; a status that is gone is left out.
        ``refs`` must carry the bot's own server's ids (not another server's, ``id@host``)."""
        found: dict[str, NormalisedPost] = {}
        by_id = {ref.id: ref for ref in refs if ref.id}
        ids = list(by_id)
        done = 0
        if self._batches is not False:
            try:
                for index in range(0, len(ids), MASTODON_BATCH):
                    chunk = ids[index : index + MASTODON_BATCH]
                    got = spend(partial(self.platform.fetch_many, chunk))
                    found.update((by_id[i].uri, p) for i, p in got.items() if i in by_id)
                    done = index + len(chunk)
                    self._batches = True
                return found
            except NotFoundError:
                self._batches = False  # an older server, or another software: one by one
        for status_id in ids[done:]:
            post = spend(partial(self.platform.fetch, by_id[status_id]))
            if post is not None:
                found[by_id[status_id].uri] = post
        return found

    def author_posts(
        self, tag: str, window: Window, authors: Sequence[str], spend: Spend
    ) -> list[NormalisedPost]:
        """The tagged posts in the window of each of ``authors``, from their own timelines.

        Where the tag timeline leaves out replies, a tagged reply under a deleted post
        is in no timeline and no context: only its author's own timeline still has it.
        At most ``max_lookups`` authors a call, taking turns across calls.
        """
        start, end = window
        bare = tag.lstrip("#").lower()
        count = len(authors)
        chosen = [
            authors[(self._author_turn + n) % count] for n in range(min(count, self.max_lookups))
        ]
        self._author_turn = (self._author_turn + len(chosen)) % max(count, 1)
        found: list[NormalisedPost] = []
        for author in chosen:
            max_id: str | None = None
            while True:
                read = partial(self.platform.account_posts, author, max_id=max_id)
                try:
                    posts: list[NormalisedPost] = spend(read, paging=max_id is not None)
                except NotFoundError:
                    break  # the account is gone
                found += [p for p in _within(posts, start, end) if bare in p.tags]
                oldest = min((p.created_at for p in posts if p.created_at), default=None)
                lowest = min((p.id for p in posts), key=status_id_key, default=None)
                if (
                    lowest is None
                    or (oldest is not None and oldest < start)
                    or (max_id is not None and status_id_key(lowest) >= status_id_key(max_id))
                ):
                    break
                max_id = lowest
        return found

    def replies(self, post: NormalisedPost, spend: Spend) -> Thread:
        """``post``'s context (one call: the post itself is at hand)."""
        thread: Thread = spend(lambda: self.platform.context_thread(post))
        return thread

    def _thread(self, ref: RemoteRef) -> Thread:
        try:
            thread: Thread = self.platform.thread(ref)
        except NotFoundError:
            return Thread(anchor=None, replies=[], missing=[ref.id], incomplete=True)
        return thread


def _within(posts: list[NormalisedPost], start: datetime, end: datetime) -> list[NormalisedPost]:
    return [p for p in posts if p.created_at is None or start <= p.created_at < end]


def instance_of(platform: Any) -> str:
    """The base URL of the server an adapter reads (Mastodon's instance, Bluesky's service)."""
    for name in ("url", "service"):
        value = getattr(platform, name, None)
        if isinstance(value, str) and value:
            return value.rstrip("/")
    return str(platform.network)


def feed_closed(platform: Any) -> str | None:
    """``closed: why`` (or ``partly closed: ...``) when the server's settings shut its
    hashtag feed to this reader; None when open, or when the server can't be asked."""
    closed = getattr(platform, "hashtag_feed_closed", None)
    try:
        why = closed() if callable(closed) else None
    except PlatformError:
        return None
    if not why:
        return None
    return str(why) if str(why).startswith("partly") else f"closed: {why}"


def source_for(platform: Platform) -> Source:
    """The source for an adapter (by its ``network``)."""
    if platform.network == "bluesky":
        return BlueskySource(platform)
    if platform.network == "mastodon":
        return MastodonSource(platform)
    raise ValueError(f"cannot collect from {platform.network!r}")


__all__ = [
    "NO_POSTS_YET",
    "SEARCH_CAP",
    "BlueskySource",
    "Checked",
    "MastodonSource",
    "Source",
    "feed_closed",
    "instance_of",
    "reply_count",
    "sort_time",
    "source_for",
]
