"""The rest of the fediverse: other Mastodon-API servers' tag timelines and question threads.

The bot's own server sees a participant's post only if it federated there,
late or never. So each pass also reads, for every server participants post
from (``instances.peers_to_read``), its public tag timeline without logging
in (paged upwards from the newest id it gave, the position kept per server)
and, on sweeps, the context there of each question post it holds and of
each tagged post whose reply count there is above the replies stored
(replies without the tag that never reached the bot's server). Every post found that
is not stored yet is brought to the bot's own server by its address (search
with ``resolve``: the server fetches it from its origin, with its parents),
so it is stored once, by its ActivityPub id, with the ids of the bot's own
server like every other post: its thread, check and deletion work the same.
A post the bot's server cannot fetch (its origin is blocked there, or gone)
is stored as that server saw it, its ids marked with the server
(``qualified``) so they are never taken for the bot's server's own.

Each server has its own request budget (``mastodon@host`` in the pacer),
follows its rate-limit headers and backs off on its own; a feed that is
closed to anonymous readers (401/403) is recorded apart from one with no
posts yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, Engine, select

from chatbot.collect.events import question_refs
from chatbot.collect.instances import host_of_account, is_qualified, peers_to_read
from chatbot.collect.pacing import OutOfBudget, Pacer, replace_network
from chatbot.collect.queries import child_counts, load_cursor, save_cursor
from chatbot.collect.report import NetworkReport, SourceCount
from chatbot.collect.sightings import FoundBy, record_sightings
from chatbot.collect.sources import Call, MastodonSource, feed_closed, reply_count
from chatbot.db import session_scope
from chatbot.errors import AuthError, NotFoundError, PlatformError, RateLimitedError
from chatbot.models import Event, Post
from chatbot.platforms.base import NormalisedPost, Platform, RemoteRef
from chatbot.platforms.mastodon import MastodonPlatform

log = logging.getLogger(__name__)

POST = Post.__table__  # type: ignore[attr-defined]
FEED_CLOSED = "closed to readers without an account (401/403)"
MAX_RESOLVES = 60  # posts brought to the bot's server a pass, per server read
Store = Callable[[Connection, Sequence[NormalisedPost], NetworkReport], None]
Found = dict[tuple[str, str], list[NormalisedPost]]  # (server, kind of reading) -> posts


def cursor_name(base: str) -> str:
    """The ``collection_cursor.source`` of one server's tag timeline."""
    return f"timeline@{base.split('://', 1)[-1]}"


def budget_key(base: str) -> str:
    """The pacer's name for one server's request budget."""
    return f"mastodon@{base.split('://', 1)[-1]}"


def qualified(post: NormalisedPost, base: str) -> NormalisedPost:
    """``post`` as server ``base`` gave it, its ids (the status's, its author's, its
    parent's) marked with that server so none is taken for an id of the bot's server."""
    host = base.split("://", 1)[-1]
    raw = dict(post.raw)
    if raw.get("in_reply_to_id"):
        raw["in_reply_to_id"] = f"{raw['in_reply_to_id']}@{host}"
    handle = post.author_handle
    if handle and "@" not in handle:
        handle = f"{handle}@{host}"  # a local account there: name its server
    return replace(
        post,
        id=f"{post.id}@{host}",
        author_id=f"{post.author_id}@{host}",
        author_handle=handle,
        parent_id=f"{post.parent_id}@{host}" if post.parent_id else None,
        raw=raw,
    )


class Peers:
    """Reads the other servers for one event; :meth:`step` once per collector pass."""

    def __init__(
        self,
        engine: Engine,
        event_id: int,
        home: Platform,
        connect: Callable[[str], Platform],
        pacer: Pacer,
        now: Callable[[], datetime],
        sleep: Callable[[float], None],
        store: Store,
        *,
        limit: int,
    ) -> None:
        self.engine = engine
        self.event_id = event_id
        self.home = home
        self.connect = connect
        self.pacer = pacer
        self.now = now
        self.sleep = sleep
        self.store = store
        self.limit = limit
        self._platforms: dict[str, Platform] = {}

    def servers(self) -> list[str]:
        """The base URLs to read this pass, the bot's own server left out."""
        with session_scope(self.engine) as session:
            connection = session.connection()
            rows = connection.execute(
                select(POST.c.uri, POST.c.mentions, POST.c.author_handle).where(
                    POST.c.event_id == self.event_id, POST.c.network == "mastodon"
                )
            ).all()
            event = session.get(Event, self.event_id)
            listed = list((event.settings or {}).get("mastodon_instances") or []) if event else []
        hosts: list[str] = []
        for row in rows:
            for name in [row.author_handle or "", *(row.mentions or [])]:
                host = host_of_account(str(name))
                if host is not None:
                    hosts.append(host)
        home = str(getattr(self.home, "url", ""))
        return peers_to_read(home, (r.uri for r in rows), hosts, listed, limit=self.limit)

    def step(
        self, tag: str, window: tuple[datetime, datetime], sweep: bool, part: NetworkReport
    ) -> None:
        """Read every other server once; what each found and met goes into ``part``."""
        if self.limit <= 0:
            return
        for base in self.servers():
            key = budget_key(base)
            blocked = self.pacer.blocked(key, self.now())
            if blocked is not None:
                part.notes.append(f"{base}: resting until {blocked.isoformat()}")
                continue
            platform = self._platforms.get(base)
            if platform is None:
                platform = self._platforms[base] = self.connect(base)
            found: Found = {}
            try:
                self._read(base, platform, tag, window, sweep, part, found)
                self._bring_home(base, [p for posts in found.values() for p in posts], part)
                self.pacer.succeeded(key)
            except OutOfBudget as stop:
                part.notes.append(f"{base}: request budget spent until {stop.until.isoformat()}")
            except AuthError:
                part.notes.append(f"{base}: hashtag timeline {FEED_CLOSED}")
                part.source(base, "timeline").feed = f"closed: {FEED_CLOSED}"
                self.pacer.failed(key, self.now())
            except RateLimitedError as error:
                until = self.pacer.rate_limited(replace_network(error, key), self.now())
                part.notes.append(f"{base}: rate limited until {until.isoformat()}")
            except PlatformError as error:
                # Noted, not an error of the pass: a server down must not keep the
                # chat's collection from finishing.
                self.pacer.failed(key, self.now())
                part.notes.append(f"{base}: not read ({error})")
                count = part.reading_now()
                count.errors, count.last_error = count.errors + 1, str(error)
                log.warning("collect mastodon from %s: %s", base, error)
            finally:
                self._sighted(found)

    def _read(
        self,
        base: str,
        platform: Platform,
        tag: str,
        window: tuple[datetime, datetime],
        sweep: bool,
        part: NetworkReport,
        found: Found,
    ) -> None:
        """Read one server into ``found`` (by kind of reading: ``timeline``, ``thread``)."""
        key = budget_key(base)
        rate = getattr(platform, "rate_state", None)
        spend = self.pacer.caller(key, self.now, self.sleep, lambda: _count(part), rate)
        source = MastodonSource(platform)
        name = cursor_name(base)
        with session_scope(self.engine) as session:
            state = load_cursor(session, self.event_id, "mastodon", name)
            questions = {ref.uri for ref in question_refs(session, self.event_id, "mastodon")}
        held: dict[str, str] = dict(state.get("questions") or {})  # question URI -> id there
        start, end = window

        def keep(kind: str, posts: Iterable[NormalisedPost]) -> None:
            found.setdefault((base, kind), []).extend(
                p for p in posts if p.created_at is None or start <= p.created_at < end
            )

        count = part.reading(base, "timeline")
        for posts, new_state in source.scan(tag, window, state, spend, self.now()):
            keep("timeline", posts)
            held.update({p.uri: p.id for p in posts if p.uri in questions})
            new_state = {**new_state, "questions": held}
            with session_scope(self.engine) as session:
                save_cursor(session, self.event_id, "mastodon", name, new_state, self.now())
            part.pages += 1
            count.pages += 1
            count.feed = new_state.get("feed") or "open"
            count.feed = feed_closed(platform) or count.feed  # a switched-off feed is []
            if new_state.get("feed"):
                part.notes.append(f"{base}: hashtag timeline: {new_state['feed']}")
        if sweep:
            found_now = {p.uri for posts in found.values() for p in posts}
            self._conversations(
                source, tag, window, held, spend, keep, part.reading, base, found_now
            )
            self._tag_counts(platform, tag, spend, part.reading(base, "timeline"), part)

    def _tag_counts(
        self, platform: Platform, tag: str, spend: Call, count: SourceCount, part: NetworkReport
    ) -> None:
        """The server's own daily counts of the tag (a public endpoint), on sweeps."""
        read = getattr(platform, "tag_history", None)
        if read is None:
            return
        try:
            count.tag_history = list(spend(partial(read, tag)) or [])
        except (OutOfBudget, RateLimitedError):
            raise
        except PlatformError as error:
            part.notes.append(f"the server's tag counts: {error}")

    def _sighted(self, found: Found) -> None:
        """Record which server and reading found each stored post (read or brought home)."""
        if not found:
            return
        with session_scope(self.engine) as session:
            for (base, kind), posts in found.items():
                uris = [p.uri for p in posts if p.uri and not p.deleted]
                record_sightings(
                    session.connection(), "mastodon", uris, FoundBy(kind, base), now=self.now()
                )

    def _conversations(
        self,
        source: MastodonSource,
        tag: str,
        window: tuple[datetime, datetime],
        held: dict[str, str],
        spend: Call,
        keep: Callable[[str, Iterable[NormalisedPost]], None],
        reading: Callable[[str, str], SourceCount],
        base: str,
        found_now: set[str],
    ) -> None:
        # The question posts' threads there, and the thread of every tagged post there
        # whose reply count (as that server knows it) is above the replies stored: the
        # replies without the tag that never reached the bot's server.
        reading(base, "thread")
        for uri, status_id in held.items():
            try:
                keep("thread", source.thread(RemoteRef("mastodon", status_id, uri), spend).replies)
            except NotFoundError:
                continue
        reading(base, "check")
        walked = source.check(tag, window, [], spend).alive
        with session_scope(self.engine) as session:
            known = _stored_uris(session.connection(), [p.uri for p in walked]) | found_now
        keep("check", [p for p in walked if p.uri not in known])  # what nothing else found
        talked = [post for post in walked if reply_count(post) > 0 and post.uri not in held]
        if talked:
            with session_scope(self.engine) as session:
                stored = child_counts(
                    session.connection(), self.event_id, "mastodon", [p.uri for p in talked]
                )
            reading(base, "thread")
            for post in talked:
                if reply_count(post) > stored.get(post.uri, 0):
                    keep("thread", source.replies(post, spend).replies)

    def _bring_home(self, base: str, found: Iterable[NormalisedPost], part: NetworkReport) -> None:
        # Posts not stored yet, by ActivityPub id: fetched through the bot's own server so
        # they carry its ids; else kept as this server gave them (ids marked).
        wanted: dict[str, NormalisedPost] = {}
        for post in found:
            if post.uri and not post.deleted:
                wanted.setdefault(post.uri, post)
        if not wanted:
            return
        with session_scope(self.engine) as session:
            stored = _stored_uris(session.connection(), list(wanted))
        missing = [post for uri, post in wanted.items() if uri not in stored]
        if not missing:
            return
        resolve = getattr(self.home, "resolve", None)
        home_rate = getattr(self.home, "rate_state", None)
        spend = self.pacer.caller("mastodon", self.now, self.sleep, lambda: _count(part), home_rate)
        kept: list[NormalisedPost] = []
        for index, post in enumerate(missing):
            home_copy = None
            if callable(resolve) and index < MAX_RESOLVES:
                try:
                    home_copy = spend(partial(resolve, post.uri))
                except (NotFoundError, AuthError):
                    home_copy = None
                except (OutOfBudget, RateLimitedError):
                    resolve = None  # the bot's own budget comes first: keep the rest as seen
            if home_copy is not None and home_copy.uri == post.uri:
                kept.append(home_copy)
            else:
                kept.append(qualified(post, base))
        with session_scope(self.engine) as session:
            self.store(session.connection(), kept, part)


def _count(part: NetworkReport) -> None:
    part.requests += 1
    part.reading_now().requests += 1


def _stored_uris(connection: Connection, uris: list[str]) -> set[str]:
    found: set[str] = set()
    for index in range(0, len(uris), 500):
        query = select(POST.c.uri).where(
            POST.c.network == "mastodon", POST.c.uri.in_(uris[index : index + 500])
        )
        found.update(row.uri for row in connection.execute(query))
    return found


def anonymous_reader(clock: Callable[[], datetime] | None = None) -> Callable[[str], Platform]:
    """A factory of anonymous readers of other servers (no account, public endpoints only)."""

    def connect(base: str) -> Platform:
        return MastodonPlatform(base, None, clock=clock)

    return connect


__all__ = [
    "FEED_CLOSED",
    "Peers",
    "anonymous_reader",
    "budget_key",
    "cursor_name",
    "is_qualified",
    "qualified",
]
