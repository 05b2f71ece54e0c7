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

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


__all__ = ["VISIBILITIES", "Account", "App", "Status", "Token"]
