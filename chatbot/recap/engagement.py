"""The recap's engagement figures: people per network, top posts, mentions, links, media,
languages (pure).

Every figure counts the participants' posts shown on the page (hosts and the
bot left out, like the summary's). People are accounts that posted: someone
who only liked or reposted is in no count of people, and reposts are never
counted as posts. Likes, reposts, quotes and replies are the networks' own
counts as last read (``chatbot collect --refresh-counts``); a post whose
counts were never read adds nothing to them.

No figure names a group of fewer than ``MIN_GROUP`` (3) people: a row of a
breakdown (a language, a link's domain, a kind of media, a network) is shown
only when at least three people are in it. Smaller rows are folded into
"other", which is itself shown only when it holds three people or more;
otherwise the page says how many smaller groups were left out. A participant is
listed as most mentioned only when at least three people mentioned them, and
the top posts are listed only when the chat has at least three participants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from .document import DocPost
from .interactions import MIN_GROUP, Talk

__all__ = [
    "MIN_GROUP",
    "OTHER",
    "Breakdown",
    "Engagement",
    "Mentioned",
    "Row",
    "TopPost",
    "build_engagement",
    "fold",
]

OTHER = "other"
NOT_STATED = "not stated"
TOP_POSTS = 5
TOP_MENTIONED = 10
TOP_ROWS = 10  # rows of a breakdown before the rest is folded into "other"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a breakdown: how many people, posts and items (links, attachments)."""

    label: str
    people: int
    posts: int
    items: int = 0
    extra: Mapping[str, int] = field(default_factory=dict)  # per-network figures


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Rows of at least ``MIN_GROUP`` people each, most people first; what was left out."""

    rows: tuple[Row, ...]
    hidden_groups: int = 0  # groups of fewer than three, not shown even as "other"

    @property
    def shown(self) -> bool:
        return bool(self.rows)


@dataclass(frozen=True, slots=True)
class TopPost:
    """A post near the top by engagement or by replies."""

    post: DocPost
    likes: int
    reposts: int
    quotes: int
    replies: int

    @property
    def total(self) -> int:
        return self.likes + self.reposts + self.quotes + self.replies


@dataclass(frozen=True, slots=True)
class Mentioned:
    """A participant mentioned by at least three people."""

    handle: str
    name: str
    network: str
    mentions: int
    people: int  # who mentioned them


@dataclass(frozen=True, slots=True)
class Engagement:
    """Everything the engagement section shows."""

    people: int
    likes: int
    reposts: int
    quotes: int
    replies: int
    counted: int  # posts whose counts were read
    read_at: datetime | None  # the latest read of them
    posts: int
    by_engagement: tuple[TopPost, ...]
    by_replies: tuple[TopPost, ...]
    mentioned: tuple[Mentioned, ...]
    networks: Breakdown
    domains: Breakdown
    media: Breakdown
    languages: Breakdown
    posts_with_media: int
    attachments: int
    described: int  # attachments with a description (alt text)
    links: int


class _Group:
    __slots__ = ("extra", "items", "people", "posts")

    def __init__(self) -> None:
        self.people: set[str] = set()
        self.posts = 0
        self.items = 0
        self.extra: Counter[str] = Counter()


def fold(groups: Mapping[str, _Group], limit: int = TOP_ROWS) -> Breakdown:
    """The rows of ``groups`` that name at least three people, the rest folded into "other"."""
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1].people), -kv[1].posts, kv[0]))
    rows: list[Row] = []
    rest = _Group()
    small = 0
    for label, group in ranked:
        if len(group.people) >= MIN_GROUP and len(rows) < limit and label != OTHER:
            rows.append(Row(label, len(group.people), group.posts, group.items, dict(group.extra)))
        else:
            small += 1
            rest.people |= group.people
            rest.posts += group.posts
            rest.items += group.items
            rest.extra.update(group.extra)
    if small and len(rest.people) >= MIN_GROUP:
        rows.append(Row(OTHER, len(rest.people), rest.posts, rest.items, dict(rest.extra)))
        small = 0
    return Breakdown(tuple(rows), small)


def domain_of(url: str) -> str | None:
    """The host a link points to, without ``www.``; None for what is not a web address."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    return host.removeprefix("www.") or None


def language_of(tag: str | None) -> str:
    """A post's language as its primary subtag ("en-GB" is "en"), or "not stated"."""
    primary = (tag or "").strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() and len(primary) <= 8 else NOT_STATED


def _counts(post: DocPost, replies_shown: Mapping[str, int]) -> TopPost:
    # The network's reply count when read (it counts replies the page may not show),
    # else the replies shown under the post.
    replies = post.replies if post.replies is not None else replies_shown.get(post.uri, 0)
    return TopPost(post, post.likes or 0, post.reposts or 0, post.quotes_count or 0, replies)


def _top(items: Iterable[TopPost], key: str) -> tuple[TopPost, ...]:
    scored = [(getattr(item, key), item) for item in items]
    scored = [(score, item) for score, item in scored if score > 0]
    scored.sort(key=lambda pair: (-pair[0], pair[1].post.created_at, pair[1].post.uri))
    return tuple(item for _, item in scored[:TOP_POSTS])


def _mentioned(talk: Talk) -> tuple[Mentioned, ...]:
    mentions: Counter[str] = Counter()
    by: dict[str, set[str]] = {}
    for link in talk.links:
        if link.mentions:
            mentions[link.target] += link.mentions
            by.setdefault(link.target, set()).add(link.source)
    found = [
        Mentioned(
            talk.people[key].handle,
            talk.people[key].name,
            talk.people[key].network,
            mentions[key],
            len(people),
        )
        for key, people in by.items()
        if len(people) >= MIN_GROUP
    ]
    found.sort(key=lambda m: (-m.people, -m.mentions, m.handle))
    return tuple(found[:TOP_MENTIONED])


def build_engagement(
    people_posts: Sequence[DocPost], talk: Talk, replies_shown: Mapping[str, int]
) -> Engagement:
    """The engagement figures of the participants' ``people_posts``.

    ``talk`` is the whole chat's links (for mentions); ``replies_shown`` the
    number of replies shown under each post, by URI.
    """
    people = {post.key for post in people_posts}
    counted = [post for post in people_posts if post.counted]
    tops = [_counts(post, replies_shown) for post in people_posts]
    networks: dict[str, _Group] = {}
    domains: dict[str, _Group] = {}
    kinds: dict[str, _Group] = {}
    languages: dict[str, _Group] = {}
    links = attachments = described = with_media = 0
    for post, top in zip(people_posts, tops, strict=True):
        group = networks.setdefault(post.network, _Group())
        group.people.add(post.key)
        group.posts += 1
        group.items += top.total
        group.extra.update(
            likes=top.likes, reposts=top.reposts, quotes=top.quotes, replies=top.replies
        )
        language = languages.setdefault(language_of(post.lang), _Group())
        language.people.add(post.key)
        language.posts += 1
        sites = [site for site in map(domain_of, post.links) if site]
        links += len(post.links)
        for site in sites:
            domains.setdefault(site, _Group()).items += 1
        for site in set(sites):
            domains[site].people.add(post.key)
            domains[site].posts += 1
        if post.media:
            with_media += 1
        for kind, alt in post.media:
            attachments += 1
            described += alt
            media = kinds.setdefault(kind, _Group())
            media.people.add(post.key)
            media.items += 1
        for kind in {kind for kind, _ in post.media}:
            kinds[kind].posts += 1
    shown = len(people) >= MIN_GROUP
    return Engagement(
        people=len(people),
        likes=sum(post.likes or 0 for post in counted),
        reposts=sum(post.reposts or 0 for post in counted),
        quotes=sum(post.quotes_count or 0 for post in counted),
        replies=sum(top.replies for top in tops),
        counted=len(counted),
        read_at=max((p.counted_at for p in counted if p.counted_at), default=None),
        posts=len(people_posts),
        # Without any count read, engagement is the replies alone: the list by replies.
        by_engagement=_top(tops, "total") if shown and counted else (),
        by_replies=_top(tops, "replies") if shown else (),
        mentioned=_mentioned(talk),
        networks=fold(networks),
        domains=fold(domains),
        media=fold(kinds),
        languages=fold(languages),
        posts_with_media=with_media,
        attachments=attachments,
        described=described,
        links=links,
    )
