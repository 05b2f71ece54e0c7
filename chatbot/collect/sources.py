"""Per-network reading for the collector: new hashtag posts with a resumable cursor, checks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from chatbot.errors import NotFoundError
from chatbot.platforms.base import AuthorProfile, NormalisedPost, Platform, RemoteRef, Thread
from chatbot.platforms.normalise import bluesky_profile, from_mastodon_status, parse_time

# Search results are ordered by the earlier of createdAt and indexedAt; a post can
# land a little below the newest one seen, so every scan reaches back this far.
SEARCH_OVERLAP = timedelta(minutes=2)
MASTODON_PAGE = 40
BLUESKY_BATCH = 25


class Call(Protocol):
    """Makes one request (``cost`` of them) on the budget, retrying transient failures."""

    def __call__(self, action: Callable[[], T], cost: int = 1) -> T: ...


Spend = Call
Window = tuple[datetime, datetime]
T = TypeVar("T")


@dataclass(frozen=True)
class Checked:
    """What a check of known posts found: the live ones (fresh copies) and the gone ones."""

    alive: list[NormalisedPost]
    gone: list[str]  # URIs
    unchecked: int = 0  # left for the next check (request budget)


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


class BlueskySource:
    """searchPosts newest first down to the last complete scan; getPosts to check."""

    network = "bluesky"

    def __init__(self, platform: Any):
        self.platform = platform

    def scan(
        self, tag: str, window: Window, state: dict[str, Any], spend: Spend, now: datetime
    ) -> Iterator[tuple[list[NormalisedPost], dict[str, Any]]]:
        """Pages of new posts, each with the state to store once the page is stored.

        State: ``hwm`` is the newest sort time of the last complete scan; ``scan``
        an unfinished one (its cursor and the newest time it saw). Only a
        finished scan moves ``hwm``, so a crash mid-scan never leaves a gap.
        """
        start, end = window
        hwm = parse_time(state.get("hwm"))
        scan = dict(state.get("scan") or {})
        floor = max(start, hwm - SEARCH_OVERLAP) if hwm else start
        if scan.get("floor"):
            floor = parse_time(scan["floor"]) or floor
        cursor = scan.get("cursor")
        top = parse_time(scan.get("top"))
        while True:
            search = self.platform.search_hashtag
            page = spend(partial(search, tag, since=floor, until=end, cursor=cursor))
            for post in page.posts:
                moment = sort_time(post)
                if moment is not None and moment <= now and (top is None or moment > top):
                    top = moment
            done = page.cursor is None or page.cursor == cursor
            if done:
                newest = max(t for t in (hwm, top) if t is not None) if (hwm or top) else None
                yield page.posts, {"hwm": _iso(newest), "scan": None}
                return
            cursor = page.cursor
            scan = {"cursor": cursor, "top": _iso(top), "floor": _iso(floor)}
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

    def profiles(self, dids: Sequence[str], spend: Spend) -> list[AuthorProfile]:
        """Authors' full profiles: a post view lacks the bio and the follower count."""
        found: list[AuthorProfile] = []
        for index in range(0, len(dids), BLUESKY_BATCH):
            chunk = list(dids[index : index + BLUESKY_BATCH])
            views = spend(partial(self.platform.profiles, chunk))
            found.extend(bluesky_profile(view) for view in views if view.get("did"))
        return found


class MastodonSource:
    """The tag timeline upwards with ``min_id``; a timeline rescan plus lookups to check."""

    network = "mastodon"

    def __init__(self, platform: Any, *, max_lookups: int = 60):
        self.platform = platform
        self.max_lookups = max_lookups

    def _call(self, action: Callable[[], Any]) -> Any:
        from mastodon import errors as mx

        from chatbot.platforms.mastodon import translate

        try:
            return action()
        except mx.MastodonError as error:
            reset = self.platform.api.ratelimit_reset
            retry_at = None
            if reset is not None and reset > time.time():
                retry_at = datetime.fromtimestamp(float(reset), UTC)
            raise translate(error, retry_at=retry_at) from None

    def scan(
        self, tag: str, window: Window, state: dict[str, Any], spend: Spend, now: datetime
    ) -> Iterator[tuple[list[NormalisedPost], dict[str, Any]]]:
        """Pages above ``min_id`` (oldest first); each page's newest id is the next cursor."""
        start, end = window
        min_id = state.get("min_id") or snowflake(start)
        bare = tag.lstrip("#")
        while True:
            statuses = spend(partial(self._timeline, bare, min_id))
            if not statuses:
                return
            posts = [from_mastodon_status(status) for status in statuses]
            newest = max((post.id for post in posts), key=_id_key)
            if _id_key(newest) <= _id_key(min_id):
                return  # a server that ignores min_id: don't loop
            kept = [p for p in posts if p.created_at is None or start <= p.created_at < end]
            min_id = newest
            yield kept, {"min_id": min_id}
            oldest = min((p.created_at for p in posts if p.created_at), default=None)
            if oldest is not None and oldest >= end:
                return  # past the window: later pages are later still

    def check(self, tag: str, window: Window, known: Sequence[RemoteRef], spend: Spend) -> Checked:
        start, end = window
        alive: dict[str, NormalisedPost] = {}
        cursor: str | None = None
        while True:  # the whole tag timeline of the window, newest first
            search = self.platform.search_hashtag
            page = spend(partial(search, tag, since=start, until=end, cursor=cursor))
            alive.update((post.uri, post) for post in page.posts)
            if page.cursor is None or page.cursor == cursor:
                break
            cursor = page.cursor
        gone: list[str] = []
        suspects = [ref for ref in known if ref.uri not in alive]
        for ref in suspects[: self.max_lookups]:
            post = spend(partial(self.platform.fetch, ref))
            if post is None:
                gone.append(ref.uri)
            else:
                alive[post.uri] = post
        return Checked(list(alive.values()), gone, max(len(suspects) - self.max_lookups, 0))

    def thread(self, ref: RemoteRef, spend: Spend) -> Thread:
        return spend(lambda: self._thread(ref), 2)  # the status and its context

    def _thread(self, ref: RemoteRef) -> Thread:
        try:
            thread: Thread = self.platform.thread(ref)
        except NotFoundError:
            return Thread(anchor=None, replies=[], missing=[ref.id], incomplete=True)
        return thread

    def _timeline(self, tag: str, min_id: str) -> list[Any]:
        statuses: list[Any] = self._call(
            lambda: self.platform.api.timeline_hashtag(tag, min_id=min_id, limit=MASTODON_PAGE)
        )
        return statuses


def snowflake(moment: datetime) -> str:
    """A Mastodon status id for ``moment``: milliseconds shifted left 16 bits, as Mastodon makes."""
    return str(int(moment.timestamp() * 1000) << 16)


def _id_key(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def source_for(platform: Platform) -> Source:
    """The source for an adapter (by its ``network``)."""
    if platform.network == "bluesky":
        return BlueskySource(platform)
    if platform.network == "mastodon":
        return MastodonSource(platform)
    raise ValueError(f"cannot collect from {platform.network!r}")


__all__ = [
    "BlueskySource",
    "Checked",
    "MastodonSource",
    "Source",
    "reply_count",
    "snowflake",
    "sort_time",
    "source_for",
]
