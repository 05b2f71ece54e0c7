"""The sandbox Mastodon's rows: apps, tokens, accounts and statuses, kept in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

VISIBILITIES = ("public", "unlisted", "private", "direct")


@dataclass
class App:
    client_id: str
    client_secret: str
    name: str
    website: str | None
    redirect_uri: str
    scopes: str
    id: str


@dataclass
class Token:
    token: str
    scopes: str
    created_at: datetime
    account_id: str | None  # None for an app-only (client_credentials) token
    app: App | None = None


@dataclass
class Account:
    id: str
    username: str
    created_at: datetime
    display_name: str = ""
    note: str = ""  # plain text; rendered to HTML like a status
    bot: bool = False
    locked: bool = False
    noindex: bool = False
    indexable: bool = True
    discoverable: bool | None = True
    followers_count: int = 0
    following_count: int = 0
    email: str | None = None
    password: str | None = None
    language: str | None = None
    default_visibility: str = "public"  # what a post without a visibility gets (source.privacy)
    # A remote account (known here through federation): its home domain and its own
    # addresses there. None for the server's own accounts.
    domain: str | None = None
    remote_url: str | None = None
    remote_uri: str | None = None

    @property
    def local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        """``user`` for a local account, ``user@domain`` for a remote one (as Mastodon writes)."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass
class Status:
    id: str
    account_id: str
    text: str  # what the author typed (after stripping); content is rendered from it
    created_at: datetime
    visibility: str = "public"
    language: str | None = "en"
    spoiler_text: str = ""
    sensitive: bool = False
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    quote_id: str | None = None
    application: dict[str, str | None] | None = None
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    tags: list[str] = field(default_factory=list)  # normalised names
    mention_ids: list[str] = field(default_factory=list)
    # A remote copy (received through federation): its ActivityPub id and web address on
    # its origin, and the HTML its origin rendered. None for the server's own statuses.
    uri: str | None = None
    url: str | None = None
    content: str | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def local(self) -> bool:
        return self.uri is None


__all__ = ["VISIBILITIES", "Account", "App", "Status", "Token"]
