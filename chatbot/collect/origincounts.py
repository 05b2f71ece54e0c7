"""Counts of Mastodon posts from their home servers, where every server's likes arrive.

A favourite or a boost given on any server is delivered to the server the
post lives on; the bot's server hears of those given on it and little else,
so its copy of another server's post shows a fraction of the post's likes
(often none). ``--refresh-counts`` therefore reads each post made on another
server from that server, without an account (public posts only), in the
same batches as the bot's own reads; what a home server does not answer
(closed to readers without an account, a software with other ids, down) is
read at the bot's server as before.

The post's id on its home server is the last part of its ActivityPub id
(``https://host/users/name/statuses/ID`` on Mastodon and GoToSocial), or the
id a post stored as that server gave it carries (``ID@host``). Either is
only a guess until the server answers: a status is taken only when the
ActivityPub id it comes back with is the stored one, so a wrong guess reads
nothing. Until a server has answered, it is asked for one post at a time:
one that gives none of its first three back is not asked again in that run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from chatbot.collect.instances import base_of
from chatbot.collect.pacing import Pacer, waiting_out
from chatbot.collect.peers import budget_key
from chatbot.collect.sources import MastodonSource
from chatbot.errors import PlatformError
from chatbot.platforms.base import NormalisedPost, Platform, RemoteRef

log = logging.getLogger(__name__)

PROBES = 3  # single reads a home server gets to give a post back before it is passed over
Store = Callable[[list[NormalisedPost]], int]  # stores fresh copies' counts; how many moved


@dataclass
class HomeReading:
    """What reading the home servers did."""

    read: set[str] = field(default_factory=set)  # URIs answered with counts
    servers: int = 0  # home servers that answered
    requests: int = 0
    moved: int = 0
    waited: float = 0.0


def home_servers(refs: Sequence[RemoteRef], own_base: str) -> dict[str, list[RemoteRef]]:
    """Which of ``refs`` (ids of the bot's server, or ``ID@host``) live on another server,
    by its base URL, as refs with the id a read there takes. Pure."""
    own = base_of(own_base) or own_base.rstrip("/")
    found: dict[str, list[RemoteRef]] = {}
    for ref in refs:
        base = base_of(ref.uri)
        if base is None or base == own:
            continue
        home_id = home_id_of(ref, base)
        if home_id:
            found.setdefault(base, []).append(RemoteRef(ref.network, home_id, ref.uri))
    return found


def home_id_of(ref: RemoteRef, base: str) -> str | None:
    """The id of ``ref``'s post on its home server ``base``, as far as it can be told."""
    status_id, at, host = ref.id.rpartition("@")
    if at and status_id and base.split("://", 1)[-1] == host.lower():
        return status_id  # stored as its home server gave it
    path = ref.uri.split("://", 1)[-1].partition("/")[2].split("?", 1)[0].split("#", 1)[0]
    head, _, last = path.rstrip("/").rpartition("/")
    if head.endswith("statuses") and last.isascii() and last.isalnum():
        return last
    return None


def read_at_home_servers(
    homes: dict[str, list[RemoteRef]],
    connect: Callable[[str], Platform],
    store: Store,
    pacer: Pacer,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> HomeReading:
    """Read every post of ``homes`` from its home server; ``store`` keeps the counts."""
    reading = HomeReading()
    for base, refs in sorted(homes.items()):
        try:
            if _read_server(base, refs, connect(base), store, pacer, now, sleep, reading):
                reading.servers += 1
        except PlatformError as error:  # closed to anonymous readers, down, refusing
            log.info("refresh counts at %s: not read (%s)", base, error)
    return reading


def _read_server(
    base: str,
    refs: Sequence[RemoteRef],
    platform: Platform,
    store: Store,
    pacer: Pacer,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    reading: HomeReading,
) -> bool:
    """Read one home server's posts; False when its first answers gave none of them back."""
    source = MastodonSource(platform)
    key = budget_key(base)

    def counted() -> None:
        reading.requests += 1

    def wait(seconds: float) -> None:
        reading.waited += seconds

    spend = pacer.caller(key, now, sleep, counted, getattr(platform, "rate_state", None))
    start, answered, misses = 0, False, 0
    while start < len(refs):
        chunk = refs[start : start + (source.batch if answered else 1)]
        # A rate limit there rests that server's budget, not the bot's own server's.
        got = waiting_out(partial(source.copies, chunk, spend), pacer, key, now, sleep, wait)
        # Only the status asked for: a wrong guess of its id there reads another one.
        fresh = [post for uri, post in got.items() if post.uri == uri]
        if fresh:
            answered = True
            reading.moved += store(fresh)
            reading.read.update(post.uri for post in fresh)
        elif not answered:
            misses += 1
            if misses >= PROBES:
                return False
        start += len(chunk)
    return answered


__all__ = ["HomeReading", "home_id_of", "home_servers", "read_at_home_servers"]
