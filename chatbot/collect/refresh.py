"""``chatbot collect EVENT --refresh-counts``: every stored post's counts read again, once.

During a chat the counts come with each sighting of a post (search pages,
threads, the checks): a post last seen minutes after it was written keeps
the counts it had then, and likes keep coming for a day or two. So after the
chat one pass reads every stored post of the event again in batches, the
cheapest reads each network has: Bluesky's ``app.bsky.feed.getPosts``
(25 posts a request) and Mastodon 4.3+'s ``GET /api/v1/statuses?id[]=``
(40 a request; one status a request on servers without it), within the
collector's request budgets (:class:`~chatbot.collect.pacing.Pacer`): when a
budget is spent the pass waits for it instead of stopping, so one run
finishes the job.

Only counts are written (and ``counts_at``, when they were read); edits and
deletions are the collector's business. A post the network no longer shows
is counted as not found and left as it is.

A Mastodon post made on another server is read from that server
(:mod:`chatbot.collect.origincounts`): likes given anywhere arrive there,
while the bot's server knows only those given on it. What the home server
does not answer is read at the bot's server; a post the bot's server never
fetched (stored with another server's id, ``id@host``) that its home server
does not answer either is skipped and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, Engine, bindparam, select

from chatbot.collect.instances import is_qualified
from chatbot.collect.origincounts import home_servers, read_at_home_servers
from chatbot.collect.pacing import Pacer, waiting_out
from chatbot.collect.sources import source_for
from chatbot.db import session_scope
from chatbot.models import Post, table_of
from chatbot.platforms.base import NormalisedPost, Platform, RemoteRef
from chatbot.text.engagement import COUNT_FIELDS, Engagement, engagement_of

POST = table_of(Post)

__all__ = ["RefreshReport", "refresh_counts", "store_counts"]


@dataclass
class RefreshReport:
    """What one network's refresh did."""

    network: str
    posts: int = 0  # stored posts of the event, not deleted
    read: int = 0  # answered with counts
    moved: int = 0  # whose counts changed
    not_found: int = 0  # the network no longer shows them
    skipped: int = 0  # cannot be read by id (another Mastodon server's copy)
    at_home: int = 0  # read from the other servers they were made on (Mastodon)
    home_servers: int = 0  # other servers that answered for their posts
    requests: int = 0
    waited: float = 0.0  # seconds spent waiting for the budget

    def add_wait(self, seconds: float) -> None:
        self.waited += seconds

    def line(self) -> str:
        parts = [f"{self.read} of {self.posts} posts read", f"{self.moved} with new counts"]
        if self.not_found:
            parts.append(f"{self.not_found} not found (deleted or hidden from the bot)")
        if self.at_home:
            servers = f"{self.home_servers} server" + ("" if self.home_servers == 1 else "s")
            parts.append(f"{self.at_home} of them from the servers they were made on ({servers})")
        if self.skipped:
            parts.append(f"{self.skipped} held only by another server, not read")
        parts.append(f"{self.requests} request" + ("" if self.requests == 1 else "s"))
        return f"{self.network}: " + ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "network": self.network,
            "posts": self.posts,
            "read": self.read,
            "moved": self.moved,
            "not_found": self.not_found,
            "skipped": self.skipped,
            "at_home": self.at_home,
            "home_servers": self.home_servers,
            "requests": self.requests,
        }


def _stored_refs(engine: Engine, event_id: int, network: str) -> list[RemoteRef]:
    with session_scope(engine) as session:
        rows = session.connection().execute(
            select(POST.c.remote_id, POST.c.uri)
            .where(
                POST.c.event_id == event_id,
                POST.c.network == network,
                POST.c.deleted_at.is_(None),
            )
            .order_by(POST.c.id)
        )
        return [RemoteRef(network, row.remote_id, row.uri) for row in rows]


def store_counts(
    connection: Connection, network: str, copies: Iterable[NormalisedPost], now: datetime
) -> int:
    """Write the counts of fresh ``copies`` (and ``counts_at``); how many posts' counts moved.

    A count a copy does not give keeps the stored one.
    """
    fresh = {post.uri: engagement_of(network, post.raw) for post in copies}
    fresh = {uri: counts for uri, counts in fresh.items() if counts.known}
    if not fresh:
        return 0
    stored = {
        row.uri: Engagement(row.like_count, row.repost_count, row.quote_count, row.reply_count)
        for row in connection.execute(
            select(POST.c.uri, *(POST.c[name] for name in COUNT_FIELDS)).where(
                POST.c.network == network, POST.c.uri.in_(list(fresh))
            )
        )
    }
    moved = 0
    changes = []
    for uri, counts in fresh.items():
        if uri not in stored:
            continue
        old = stored[uri]
        merged = Engagement(
            *(new if new is not None else was for new, was in zip(counts, old, strict=True))
        )
        moved += merged != old
        changes.append({"u": uri, "at": now, **merged.columns()})
    if changes:
        connection.execute(
            POST.update()
            .where(POST.c.network == network, POST.c.uri == bindparam("u"))
            .values(counts_at=bindparam("at"), **{n: bindparam(n) for n in COUNT_FIELDS}),
            changes,
        )
    return moved


def refresh_counts(
    engine: Engine,
    event_id: int,
    platforms: Mapping[str, Platform] | Iterable[Platform],
    *,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    pacer: Pacer | None = None,
    on_progress: Callable[[RefreshReport], None] | None = None,
    home_reader: Callable[[str], Platform] | None = None,
) -> list[RefreshReport]:
    """Read every stored post of the event again on each network and store its counts.

    ``home_reader`` (a reader of another Mastodon server by its base URL, without an
    account) reads the posts made on other servers there; without it, every post is
    read at the bot's server.
    """
    pacer = pacer or Pacer()
    items = platforms.values() if isinstance(platforms, Mapping) else platforms
    reports = []
    for platform in items:
        report = RefreshReport(platform.network)
        refs = _stored_refs(engine, event_id, platform.network)
        report.posts = len(refs)
        if platform.network == "mastodon":
            if home_reader is not None:
                done = _read_at_homes(
                    engine, platform, refs, home_reader, report, pacer, now, sleep
                )
                refs = [ref for ref in refs if ref.uri not in done]
            readable = [ref for ref in refs if not is_qualified(ref.id)]
            report.skipped = len(refs) - len(readable)
            refs = readable
        _refresh_network(engine, platform, refs, report, pacer, now, sleep, on_progress)
        reports.append(report)
    return reports


def _read_at_homes(
    engine: Engine,
    platform: Platform,
    refs: Sequence[RemoteRef],
    home_reader: Callable[[str], Platform],
    report: RefreshReport,
    pacer: Pacer,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> set[str]:
    """Read the posts made on other servers there; the URIs answered."""

    def store(found: list[NormalisedPost]) -> int:
        with session_scope(engine) as session:
            return store_counts(session.connection(), "mastodon", found, now())

    homes = home_servers(refs, str(getattr(platform, "url", "")))
    reading = read_at_home_servers(homes, home_reader, store, pacer, now, sleep)
    report.read += len(reading.read)
    report.moved += reading.moved
    report.requests += reading.requests
    report.waited += reading.waited
    report.at_home, report.home_servers = len(reading.read), reading.servers
    return reading.read


def _refresh_network(
    engine: Engine,
    platform: Platform,
    refs: Sequence[RemoteRef],
    report: RefreshReport,
    pacer: Pacer,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    on_progress: Callable[[RefreshReport], None] | None,
) -> None:
    source = source_for(platform)
    network = platform.network

    def counted() -> None:
        report.requests += 1

    server = getattr(source, "rate_state", None)
    spend = pacer.caller(network, now, sleep, counted, server)
    start = 0
    while start < len(refs):
        # One request's worth at a time, each written in its own transaction: a spent
        # budget costs no read twice, and an interrupted run keeps what it did.
        chunk = refs[start : start + source.batch]
        found = waiting_out(
            partial(source.copies, chunk, spend), pacer, network, now, sleep, report.add_wait
        )
        with session_scope(engine) as session:
            report.moved += store_counts(session.connection(), network, found.values(), now())
        report.read += len(found)
        report.not_found += len(chunk) - len(found)
        start += len(chunk)
        if on_progress is not None:
            on_progress(report)
