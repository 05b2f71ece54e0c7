"""The small interface every network adapter implements, and the values it returns."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from chatbot.errors import UsageError

# Author flags that mean "do not publish me" (bluesky_json.py and mastodon_json.py
# say where each comes from).
# Mastodon's `indexable: false` ("unindexable") counts too: the account has not agreed to
# its posts being searchable, and a published transcript is a searchable copy. Many
# Mastodon accounts never switch it on, so organizers who want the conversation's shape
# kept export with --anonymise-opted-out rather than dropping those posts.
OPT_OUT_FLAGS = frozenset({"noindex", "no-unauthenticated", "nobot", "noindex-bio", "unindexable"})


@dataclass(frozen=True)
class RemoteRef:
    """Where a post lives on its network: enough to reply to, fetch or delete it."""

    network: str
    id: str  # Mastodon status id / Bluesky record key
    uri: str  # at:// URI or the ActivityPub status URI
    url: str = ""  # web link a person can open
    cid: str = ""  # Bluesky content id (needed in reply refs)


# In every failure of a post's image found before anything was posted (unreadable,
# changed since loading, over a server's limit): loading the file again takes it back.
IMAGE_NOT_SENT = "so the post was not sent"


@dataclass(frozen=True)
class Attachment:
    """An image to post with a text: its file, alt text, type and size in pixels.

    ``sha256`` is the file's as checked when the question file was loaded:
    :meth:`read` refuses a file that changed since, so what was checked is
    what is posted.
    """

    file: str
    alt: str
    mime: str
    width: int
    height: int
    sha256: str = ""

    @property
    def name(self) -> str:
        return Path(self.file).name

    def read(self) -> bytes:
        try:
            data = Path(self.file).read_bytes()
        except OSError as error:
            raise UsageError(
                f"cannot read the image {self.file} ({error.strerror or error}), "
                f"{IMAGE_NOT_SENT}; put it back (or change the question file), then run "
                "chatbot load again to post it"
            ) from None
        if self.sha256 and hashlib.sha256(data).hexdigest() != self.sha256:
            raise UsageError(
                f"the image {self.file} has changed since the question file was loaded, "
                f"{IMAGE_NOT_SENT}; check the "
                "question file with chatbot check, then chatbot load it again to post it "
                "with the image as it is now"
            )
        return data


@dataclass(frozen=True)
class NormalisedPost:
    """One post from either network, in the shape the collector stores."""

    network: str
    uri: str
    id: str
    url: str
    cid: str
    author_id: str
    author_handle: str
    author_display_name: str
    author_followers: int | None
    author_flags: frozenset[str]
    created_at: datetime | None
    edited_at: datetime | None
    text: str
    html: str
    links: tuple[str, ...]
    tags: tuple[str, ...]
    mentions: tuple[str, ...]
    parent_uri: str | None
    root_uri: str | None
    quote_uri: str | None
    visibility: str
    lang: str | None
    raw: Mapping[str, Any] = field(compare=False, repr=False)
    parent_id: str | None = None  # Mastodon's in_reply_to_id (the network's own handle)
    deleted: bool = False  # a tombstone: the network says it is gone
    # Every post it quotes (chatbot.text.postrefs): embedded record or quoted status
    # first, then post links in its text and link card. ``quote_uri`` is the first.
    quote_uris: tuple[str, ...] = ()

    @property
    def opted_out(self) -> bool:
        return bool(self.author_flags & OPT_OUT_FLAGS)

    @property
    def author(self) -> AuthorProfile:
        """What the post says of its author."""
        return AuthorProfile(
            self.network,
            self.author_id,
            self.author_handle,
            self.author_display_name,
            self.author_followers,
            self.author_flags,
        )

    def ref(self) -> RemoteRef:
        return RemoteRef(self.network, self.id, self.uri, self.url, self.cid)


@dataclass(frozen=True)
class AuthorProfile:
    """An account as a post or a profile shows it: names, followers, consent flags."""

    network: str
    account_id: str  # DID or account id
    handle: str
    display_name: str
    followers: int | None  # None: not shown (a Bluesky post view has no counts)
    flags: frozenset[str]  # see OPT_OUT_FLAGS


@dataclass(frozen=True)
class Thread:
    """A post and every reply the network still shows, at all depths."""

    anchor: NormalisedPost | None  # None when the post itself is deleted or hidden
    replies: list[NormalisedPost]
    missing: list[str] = field(default_factory=list)  # URIs/ids shown as deleted/blocked
    incomplete: bool = False  # something was deleted, blocked or cut off
    # Seconds after which to read the thread again: the server is still fetching replies
    # from other servers (Mastodon 4.4's Mastodon-Async-Refresh on a context); None: done.
    retry_after: float | None = None

    @property
    def deleted(self) -> bool:
        return self.anchor is None


@dataclass(frozen=True)
class Page:
    """One page of hashtag search results, oldest-first order not guaranteed."""

    posts: list[NormalisedPost]
    cursor: str | None  # pass back to get the next (older) page; None: no more
    seen: int = 0  # posts the network returned before our own tag/window filter
    total: int | None = None  # the results the query has in all, where the network says


@dataclass(frozen=True)
class Mention:
    """A post that mentions the bot's account or replies to one of its posts (a notification)."""

    post: NormalisedPost  # ids as the bot's own server knows them: a reply can target it
    reason: str  # "mention" or "reply"
    seen_at: datetime | None  # when the network recorded it


@dataclass(frozen=True)
class MentionPage:
    """One page of the account's mention notifications, newest first."""

    mentions: list[Mention]
    cursor: str | None  # pass back for the next (older) page; None: no more


@runtime_checkable
class MentionReader(Protocol):
    """An adapter that reads its account's notifications (both adapters do)."""

    def mentions(self, *, cursor: str | None = None, limit: int = 50) -> MentionPage: ...


@dataclass(frozen=True)
class PostLimits:
    """How long a post may be on a network."""

    network: str
    max_characters: int  # Mastodon characters / Bluesky graphemes
    max_bytes: int | None = None  # Bluesky's UTF-8 byte cap
    url_weight: int | None = None  # Mastodon: every URL counts as this many characters


@dataclass(frozen=True)
class Identity:
    """The account the adapter posts as."""

    network: str
    id: str  # DID / account id
    handle: str
    display_name: str = ""
    url: str = ""


@runtime_checkable
class Platform(Protocol):
    """What the scheduler and the collector need from a network."""

    network: str

    def post(
        self,
        text: str,
        *,
        key: str,
        reply_to: RemoteRef | None = None,
        root: RemoteRef | None = None,
        language: str | None = None,
        media: Sequence[Attachment] = (),
    ) -> RemoteRef: ...

    def delete(self, ref: RemoteRef) -> None: ...

    def fetch(self, ref: RemoteRef) -> NormalisedPost | None: ...

    def thread(self, ref: RemoteRef) -> Thread: ...

    def search_hashtag(
        self,
        tag: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 40,
    ) -> Page: ...

    def limits(self) -> PostLimits: ...

    def prepare_to_post(self) -> None:
        """Do ahead of time what the first post would do slowly (the runner's warm-up)."""
        ...

    def check_length(self, text: str) -> None: ...

    def account(self) -> Identity: ...


def iter_hashtag_pages(
    platform: Platform,
    tag: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    max_pages: int | None = None,
) -> Iterator[Page]:
    """Yield pages of a hashtag search until the network has no more (or ``max_pages``)."""
    count = 0
    while True:
        page = platform.search_hashtag(tag, since=since, until=until, cursor=cursor)
        yield page
        count += 1
        if page.cursor is None or page.cursor == cursor:
            return
        if max_pages is not None and count >= max_pages:
            return
        cursor = page.cursor


def iter_hashtag_posts(platform: Platform, tag: str, **kwargs: Any) -> Iterator[NormalisedPost]:
    """Yield every post of every page of a hashtag search."""
    for page in iter_hashtag_pages(platform, tag, **kwargs):
        yield from page.posts


def too_long(network: str, text: str, measured: str, limit: str) -> UsageError:
    """The error an adapter raises for a text over its network's limit."""
    preview = text if len(text) <= 40 else text[:37] + "..."
    return UsageError(
        f"{network}: post {preview!r} is {measured}; {network} allows {limit}. "
        "Shorten the text (links and hashtags count too)."
    )


__all__ = [
    "IMAGE_NOT_SENT",
    "OPT_OUT_FLAGS",
    "Attachment",
    "AuthorProfile",
    "Identity",
    "Mention",
    "MentionPage",
    "MentionReader",
    "NormalisedPost",
    "Page",
    "Platform",
    "PostLimits",
    "RemoteRef",
    "Thread",
    "iter_hashtag_pages",
    "iter_hashtag_posts",
    "too_long",
]
