"""The coverage report of an event: where each post was found, what each source did, what
no source can see. Read from ``post_sighting`` and ``source_tally``; nothing is fetched.

Figures per network, server (base URL) and source: posts found, posts no
other source found, pages, requests, errors and how the hashtag feed stood
(open, no posts yet, closed); for Mastodon servers the server's own daily
counts of the tag beside what was collected from it. ``docs/collection.md``
says what each figure means.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, func, or_, select

from chatbot.db import session_scope
from chatbot.errors import UsageError
from chatbot.models import Event, Post, PostSighting, SourceTally, hashtag_key, table_of

POST = table_of(Post)
SIGHTING = table_of(PostSighting)
TALLY = table_of(SourceTally)
SHOWN = 10  # addresses of not-public posts named before "and N more"

# What no source of the network can show, whatever the bot does (docs/collection.md).
UNSEEN = {
    "bluesky": (
        "Bluesky: posts from accounts that block the bot's account or that its moderation "
        "lists hide, and posts search dropped (it is capped and lags) that no thread or "
        "stream carried.",
    ),
    "mastodon": (
        "Mastodon: followers-only and direct posts; posts that never federated to a server "
        "the bot reads; unlisted posts outside the threads it reads (the tag timeline never "
        "shows them).",
    ),
}


@dataclass(frozen=True)
class SourceRow:
    """One source on one server: what it found and what it cost."""

    network: str
    instance: str  # base URL of the server that answered (or "file:NAME" for an import)
    source: str  # timeline, search, thread, stream, check, account, import, profiles
    posts: int = 0  # the event's posts this source returned
    only: int = 0  # of those, posts no other source (or server) returned
    pages: int = 0
    requests: int = 0
    errors: int = 0
    last_error: str = ""
    feed: str = ""  # the hashtag feed: "open", "no posts yet ...", "closed: why"

    @property
    def closed(self) -> bool:
        return self.feed.startswith("closed")


@dataclass(frozen=True)
class TagDay:
    """One UTC day: the server's own count of the tag beside what was collected from it."""

    day: str  # YYYY-MM-DD
    server_uses: int
    server_accounts: int
    collected: int  # public posts with the tag, made that day, found on this server
    collected_accounts: int


@dataclass(frozen=True)
class ServerDays:
    network: str
    instance: str
    days: tuple[TagDay, ...]


@dataclass(frozen=True)
class CoverageReport:
    """The coverage of one event (see the module's docstring)."""

    event_id: int
    hashtag: str
    posts: int  # the event's stored posts, deleted and not-public ones included
    unknown: int  # posts with no recorded source (stored before sources were recorded)
    not_public: int  # live posts that are unlisted, followers-only or direct: never published
    not_public_urls: tuple[str, ...] = ()
    sources: tuple[SourceRow, ...] = ()
    tag_days: tuple[ServerDays, ...] = ()
    unseen: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["sources"] = [asdict(row) | {"closed": row.closed} for row in self.sources]
        found["not_public_urls"] = list(self.not_public_urls)
        found["unseen"] = list(self.unseen)
        return found

    def lines(self) -> list[str]:
        """The report as text, one line a source."""
        lines = [f"Coverage of #{self.hashtag}: {self.posts} posts stored"]
        width = max((len(r.instance) for r in self.sources), default=0)
        for row in self.sources:
            what = [f"{row.posts} posts ({row.only} found by nothing else)"]
            if row.pages:
                what.append(f"{row.pages} pages")
            what.append(f"{row.requests} requests")
            if row.errors:
                what.append(f"{row.errors} errors (last: {row.last_error})")
            if row.feed and row.feed != "open":
                what.append(f"feed {row.feed}")
            name = f"{row.network} {row.instance:<{width}} {row.source:<8}"
            lines.append(f"  {name} " + ", ".join(what))
        if self.unknown:
            lines.append(
                f"  {self.unknown} posts have no recorded source (stored before sources were "
                "recorded, or only looked up by their address)"
            )
        for server in self.tag_days:
            days = "; ".join(
                f"{d.day}: {d.server_uses} by {d.server_accounts} accounts, "
                f"collected {d.collected} by {d.collected_accounts}"
                for d in server.days
                if d.server_uses or d.collected
            )
            lines.append(
                f"  {server.network} {server.instance}: the server's own count of "
                f"#{self.hashtag} per day (UTC): {days or 'none in its last 7 days'}"
            )
        if self.not_public:
            shown = ", ".join(self.not_public_urls[:SHOWN])
            more = self.not_public - min(len(self.not_public_urls), SHOWN)
            lines.append(
                f"  {self.not_public} posts seen are not public (unlisted, followers-only or "
                f"direct): counted here, never published: {shown}"
                + (f" and {more} more" if more > 0 else "")
            )
        lines += [f"  Cannot be seen: {text}" for text in self.unseen]
        return lines


def coverage_report(connection: Connection, event: Event) -> CoverageReport:
    """The coverage report of ``event`` from what the collector recorded."""
    assert event.id is not None
    event_id = event.id
    posts = connection.execute(
        select(func.count()).select_from(POST).where(POST.c.event_id == event_id)
    ).scalar_one()
    sighted, with_source = _sighted(connection, event_id)
    tallies = _tallies(connection, event_id)
    keys = sorted(set(sighted) | set(tallies))
    rows = []
    for network, instance, source in keys:
        found, only = sighted.get((network, instance, source), (0, 0))
        tally = tallies.get((network, instance, source), {})
        rows.append(SourceRow(network, instance, source, found, only, **tally))
    hidden = and_(
        POST.c.event_id == event_id,
        POST.c.deleted_at.is_(None),
        POST.c.visibility.is_not(None),
        POST.c.visibility != "public",
    )
    urls = [
        row.url or row.uri
        for row in connection.execute(
            select(POST.c.url, POST.c.uri).where(hidden).order_by(POST.c.created_at).limit(SHOWN)
        )
    ]
    not_public = connection.execute(select(func.count()).select_from(POST).where(hidden))
    networks = sorted({*(event.networks or ()), *(r.network for r in rows if r.network)})
    return CoverageReport(
        event_id=event_id,
        hashtag=event.hashtag,
        posts=int(posts),
        unknown=int(posts) - int(with_source),
        not_public=int(not_public.scalar_one()),
        not_public_urls=tuple(urls),
        sources=tuple(rows),
        tag_days=_tag_days(connection, event, tallies_history(connection, event_id)),
        unseen=tuple(text for network in networks for text in UNSEEN.get(network, ())),
    )


def event_coverage(engine: Engine, event_id: int) -> CoverageReport:
    """:func:`coverage_report` of the event with this id, in a transaction of its own."""
    with session_scope(engine) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise UsageError(f"event {event_id} is not in the database")
        return coverage_report(session.connection(), event)


def _sighted(
    connection: Connection, event_id: int
) -> tuple[dict[tuple[str, str, str], tuple[int, int]], int]:
    """(network, instance, source) -> (posts found, posts found by nothing else), and how
    many posts have any source.

    Scans of the event's sightings that never read a post's own row (the event's index
    gives its posts' ids; the sightings are keyed by post, so "no other source" is a
    probe of the same key), and one look-up of a post per group for its network.
    """
    mine = POST.c.event_id == event_id
    joined = POST.join(SIGHTING, SIGHTING.c.post_id == POST.c.id)
    keys = (SIGHTING.c.instance, SIGHTING.c.source)
    totals = connection.execute(
        select(*keys, func.count(), func.min(SIGHTING.c.post_id))
        .select_from(joined)
        .where(mine)
        .group_by(*keys)
    ).all()
    # A post only one source found has no sighting by another source or server.
    other = SIGHTING.alias("other")
    alone = ~exists().where(
        other.c.post_id == SIGHTING.c.post_id,
        or_(other.c.source != SIGHTING.c.source, other.c.instance != SIGHTING.c.instance),
    )
    only = {
        (instance, source): int(count)
        for instance, source, count in connection.execute(
            select(*keys, func.count()).select_from(joined).where(mine, alone).group_by(*keys)
        )
    }
    any_source = exists().where(SIGHTING.c.post_id == POST.c.id)
    with_source = connection.execute(
        select(func.count()).select_from(POST).where(mine, any_source)
    ).scalar_one()
    ids = [row[3] for row in totals]
    networks = dict(
        connection.execute(select(POST.c.id, POST.c.network).where(POST.c.id.in_(ids))).all()
    )
    found = {
        (networks.get(first, ""), instance, source): (int(count), only.get((instance, source), 0))
        for instance, source, count, first in totals
    }
    return found, int(with_source)


def _tallies(connection: Connection, event_id: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    found = {}
    for row in connection.execute(select(TALLY).where(TALLY.c.event_id == event_id)):
        found[(row.network, row.instance, row.source)] = {
            "pages": row.pages,
            "requests": row.requests,
            "errors": row.errors,
            "last_error": row.last_error or "",
            "feed": row.feed or "",
        }
    return found


def tallies_history(
    connection: Connection, event_id: int
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(network, instance) -> the server's daily tag counts, where it gave them."""
    query = select(TALLY.c.network, TALLY.c.instance, TALLY.c.tag_history).where(
        TALLY.c.event_id == event_id, TALLY.c.tag_history.is_not(None)
    )
    return {(n, i): list(h) for n, i, h in connection.execute(query) if isinstance(h, list)}


def _tag_days(
    connection: Connection,
    event: Event,
    history: Mapping[tuple[str, str], list[dict[str, Any]]],
) -> tuple[ServerDays, ...]:
    if not history:
        return ()
    wanted = hashtag_key(event.hashtag)
    posts = connection.execute(
        select(POST.c.id, POST.c.author_id, POST.c.created_at, POST.c.tags, SIGHTING.c.instance)
        .select_from(POST.join(SIGHTING, SIGHTING.c.post_id == POST.c.id))
        .where(
            POST.c.event_id == event.id,
            SIGHTING.c.instance.in_(sorted({instance for _, instance in history})),
            or_(POST.c.visibility.is_(None), POST.c.visibility == "public"),
        )
        .distinct()
    )
    collected: dict[tuple[str, str], set[int]] = defaultdict(set)  # (instance, day) -> posts
    accounts: dict[tuple[str, str], set[str]] = defaultdict(set)
    for post_id, author, created, tags, instance in posts:
        if wanted not in {str(t).lower() for t in tags or ()}:
            continue
        key = (instance, created.astimezone(UTC).date().isoformat())
        collected[key].add(post_id)
        accounts[key].add(author)
    servers = []
    for (network, instance), days in sorted(history.items()):
        rows = tuple(
            TagDay(
                str(d.get("day")),
                int(d.get("uses") or 0),
                int(d.get("accounts") or 0),
                len(collected.get((instance, str(d.get("day"))), ())),
                len(accounts.get((instance, str(d.get("day"))), ())),
            )
            for d in days
            if isinstance(d, dict)
        )
        servers.append(ServerDays(network, instance, rows))
    return tuple(servers)


__all__ = [
    "UNSEEN",
    "CoverageReport",
    "ServerDays",
    "SourceRow",
    "TagDay",
    "coverage_report",
    "event_coverage",
]
