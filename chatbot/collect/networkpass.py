"""One pass of the collector over one network: threads, their expansion, the check of known posts.

A pass remembers what it has seen (so no thread is read twice in one pass)
and spends requests through one budget; the collector makes one per network
per step, handing it a :class:`PassContext` (what it may use of the
collector's state), and runs the hashtag scan itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine

from chatbot.collect.instances import base_of, is_qualified
from chatbot.collect.participants import upsert_participants
from chatbot.collect.queries import (
    authors,
    child_counts,
    conversation_roots,
    live_refs,
    load_cursor,
    save_cursor,
)
from chatbot.collect.report import NetworkReport
from chatbot.collect.sightings import FoundBy
from chatbot.collect.sources import Call, Source, reply_count
from chatbot.collect.store import mark_deleted
from chatbot.collect.threadfill import Ledger, Seen, complete
from chatbot.db import session_scope
from chatbot.errors import PlatformError, RateLimitedError
from chatbot.platforms.base import NormalisedPost, RemoteRef, Thread

# How long a stored post must have been known before a thread that can't find it
# counts as its deletion (index lag on a fresh post is well under this).
ANCHOR_DELETION_GRACE = timedelta(minutes=2)
# collection_cursor.source of what thread completion keeps between passes (Bluesky).
THREADS_SOURCE = "threads"
MAX_REFRESHES = 3  # times in a row a thread is read again for a server's refresh
# The kind of reading a network's hashtag scan is (post_sighting.source).
SCAN_KIND = {"bluesky": "search", "mastodon": "timeline"}


class Refreshes:
    """Threads to read again once their server has fetched what it was fetching.

    A Mastodon 4.4+ server answers the context of another server's post with
    what it holds and starts fetching the rest from its origin
    (``Mastodon-Async-Refresh``: read again after ``retry`` seconds). Each
    thread is read again at most ``MAX_REFRESHES`` times in a row; kept by the
    collector between passes (a restart reads every question thread anyway).
    """

    def __init__(self) -> None:
        self._due: dict[str, tuple[RemoteRef, datetime]] = {}
        self._times: dict[str, int] = {}

    def later(self, ref: RemoteRef, now: datetime, seconds: float) -> None:
        count = self._times.get(ref.uri, 0) + 1
        if count > MAX_REFRESHES:
            return
        self._times[ref.uri] = count
        self._due[ref.uri] = (ref, now + timedelta(seconds=seconds))

    def due(self, now: datetime) -> list[RemoteRef]:
        """The threads due again by ``now``, each taken off the list."""
        ready = [uri for uri, (_, when) in self._due.items() if when <= now]
        return [self._due.pop(uri)[0] for uri in ready]

    def __len__(self) -> int:
        return len(self._due)


@dataclass(frozen=True)
class PassContext:
    """What a pass needs from its collector: the database, the event, the time, the store."""

    engine: Engine
    event_id: int
    now: Callable[[], datetime]
    # Stores a batch of posts and their authors in the caller's transaction and counts
    # them; records the source that found them, but for those it was asked for by address.
    store: Callable[
        [Connection, Sequence[NormalisedPost], NetworkReport, FoundBy | None, Collection[str]],
        None,
    ]
    # Threads whose server is still fetching replies from elsewhere: read again once due.
    refreshes: Refreshes = field(default_factory=lambda: Refreshes())


class NetworkPass:
    """The state of one pass: the source, window, budget, report, and what was seen.

    ``instance`` is the base URL of the server the source reads: what the
    coverage report names as where each post was found.
    """

    def __init__(
        self,
        context: PassContext,
        source: Source,
        tag: str,
        window: tuple[datetime, datetime],
        spend: Call,
        part: NetworkReport,
        instance: str = "",
    ):
        self.context = context
        self.source = source
        self.network = source.network
        self.tag = tag
        self.window = window
        self.spend = spend
        self.part = part
        self.instance = instance or source.network
        self.seen: dict[str, NormalisedPost] = {}  # by URI: every post this pass met
        self.threaded: set[str] = set()  # URIs whose thread was read (or that were in one)
        # Where a thread comes back cut (Bluesky: depth, replies per level), the ledger
        # decides which posts to read again (collect.threadfill).
        self.fill: Ledger | None = None
        self._fill_state: dict[str, Any] = {}
        if getattr(source, "cuts_threads", False):
            with session_scope(context.engine) as session:
                state = load_cursor(session, context.event_id, self.network, THREADS_SOURCE)
            self.fill = Ledger.from_state(state)
            self._fill_state = self.fill.state()  # written again only when it changes

    def saw(self, posts: Iterable[NormalisedPost]) -> None:
        self.seen.update((post.uri, post) for post in posts)

    def seen_posts(self) -> list[NormalisedPost]:
        return list(self.seen.values())

    def _in_window(self, posts: Iterable[NormalisedPost]) -> list[NormalisedPost]:
        start, end = self.window
        return [p for p in posts if p.created_at is None or start <= p.created_at < end]

    def _reading(self, source: str) -> None:
        """Count the requests and errors from now on for ``source`` (a kind of reading)."""
        self.part.reading(self.instance, source)

    def _store(
        self, posts: Sequence[NormalisedPost], source: str, named: Collection[str] = ()
    ) -> None:
        found_by = FoundBy(source, self.instance)
        with session_scope(self.context.engine) as session:
            self.context.store(session.connection(), posts, self.part, found_by, named)

    def gone(self, uris: Iterable[str], *, seen_before: datetime | None = None) -> None:
        """Record posts the network says are deleted (only those stored before ``seen_before``)."""
        uris = [uri for uri in uris if uri]
        if uris:
            with session_scope(self.context.engine) as session:
                self.part.deleted += mark_deleted(
                    session.connection(),
                    self.network,
                    uris,
                    now=self.context.now(),
                    seen_before=seen_before,
                )

    def thread(self, ref: RemoteRef, *, question: bool = False) -> Thread:
        """Read and store the whole thread under ``ref`` (a question, or a post with replies).

        A question's own post counts as found by its thread (the bot knows it from its
        outbox, not from any reading); any other post was found before its thread was read.
        """
        self._reading("thread")
        return self._keep(ref, self.source.thread(ref, self.spend), anchor_found=question)

    def replies(self, posts: Sequence[NormalisedPost]) -> None:
        """Read the context of each post whatever its reply count says (where the tag
        timeline leaves tagged replies out, a context is the only way to them)."""
        read = getattr(self.source, "replies", None)
        self._reading("thread")
        for post in posts:
            if post.uri in self.threaded:
                continue
            if read is None:
                self.thread(post.ref())
            else:
                self._keep(post.ref(), read(post, self.spend))

    def _keep(self, ref: RemoteRef, thread: Thread, *, anchor_found: bool = False) -> Thread:
        self.part.threads += 1
        self.threaded.add(ref.uri)
        posts = [p for p in [thread.anchor, *thread.replies] if p is not None]
        # The thread's own post was asked for by its address: the thread found the rest.
        named = () if anchor_found else {ref.uri}
        self._store(self._in_window(posts), "thread", named=named)
        for post in posts:
            self.seen[post.uri] = post
            self.threaded.add(post.uri)
        if self.fill is not None:
            if thread.anchor is not None:
                self.fill.stored[ref.uri] = self._stored_children([ref.uri]).get(ref.uri, 0)
            self.fill.record_read(ref.uri, _seen(posts) if thread.anchor else None)
        # Bluesky lists notFoundPost URIs; Mastodon only says the anchor is gone.
        if thread.retry_after is not None and thread.anchor is not None:
            # The server is fetching more replies from other servers: read it again then.
            self.context.refreshes.later(ref, self.context.now(), thread.retry_after)
        self.gone([m for m in thread.missing if "://" in m])
        if thread.anchor is None:
            # An AppView answers NotFound for a post it has not indexed yet: only a post
            # we stored a while ago is taken as deleted here (the sweep confirms the rest).
            self.gone([ref.uri], seen_before=self.context.now() - ANCHOR_DELETION_GRACE)
        return thread

    def expand(self, posts: Sequence[NormalisedPost]) -> None:
        """Read the threads of posts the network says have replies we don't hold."""
        if self.fill is not None:
            self._complete(posts)
            return
        wanted = {p.uri: p for p in posts if reply_count(p) > 0 and p.uri not in self.threaded}
        if not wanted:
            return
        with session_scope(self.context.engine) as session:
            known = child_counts(
                session.connection(), self.context.event_id, self.network, list(wanted)
            )
        read = getattr(self.source, "replies", None)  # the post is at hand: its context only
        for uri, post in wanted.items():
            if uri in self.threaded or reply_count(post) <= known.get(uri, 0):
                continue
            if read is None:
                self.thread(post.ref())
            else:
                self._reading("thread")
                self._keep(post.ref(), read(post, self.spend))

    def _complete(self, posts: Sequence[NormalisedPost]) -> None:
        """Read again, at each post, the threads that came back cut, until every count
        agrees or what is left cannot be seen (collect.threadfill); each read on the
        budget, so a spent budget ends the pass and the next pass goes on."""
        fill = self.fill
        assert fill is not None
        for post in posts:
            self.seen.setdefault(post.uri, post)
        uris = fill.observe_all(_seen(posts))

        def read(uri: str) -> list[str]:
            thread = self.thread(self.seen[uri].ref())  # recorded in the ledger by _keep
            return [p.uri for p in [thread.anchor, *thread.replies] if p is not None]

        try:
            complete(fill, uris, read, self._stored_children)
        finally:
            self.part.unseen_replies = fill.unseen()
            state = fill.state()
            if state != self._fill_state:
                with session_scope(self.context.engine) as session:
                    save_cursor(
                        session,
                        self.context.event_id,
                        self.network,
                        THREADS_SOURCE,
                        state,
                        self.context.now(),
                    )
                self._fill_state = state

    def _stored_children(self, uris: list[str]) -> dict[str, int]:
        """How many live replies to each of ``uris`` the database holds."""
        with session_scope(self.context.engine) as session:
            return child_counts(session.connection(), self.context.event_id, self.network, uris)

    def check(self) -> None:
        """Check every stored live post not seen in this pass: edits, deletions, new replies."""
        event_id = self.context.event_id
        with session_scope(self.context.engine) as session:
            stored = live_refs(session.connection(), event_id, self.network)
        known = [ref for ref in stored if ref.uri not in self.seen]
        if self.network == "mastodon":
            # Posts kept as another server gave them (collect.peers): not the bot's
            # server's ids, so never looked up there (they would seem deleted).
            known = [ref for ref in known if not is_qualified(ref.id)]
            # A context holds a whole conversation: one call instead of a lookup per reply.
            # Where 40 posts come in a request the lookups are cheaper, and the reply
            # counts they bring say which contexts hold anything new (``expand``) -- but
            # only for conversations begun on the bot's server: another server's post is
            # counted here with the replies this server happens to know, and reading its
            # context is what makes Mastodon 4.4+ fetch the rest from its origin.
            batched = getattr(self.source, "checks_in_batches", None)
            batches = batched is not None and batched(known, self.spend)
            with session_scope(self.context.engine) as session:
                roots = conversation_roots(session.connection(), event_id, self.network)
            for ref in roots:
                if ref.uri in self.threaded or is_qualified(ref.id):
                    continue
                if not batches or base_of(ref.uri) != base_of(self.instance):
                    self.thread(ref)
            known = [ref for ref in known if ref.uri not in self.seen]
        if getattr(self.source, "expands_every_answer", False):
            self.author_sweep()
            known = [ref for ref in known if ref.uri not in self.seen]
        self._reading("check")
        before = {ref.uri for ref in stored} | set(self.seen)
        result = self.source.check(self.tag, self.window, known, self.spend)
        self.part.checked += len(known) - result.unchecked
        # The check found only what a listing returned that nothing had found before it;
        # posts it looked up by address, or read again, are checked, not found.
        checked = {p.uri for p in result.alive if p.uri not in result.listed or p.uri in before}
        self._store(self._in_window(result.alive), "check", named=checked)
        for post in result.alive:
            self.seen.setdefault(post.uri, post)
        self.gone(result.gone)
        self.expand(result.alive)

    def author_sweep(self) -> None:
        """Read the event's authors' own timelines for tagged posts no timeline or context
        shows (a tagged reply under a deleted post, where the tag timeline omits replies);
        store them, fresh, and read the threads of those with replies not yet stored."""
        read = getattr(self.source, "author_posts", None)
        if read is None:
            return
        with session_scope(self.context.engine) as session:
            accounts = authors(
                session.connection(), self.context.event_id, self.network, unread=False
            )
        self._reading("account")
        posts = read(self.tag, self.window, accounts, self.spend)
        self._store(posts, "account")
        self.saw(posts)
        self.expand(posts)

    def tag_counts(self) -> None:
        """Read the server's own daily counts of the tag (Mastodon's GET /api/v1/tags/:name)
        into the report, beside what was collected; a server without them says nothing."""
        read = getattr(self.source.platform, "tag_history", None)
        if read is None:
            return
        count = self.part.reading(self.instance, SCAN_KIND.get(self.network, "timeline"))
        try:
            history = self.spend(partial(read, self.tag))
        except RateLimitedError:
            raise
        except PlatformError as error:  # not worth failing the pass: the posts are read
            self.part.notes.append(f"the server's tag counts: {error}")
            return
        count.tag_history = list(history or [])

    def profiles(self, *, everyone: bool) -> None:
        """Read full profiles where posts don't carry bios (Bluesky): new authors, or all."""
        fetch = getattr(self.source, "profiles", None)
        if fetch is None:
            return
        with session_scope(self.context.engine) as session:
            dids = authors(
                session.connection(), self.context.event_id, self.network, unread=not everyone
            )
        if not dids:
            return
        self._reading("profiles")
        profiles = fetch(dids, self.spend)
        with session_scope(self.context.engine) as session:
            self.part.participants += upsert_participants(
                session.connection(), profiles, now=self.context.now()
            )


def _seen(posts: Iterable[NormalisedPost]) -> list[Seen]:
    return [(post.uri, post.parent_uri, reply_count(post)) for post in posts]


__all__ = ["ANCHOR_DELETION_GRACE", "THREADS_SOURCE", "NetworkPass", "PassContext"]
