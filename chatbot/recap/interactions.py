"""Who replied to, mentioned or quoted whom: the links between participants (pure).

Posts name people three ways: a reply names its parent's author, a mention
names an account (a Bluesky DID, a Mastodon handle), a quote names the quoted
post's author. Each becomes a directed link between two participants' keys
(``network:handle``, as :attr:`DocPost.key`); hosts, the bot and people who
are not among the shown posts' authors are left out, and so are links to
oneself. A Mastodon reply mentions the person it answers by itself: that
mention is not counted again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .document import DocPost

__all__ = ["MIN_GROUP", "Directory", "Link", "Person", "Talk", "directory", "talk_of"]

MIN_GROUP = 3  # no figure names a group smaller than this many people


@dataclass(frozen=True, slots=True)
class Person:
    """A participant as the graph and its table name them."""

    key: str
    handle: str
    name: str
    network: str


@dataclass(frozen=True, slots=True)
class Link:
    """``source`` replied to, mentioned or quoted ``target`` this many times."""

    source: str
    target: str
    replies: int = 0
    mentions: int = 0
    quotes: int = 0

    @property
    def total(self) -> int:
        return self.replies + self.mentions + self.quotes


@dataclass(frozen=True, slots=True)
class Talk:
    """The links among one set of posts (a whole chat or one question), heaviest first."""

    people: Mapping[str, Person]  # everyone in a link, by key
    links: tuple[Link, ...]

    def degree(self) -> dict[str, int]:
        """Each person's links in and out, counted with their weights."""
        found: dict[str, int] = dict.fromkeys(self.people, 0)
        for link in self.links:
            found[link.source] += link.total
            found[link.target] += link.total
        return found

    @property
    def shows_a_group(self) -> bool:
        """Whether there are enough people to show (the group-of-three rule)."""
        return len(self.people) >= MIN_GROUP


def _did(uri: str) -> str:
    """The authority of an ``at://`` URI (a DID or a handle), else ""."""
    if not uri.startswith("at://"):
        return ""
    return uri[5:].split("/", 1)[0].lower()


@dataclass(frozen=True, slots=True)
class Directory:
    """Who the participants are and every name each goes by: built once per chat."""

    names: Mapping[str, str]  # handle, DID, user@host (prefixed by network) -> key
    people: Mapping[str, Person]


def directory(authors: Iterable[DocPost]) -> Directory:
    """The participants among ``authors`` (hosts left out) and the names they go by."""
    names: dict[str, str] = {}
    people: dict[str, Person] = {}
    for post in authors:
        if post.is_host:
            continue
        key = post.key
        if key in people:
            continue
        people[key] = Person(key, post.handle, post.name, post.network)
        names.setdefault(key, key)
        if post.network == "bluesky":
            names.setdefault(f"bluesky:{_did(post.uri)}", key)
        elif "@" not in post.handle and post.url.startswith("http"):
            host = post.url.split("/")[2].lower()
            names.setdefault(f"{key}@{host}", key)
    return Directory(names, people)


def _name(network: str, mention: str) -> str:
    return f"{network}:{mention.lstrip('@').lower()}"


def talk_of(
    posts: Iterable[DocPost],
    by_uri: Mapping[str, DocPost],
    known: Directory | None = None,
) -> Talk:
    """The links made by ``posts`` among ``known`` participants (default: the posts' authors).

    ``by_uri`` holds every shown post, for parents and quoted posts; hosts'
    posts are skipped on both ends.
    """
    posts = [post for post in posts if not post.is_host]
    known = known or directory(posts)
    names, people = known.names, known.people
    counts: dict[tuple[str, str], list[int]] = {}

    def add(source: str, target: str | None, kind: int) -> None:
        if target is None or target == source or target not in people:
            return
        counts.setdefault((source, target), [0, 0, 0])[kind] += 1

    for post in posts:
        source = post.key
        parent = by_uri.get(post.parent_uri or "")
        replied = parent.key if parent is not None and not parent.is_host else None
        add(source, replied, 0)
        for mention in dict.fromkeys(post.mentions):
            target = names.get(_name(post.network, mention))
            if target != replied:
                add(source, target, 1)
        for quoted in dict.fromkeys(post.quotes):
            found = by_uri.get(quoted)
            if found is not None:
                target = None if found.is_host else found.key
            else:
                target = names.get(f"bluesky:{_did(quoted)}") if _did(quoted) else None
            add(source, target, 2)
    links = [Link(s, t, *c) for (s, t), c in counts.items()]
    links.sort(key=lambda link: (-link.total, link.source, link.target))
    linked = {key for link in links for key in (link.source, link.target)}
    return Talk({key: people[key] for key in sorted(linked)}, tuple(links))
