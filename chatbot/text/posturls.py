"""Post links of the three networks: read from text as quote targets, and matched to stored posts.

A post that quotes another often carries nothing but the quoted post's web
address, in its text or its link card. :func:`quote_target` turns such an
address into the form the collection stores posts under:

- a Bluesky post page ``<web>/profile/<handle-or-DID>/post/<rkey>`` (any host:
  bsky.app or a sandbox) becomes ``at://<handle-or-DID>/app.bsky.feed.post/<rkey>``;
- a tweet ``twitter.com|x.com/<user>/status/<id>`` becomes the author-free
  ``https://twitter.com/i/web/status/<id>`` that imports store tweets under;
- a Mastodon status ``https://<host>/@<user>/<id>`` or
  ``https://<host>/users/<user>/statuses/<id>`` stays that address, tidied.

:class:`PostIndex` then resolves a target to a stored post's URI: a Bluesky
handle through the DIDs of stored authors, a Mastodon address through the
server and status id of the stored posts' URIs and web links. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

TWEET_URI = "https://twitter.com/i/web/status/{}"
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?…"
_BLUESKY = re.compile(r"^https?://[^/\s]+/profile/([^/\s?#]+)/post/([A-Za-z0-9._:~-]{1,512})/?$")
_TWEET = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/"
    r"(?:[A-Za-z0-9_]{1,50}|i/web|i)/status(?:es)?/(\d{1,25})/?$",
    re.IGNORECASE,
)
_MASTODON = re.compile(
    r"^(https?)://([A-Za-z0-9.-]+(?::\d{1,5})?)/"
    r"(?:@([^/\s?#]+)|users/([^/\s?#]+)/statuses)/(\d{1,25})/?$"
)
_HOSTS_NOT_MASTODON = ("twitter.com", "x.com", "bsky.app")


def tweet_uri(tweet_id: str) -> str:
    """A tweet's URI that needs no author (Twitter redirects it to the tweet)."""
    return TWEET_URI.format(tweet_id)


def urls_in(text: str) -> list[str]:
    """The http(s) addresses written in ``text`` (HTML attributes included), in order."""
    return [match.group(0).rstrip(_TRAILING) for match in _URL.finditer(text or "")]


def _bare(url: str) -> str:
    """``url`` without its query, fragment and surrounding space."""
    return url.strip().split("#", 1)[0].split("?", 1)[0].rstrip(_TRAILING)


def quote_target(url: str) -> str | None:
    """The stored form of the post ``url`` shows, or None if it is not a post address."""
    bare = _bare(url)
    match = _TWEET.match(bare)
    if match is not None:
        return tweet_uri(match.group(1))
    match = _BLUESKY.match(bare)
    if match is not None:
        actor = match.group(1)
        actor = actor if actor.startswith("did:") else actor.lower()  # handles ignore case
        return f"at://{actor}/app.bsky.feed.post/{match.group(2)}"
    match = _MASTODON.match(bare)
    if match is not None:
        scheme, host, user, owner, status = match.groups()
        host = host.lower()
        if host.removeprefix("www.") in _HOSTS_NOT_MASTODON:
            return None
        if user is not None:
            return f"{scheme.lower()}://{host}/@{user}/{status}"
        return f"{scheme.lower()}://{host}/users/{owner}/statuses/{status}"
    return None


def quote_targets(*sources: str | None, links: Iterable[str] = ()) -> tuple[str, ...]:
    """Every post address in ``links`` and the texts ``sources``, as stored forms, once each."""
    found: dict[str, None] = {}
    for url in links:
        target = quote_target(url or "")
        if target is not None:
            found.setdefault(target, None)
    for source in sources:
        if not source or "://" not in source:  # most posts: no address at all
            continue
        for url in urls_in(source):
            target = quote_target(url)
            if target is not None:
                found.setdefault(target, None)
    return tuple(found)


def mastodon_key(address: str) -> tuple[str, str] | None:
    """(server, status id) of a Mastodon status URI or web link; None for anything else."""
    match = _MASTODON.match(_bare(address))
    if match is None:
        return None
    return match.group(2).lower(), match.group(5)


def bluesky_post_url(actor: str, rkey: str, web: str = "https://bsky.app") -> str:
    """The web page of a Bluesky post (the inverse of :func:`quote_target`)."""
    return f"{web.rstrip('/')}/profile/{actor}/post/{rkey}"


def tweet_url(user: str, tweet_id: str) -> str:
    """The web page of a tweet."""
    return f"https://twitter.com/{user}/status/{tweet_id}"


def mastodon_status_url(host: str, user: str, status_id: str) -> str:
    """The web page of a Mastodon status."""
    return f"https://{host}/@{user}/{status_id}"


class AddressedPost(Protocol):
    """What :meth:`PostIndex.of` reads of a post: where it lives and who wrote it."""

    @property
    def network(self) -> str: ...

    @property
    def uri(self) -> str: ...

    @property
    def url(self) -> str | None: ...

    @property
    def author_id(self) -> str: ...

    @property
    def author_handle(self) -> str: ...


class PostIndex:
    """Stored posts by every address a quote may use: URI, web link, handle + record key."""

    def __init__(self) -> None:
        self.uris: set[str] = set()
        self.handles: dict[str, str] = {}  # lower-cased Bluesky handle -> DID
        self.mastodon: dict[tuple[str, str], str] = {}  # (server, status id) -> URI

    @classmethod
    def of(cls, posts: Iterable[AddressedPost]) -> PostIndex:
        """An index of ``posts`` (stored rows or normalised posts alike)."""
        index = cls()
        for post in posts:
            index.add(post.network, post.uri, post.url, post.author_id, post.author_handle)
        return index

    def add(
        self, network: str, uri: str, url: str | None = None, author_id: str = "", handle: str = ""
    ) -> None:
        """Index one stored post."""
        self.uris.add(uri)
        if network == "bluesky":
            if handle and author_id.startswith("did:"):
                self.handles.setdefault(handle.lstrip("@").lower(), author_id)
        elif network == "mastodon":
            for address in (uri, url or ""):
                key = mastodon_key(address)
                if key is not None:
                    self.mastodon.setdefault(key, uri)

    def resolve(self, target: str) -> str | None:
        """The stored post's URI that ``target`` names, or None when it is not stored."""
        if target in self.uris:
            return target
        if target.startswith("at://"):
            actor, _, rest = target[5:].partition("/")
            did = self.handles.get(actor.lower())
            if did is not None and f"at://{did}/{rest}" in self.uris:
                return f"at://{did}/{rest}"
            return None
        key = mastodon_key(target)
        if key is not None:
            return self.mastodon.get(key)
        return None

    def first(self, targets: Iterable[str]) -> str | None:
        """The first of ``targets`` that names a stored post, else the first target at all."""
        targets = list(targets)
        for target in targets:
            found = self.resolve(target)
            if found is not None:
                return found
        return targets[0] if targets else None


__all__ = [
    "PostIndex",
    "bluesky_post_url",
    "mastodon_key",
    "mastodon_status_url",
    "quote_target",
    "quote_targets",
    "tweet_uri",
    "tweet_url",
    "urls_in",
]
