"""Reads the transcript document (and the recap's extras) into typed records (pure)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chatbot.zones import zone_or_utc

from .sanitise import public_url

__all__ = [
    "Coverage",
    "DocEvent",
    "DocPost",
    "DocQuestion",
    "RecapExtras",
    "read_event",
    "read_posts",
    "read_questions",
]

# Flags that keep a post out of every page (consent, invariant 3); spam is
# left out of the threads and counted in the coverage section instead.
EXCLUDED_FLAGS = frozenset({"hidden", "deleted", "opted_out"})


@dataclass(frozen=True, slots=True)
class DocEvent:
    """The event block of the transcript document."""

    hashtag: str  # without '#'
    title: str
    start: datetime  # UTC
    end: datetime | None
    timezone: str
    networks: tuple[str, ...]
    moderators: tuple[str, ...]  # handles, with or without '@'
    accounts: Mapping[str, str]  # network -> the bot's handle
    language: str = "en"

    @property
    def zone(self) -> ZoneInfo:
        return zone_or_utc(self.timezone)


@dataclass(frozen=True, slots=True)
class DocQuestion:
    """One question as posted: label, text, and per network the post's URI, URL and time."""

    label: str
    number: int
    text: str
    uris: Mapping[str, str]
    urls: Mapping[str, str]  # http(s) only
    posted_at: datetime | None
    skipped: bool = False  # the document says it never went out


@dataclass(slots=True)
class DocPost:
    """One post of the document, normalised; ``key`` names its author across the page."""

    network: str
    uri: str
    url: str  # the original's http(s) address, or "" when it has none safe to link
    handle: str
    name: str
    created_at: datetime
    text: str
    question: str | None
    method: str
    parent_uri: str | None
    flags: frozenset[str]
    html: str | None = None  # Mastodon content as received (sanitised when rendered)
    facets: Sequence[Mapping[str, Any]] = ()  # Bluesky rich-text facets
    is_host: bool = False
    is_question: bool = False  # one of the moderator's question posts: a heading, not an entry
    anchor: str = ""  # the post's id in the page
    mentions: tuple[str, ...] = ()  # accounts as the network names them (DIDs, handles)
    quotes: tuple[str, ...] = ()  # URIs of the posts it quotes
    # Engagement as the network last gave it (None: never read), and what it shares.
    likes: int | None = None
    reposts: int | None = None
    quotes_count: int | None = None
    replies: int | None = None
    links: tuple[str, ...] = ()  # web links (post addresses are quotes)
    media: tuple[tuple[str, bool], ...] = ()  # (type, described) per attachment
    lang: str | None = None
    counted_at: datetime | None = None  # when the counts were read
    # ``network:handle``, made once and shared by the author's posts (read everywhere).
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.key = sys.intern(f"{self.network}:{self.handle.lstrip('@').lower()}")

    @property
    def counted(self) -> bool:
        """Whether the network's counts of this post were read."""
        counts = (self.likes, self.reposts, self.quotes_count, self.replies)
        return any(n is not None for n in counts)


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the bot could not see, as counts (nothing about the posts themselves)."""

    deleted: int = 0
    opted_out: int = 0
    hidden: int = 0
    not_public: int = 0  # unlisted, followers-only or direct: never published
    spam: int | None = None  # None: count the document's spam flags
    mastodon_instance: str | None = None  # where the bot reads Mastodon from
    collected_until: datetime | None = None
    search_lag_seconds: float | None = None
    # Where the posts were found (collect.coverage): one entry per network, server and
    # source that found any, as (network, server's host, source, posts, found by it alone).
    sources: tuple[tuple[str, str, str, int, int], ...] = ()
    closed: tuple[tuple[str, str, str], ...] = ()  # (network, host, why) of closed feeds
    # A Mastodon server's own count of the tag on a day beside what it gave the bot:
    # (host, day, server's posts, server's accounts, collected posts).
    tag_days: tuple[tuple[str, str, int, int, int], ...] = ()


@dataclass(slots=True)
class RecapExtras:
    """What the recap needs beyond the transcript document, read from the database.

    ``followers`` and ``previous`` are keyed like :attr:`DocPost.key`
    (``network:handle``). ``previous`` is ``None`` when the series history is
    unknown, an empty set for a series' first chat.
    """

    html: dict[str, str] = field(default_factory=dict)  # uri -> Mastodon HTML
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # uri -> facets
    followers: dict[str, int] = field(default_factory=dict)
    previous: set[str] | None = None
    earlier_chats: int = 0
    coverage: Coverage | None = None  # None: count what the document itself flags
    moderators: tuple[str, ...] = ()  # handles, when the document's event has none
    accounts: dict[str, str] = field(default_factory=dict)  # network -> the bot's handle
    language: str | None = None


def parse_time(value: object) -> datetime | None:
    """An ISO time as aware UTC; a naive one is taken as UTC; anything else is ``None``."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def read_event(document: Mapping[str, Any]) -> DocEvent:
    """The event block; a missing start falls back to the first post's time."""
    event = document.get("event") or {}
    start = parse_time(event.get("start"))
    if start is None:
        times = [parse_time(post.get("created_at")) for post in document.get("posts") or ()]
        start = min((t for t in times if t is not None), default=datetime.now(UTC))
    accounts = event.get("accounts") or {}
    return DocEvent(
        hashtag=_str(event.get("hashtag")).lstrip("#"),
        title=_str(event.get("title")),
        start=start,
        end=parse_time(event.get("end")),
        timezone=_str(event.get("timezone")) or "UTC",
        networks=_strings(event.get("networks")),
        moderators=_strings(event.get("moderators")),
        accounts={k: v for k, v in accounts.items() if isinstance(v, str)},
        language=_str(event.get("language")) or "en",
    )


def read_questions(document: Mapping[str, Any]) -> list[DocQuestion]:
    """The questions, in the document's order; ``posted`` may map a network to a URI or a dict."""
    found: list[DocQuestion] = []
    for item in document.get("questions") or ():
        uris: dict[str, str] = {}
        urls: dict[str, str] = {}
        times: list[datetime] = []
        posted = item.get("posted") or item.get("uris") or {}
        for network, value in posted.items():
            if isinstance(value, str):
                uris[network] = value
            elif isinstance(value, Mapping):
                if value.get("uri"):
                    uris[network] = _str(value.get("uri"))
                if public_url(value.get("url")):
                    urls[network] = _str(value.get("url"))
                moment = parse_time(value.get("at") or value.get("posted_at"))
                if moment is not None:
                    times.append(moment)
        for network, value in (item.get("urls") or {}).items():
            if public_url(value):
                urls.setdefault(network, value)
        moment = parse_time(item.get("posted_at"))
        if moment is not None:
            times.append(moment)
        label = _str(item.get("label"))
        number = item.get("number")
        found.append(
            DocQuestion(
                label=label,
                number=number if isinstance(number, int) else len(found) + 1,
                text=_str(item.get("text")),
                uris=uris,
                urls=urls,
                posted_at=min(times) if times else None,
                skipped=item.get("skipped") is True,
            )
        )
    return found


_FLAG_SETS: dict[frozenset[str], frozenset[str]] = {}  # one set per combination, shared


def _flags(value: object) -> frozenset[str]:
    if isinstance(value, Mapping):
        flags = frozenset(str(name) for name, on in value.items() if on)
    else:
        flags = frozenset(_strings(value))
    if len(_FLAG_SETS) < 64:  # a handful of combinations in practice
        return _FLAG_SETS.setdefault(flags, flags)
    return flags


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _engagement(item: Mapping[str, Any]) -> dict[str, Any]:
    """A post's counts, links, media and language, as far as the document gives them."""
    counts = item.get("engagement")
    counts = counts if isinstance(counts, Mapping) else {}
    media = item.get("media")
    attachments = [m for m in media if isinstance(m, Mapping)] if isinstance(media, list) else []
    lang = item.get("lang")
    return {
        "likes": _count(counts.get("likes")),
        "reposts": _count(counts.get("reposts")),
        "quotes_count": _count(counts.get("quotes")),
        "replies": _count(counts.get("replies")),
        "links": _strings(item.get("links")),
        "media": tuple(
            (_str(m.get("type")) or "unknown", m.get("alt") is True) for m in attachments
        ),
        "lang": lang if isinstance(lang, str) else None,
        "counted_at": parse_time(counts.get("counted_at")),
    }


def read_posts(
    document: Mapping[str, Any], extras: RecapExtras, host_keys: set[str]
) -> tuple[list[DocPost], int, Coverage]:
    """The posts to show, how many were left out as spam, and the other left-out counts.

    Hidden, deleted and opted-out posts are dropped here whatever the
    document says, so nothing later can publish them.
    """
    posts: list[DocPost] = []
    spam = 0
    left_out: dict[str, int] = dict.fromkeys(("deleted", "opted_out", "hidden"), 0)
    for item in document.get("posts") or ():
        flags = _flags(item.get("flags"))
        if item.get("deleted"):
            flags |= {"deleted"}
        if item.get("opted_out"):
            flags |= {"opted_out"}
        if flags & EXCLUDED_FLAGS:
            reason = next(name for name in left_out if name in flags)
            left_out[reason] += 1
            continue
        if "spam" in flags:
            spam += 1
            continue
        created = parse_time(item.get("created_at"))
        uri = _str(item.get("uri"))
        if created is None or not uri:
            continue
        author = item.get("author")
        if isinstance(author, Mapping):
            handle, name = _str(author.get("handle")), _str(author.get("display_name"))
        else:
            handle = _str(item.get("author_handle")) or _str(author)
            name = _str(item.get("author_display_name") or item.get("display_name"))
        network = _str(item.get("network"))
        html = item.get("html") if isinstance(item.get("html"), str) else extras.html.get(uri)
        facets = item.get("facets") or extras.facets.get(uri) or ()
        post = DocPost(
            network=network,
            uri=uri,
            url=public_url(item.get("url")) or "",  # only public http(s) links leave the page
            handle=handle.lstrip("@"),
            name=name,
            created_at=created,
            text=_str(item.get("text")),
            question=_str(item.get("question")) or None,
            method=_str(item.get("method")),
            parent_uri=_str(item.get("parent_uri") or item.get("parent")) or None,
            flags=flags,
            html=html if network == "mastodon" else None,
            facets=facets if isinstance(facets, Sequence) else (),
            is_question=bool(item.get("is_question")),
            anchor=f"p{len(posts) + 1}",
            mentions=_strings(item.get("mentions")),
            quotes=_strings(item.get("quotes")),
            **_engagement(item),
        )
        post.is_host = post.key in host_keys
        posts.append(post)
    coverage = Coverage(
        deleted=left_out["deleted"], opted_out=left_out["opted_out"], hidden=left_out["hidden"]
    )
    return posts, spam, coverage
