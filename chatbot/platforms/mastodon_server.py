"""Which Mastodon-API server the bot talks to, and what that changes (pure).

Servers that speak Mastodon's client API differ where a collector notices:
GoToSocial's ids are ULIDs compared as text, its tag timeline is a 404 until
the tag is used and leaves out replies to other accounts, it streams over
WebSocket only and advertises a ``wss://`` address even when served over
http. :func:`server_info` reads the software from ``/api/v1/instance`` and
NodeInfo; docs/collection.md says how the collector adapts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MASTODON = "mastodon"
GOTOSOCIAL = "gotosocial"
_LOOPBACK = ("localhost", "127.", "::1", "[::1]")


@dataclass(frozen=True)
class RateState:
    """The server's request budget after the last answer (its X-RateLimit-* headers)."""

    limit: int
    remaining: int
    reset_in: float | None  # seconds until the window resets (None: not said, or past)


@dataclass(frozen=True)
class ServerInfo:
    """What the bot knows of one server: software, version and where it streams."""

    software: str  # nodeinfo's software.name, lower case ("unknown" when nothing said)
    version: str
    streaming_url: str  # a ws:// or wss:// base this bot can reach ("" if none)
    advertised_ok: bool = True  # the server's own streaming address works as given

    @property
    def is_mastodon(self) -> bool:
        return self.software == MASTODON

    @property
    def tag_omits_replies(self) -> bool:
        """Replies to other accounts may be missing from the tag timeline (GoToSocial;
        assumed of any server not known to be Mastodon)."""
        return not self.is_mastodon

    @property
    def sse(self) -> bool:
        """Whether server-sent-event streams are worth trying (GoToSocial has none)."""
        return self.software != GOTOSOCIAL

    def describe(self) -> str:
        return f"{self.software} {self.version}".strip()


def closed_feed(access: Any, *, logged_in: bool) -> str | None:
    """Why a server's hashtag timeline shows a reader nothing, from its ``timelines_access``
    ``hashtag_feeds`` setting (Mastodon 4.5: ``{local, remote}``, each ``public``,
    ``authenticated`` or ``disabled``), or None when it is open. A part switched off is an
    empty list, not an error, so only this setting tells a closed feed from a quiet one.
    """
    if not isinstance(access, Mapping):
        return None  # a server that doesn't say: open as far as anyone can tell
    shut = [
        part
        for part in ("local", "remote")
        if access.get(part) == "disabled" or (access.get(part) == "authenticated" and not logged_in)
    ]
    if len(shut) == 2:
        return "switched off by the server (timelines_access: hashtag feeds)"
    if shut:
        return f"partly closed: {shut[0]} posts switched off by the server (timelines_access)"
    return None


def status_id_key(status_id: str) -> tuple[int, int, str]:
    """Order status ids as their server does, without knowing which server it is.

    Mastodon's ids are decimal numbers; GoToSocial's are ULIDs, compared as text.
    Numbers come in length order (no leading zeros), text in text order; one
    server never mixes the two, so the key only has to be right within each kind.
    """
    if status_id.isdigit():
        return (0, len(status_id.lstrip("0")), status_id.lstrip("0"))
    return (1, 0, status_id)  # as given: a server writes its ids in one case


def newest_id(ids: list[str]) -> str | None:
    return max(ids, key=status_id_key) if ids else None


def _software(instance: Mapping[str, Any], nodeinfo: Mapping[str, Any] | None) -> str:
    software = (nodeinfo or {}).get("software") or {}
    name = str(software.get("name") or "").strip().lower() if isinstance(software, dict) else ""
    if name:
        return name
    version = str(instance.get("version") or "").lower()
    source = str(instance.get("source_url") or "").lower()
    if GOTOSOCIAL in version or GOTOSOCIAL in source:
        return GOTOSOCIAL
    if "compatible;" in version:  # Pleroma, Akkoma: "2.7.2 (compatible; Akkoma 3.13)"
        return version.split("compatible;", 1)[1].strip(" )").split()[0] or "unknown"
    if "mastodon" in source or version[:1].isdigit():
        return MASTODON
    return "unknown"


def _version(instance: Mapping[str, Any], nodeinfo: Mapping[str, Any] | None) -> str:
    software = (nodeinfo or {}).get("software") or {}
    if isinstance(software, dict) and software.get("version"):
        return str(software["version"])
    return str(instance.get("version") or "")


def _advertised(instance: Mapping[str, Any]) -> str:
    urls = instance.get("urls") or {}
    if isinstance(urls, dict) and urls.get("streaming_api"):
        return str(urls["streaming_api"])
    configuration = instance.get("configuration") or {}
    nested = configuration.get("urls") if isinstance(configuration, dict) else None
    if isinstance(nested, dict) and nested.get("streaming"):
        return str(nested["streaming"])
    return ""


def _loopback(host: str) -> bool:
    return host.lower().startswith(_LOOPBACK)


def stream_url(base_url: str, advertised: str) -> str:
    """The WebSocket base to use: the advertised one, or one made from ``base_url``.

    The advertised address is kept when its scheme fits the server's (``wss``
    for https, ``ws`` for http). It is replaced by the base URL's own host when
    it has no host, a scheme that cannot work here (GoToSocial's ``wss://`` on
    an http server), or points at a loopback address while the server itself
    is elsewhere (or the other way round): a misconfigured proxy's answer.
    """
    base = urlsplit(base_url)
    wanted = "wss" if base.scheme == "https" else "ws"
    derived = f"{wanted}://{base.netloc}"
    if not advertised:
        return derived
    parts = urlsplit(advertised)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    host = parts.hostname or ""
    if scheme != wanted or not parts.netloc or _loopback(host) != _loopback(base.hostname or ""):
        return derived
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def server_info(
    base_url: str, instance: Mapping[str, Any], nodeinfo: Mapping[str, Any] | None = None
) -> ServerInfo:
    """Read the software, version and streaming address from the instance and NodeInfo."""
    advertised = _advertised(instance)
    usable = stream_url(base_url, advertised)
    return ServerInfo(
        software=_software(instance, nodeinfo),
        version=_version(instance, nodeinfo),
        streaming_url=usable,
        advertised_ok=bool(advertised) and usable == advertised.rstrip("/"),
    )


ASYNC_REFRESH = "Mastodon-Async-Refresh"
_RETRY = re.compile(r"(?:^|[,;\s])retry\s*=\s*\"?(\d+(?:\.\d+)?)")
MAX_REFRESH_WAIT = 300.0  # seconds: a longer wait is read as this


def refresh_retry(header: str | None) -> float | None:
    """The ``retry`` seconds of a Mastodon-Async-Refresh header (``id="…", retry=3,
    result_count=0``): how long the server asks a client to wait before reading the
    same thing again while it fetches more (Mastodon 4.4+). None without the header or
    without a usable ``retry``."""
    if not header:
        return None
    found = _RETRY.search(header)
    if found is None:
        return None
    try:
        seconds = float(found.group(1))
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_REFRESH_WAIT)


__all__ = [
    "ASYNC_REFRESH",
    "GOTOSOCIAL",
    "MASTODON",
    "RateState",
    "ServerInfo",
    "newest_id",
    "refresh_retry",
    "server_info",
    "status_id_key",
    "stream_url",
]
