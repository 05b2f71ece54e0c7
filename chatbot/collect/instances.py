"""Which Mastodon-API servers to read for a chat, besides the bot's own (pure: no I/O).

A chat on Mastodon is spread over the fediverse: each participant posts on
their home server, and the bot's server sees only what federates to it. So
the collector also reads the public tag timeline of every server a
participant posts from (the origins of the posts collected so far), of every
server whose accounts the chat's posts mention, and of every server the
question file lists. A server is named by its base URL (scheme and host,
with a port when it has one): the part of a status's ActivityPub id before
the path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["MAX_PEERS", "base_of", "host_of_account", "is_qualified", "peers_to_read"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_PEERS = 20  # servers read besides the bot's own, the busiest first


def base_of(address: str) -> str | None:
    """The base URL of the server an http(s) address is on, lower case; None otherwise."""
    try:
        parts = urlsplit(address.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if port == _DEFAULT_PORTS[parts.scheme]:
        port = None  # https://host:443 is https://host
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def host_of_account(handle: str) -> str | None:
    """The server part of ``user@server`` (or ``@user@server``), lower case; None if local."""
    name = handle.strip().lstrip("@")
    at = name.find("@")
    if at <= 0 or at == len(name) - 1:
        return None
    host = name[at + 1 :].lower()
    return host if "." in host or ":" in host or host == "localhost" else None


def is_qualified(remote_id: str) -> bool:
    """Whether a stored Mastodon id is another server's, marked ``id@host`` by the collector
    (collect.peers) so it is never taken for an id of the bot's own server."""
    return "@" in remote_id


def _host(base: str) -> str:
    return base.split("://", 1)[1]


def peers_to_read(
    home: str,
    origins: Iterable[str],
    mentioned_hosts: Iterable[str] = (),
    listed: Iterable[str] = (),
    *,
    limit: int = MAX_PEERS,
) -> list[str]:
    """The base URLs of the servers to read besides ``home``, at most ``limit`` of them.

    ``origins``: base URLs of the collected posts' origins, one per post (so the
    busiest come first); ``mentioned_hosts``: servers named in mentions, whose
    scheme is taken from an origin on that host, else https; ``listed``: base
    URLs (or hosts) the question file names, always read first.
    """
    home_base = base_of(home) or home.rstrip("/").lower()
    chosen: dict[str, None] = {}
    by_host: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for origin in origins:
        base = base_of(origin)
        if base is not None:
            counts[base] += 1
            by_host.setdefault(_host(base), base)
    for entry in listed:
        base = base_of(entry) if "://" in entry else base_of(f"https://{entry.strip('/')}")
        if base is not None:
            chosen.setdefault(base, None)
    for base, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        chosen.setdefault(base, None)
    for host in sorted(set(mentioned_hosts)):
        base = by_host.get(host) or base_of(f"https://{host}")
        if base is not None:
            chosen.setdefault(base, None)
    chosen.pop(home_base, None)
    return list(chosen)[: max(limit, 0)]
