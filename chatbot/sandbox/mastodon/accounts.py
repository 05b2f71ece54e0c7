"""Apps, OAuth tokens and accounts of the sandbox Mastodon (a part of its store)."""

from __future__ import annotations

import re
import secrets
import threading
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from chatbot.sandbox.mastodon import entities
from chatbot.sandbox.mastodon.ids import IdMinter
from chatbot.sandbox.mastodon.profile import ServerProfile
from chatbot.sandbox.mastodon.records import Account, App, Token

USERNAME_RE = re.compile(r"\A[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?\Z", re.IGNORECASE)


class ValidationError(ValueError):
    """A request Mastodon would refuse with 422; the message is Mastodon's (English) wording."""


class NotFound(LookupError):
    """No such record (or not visible to the caller): Mastodon answers 404."""


class AccountBook(ABC):
    """The accounts half of :class:`~chatbot.sandbox.mastodon.store.MastodonStore`."""

    lock: threading.RLock
    apps: dict[str, App]
    tokens: dict[str, Token]
    accounts: dict[str, Account]
    _by_username: dict[str, str]
    _remote: dict[tuple[str, str], str]  # (username, domain), lower case -> account id
    _posted: dict[str, tuple[int, datetime | None]]
    _ids: IdMinter
    base_url: str
    profile: ServerProfile

    @abstractmethod
    def now(self) -> datetime:
        """The sandbox clock's time (the store supplies it)."""

    def create_app(
        self, name: str, *, website: str | None = None, redirect_uri: str = "", scopes: str = "read"
    ) -> App:
        with self.lock:
            app = App(
                client_id=secrets.token_urlsafe(32),
                client_secret=secrets.token_urlsafe(32),
                name=name,
                website=website or None,
                redirect_uri=redirect_uri or "urn:ietf:wg:oauth:2.0:oob",
                scopes=scopes or "read",
                id=str(len(self.apps) + 1),
            )
            self.apps[app.client_id] = app
            return app

    def issue_token(
        self,
        account_id: str | None,
        *,
        app: App | None = None,
        scopes: str = "read write follow push",
    ) -> Token:
        with self.lock:
            token = Token(secrets.token_urlsafe(32), scopes, self.now(), account_id, app)
            self.tokens[token.token] = token
            return token

    def token(self, value: str | None) -> Token | None:
        return self.tokens.get(value) if value else None

    def create_account(
        self,
        username: str,
        *,
        display_name: str = "",
        note: str = "",
        bot: bool = False,
        noindex: bool = False,
        indexable: bool = True,
        followers_count: int = 0,
        email: str | None = None,
        password: str | None = None,
        default_visibility: str | None = None,
    ) -> dict[str, Any]:
        """Register an account (and a token for it: see :meth:`token_for`); returns Account JSON.

        ``default_visibility``: what its posts without a visibility get (None: the
        server's default for new accounts, ``unlisted`` on GoToSocial).
        """
        account = self.add_account(
            username,
            display_name=display_name,
            note=note,
            bot=bot,
            noindex=noindex,
            indexable=indexable,
            followers_count=followers_count,
            email=email,
            password=password,
            default_visibility=default_visibility or self.profile.new_account_visibility,
        )
        return self.account_json(account)

    def add_account(self, username: str, **values: Any) -> Account:
        if not USERNAME_RE.match(username):
            raise ValidationError(
                "Validation failed: Username must contain only letters, numbers and "
                f"underscores: {username!r}"
            )
        with self.lock:
            if username.lower() in self._by_username:
                raise ValidationError("Validation failed: Username has already been taken")
            now = self.now()
            values.setdefault("default_visibility", self.profile.new_account_visibility)
            account = Account(id=self._ids.mint(now), username=username, created_at=now, **values)
            self.accounts[account.id] = account
            self._by_username[username.lower()] = account.id
            self.issue_token(account.id)
            return account

    def remote_account(
        self, username: str, domain: str, *, url: str, uri: str, **values: Any
    ) -> Account:
        """The account ``username@domain`` of another server, made on first sight (federation).

        It gets an id of this server's; ``values`` (display name, note, flags) are
        what its home server shows and are refreshed on every sight.
        """
        key = (username.lower(), domain.lower())
        with self.lock:
            known = self.accounts.get(self._remote.get(key, ""))
            if known is not None:
                for name, value in values.items():
                    setattr(known, name, value)
                return known
            now = self.now()
            account = Account(
                id=self._ids.mint(now),
                username=username,
                created_at=values.pop("created_at", now),
                domain=domain,
                remote_url=url,
                remote_uri=uri,
                **values,
            )
            self.accounts[account.id] = account
            self._remote[key] = account.id
            return account

    @property
    def domain(self) -> str:
        """This server's domain as other servers write it in ``user@domain`` (host:port)."""
        return urlsplit(self.base_url).netloc

    def token_for(self, account_id: str) -> str:
        """A bearer token for the account (its first one; one is made if it has none)."""
        with self.lock:
            account = self.accounts.get(account_id)
            if account is None or not account.local:
                raise NotFound(f"no account {account_id}")
            for token in self.tokens.values():
                if token.account_id == account_id:
                    return token.token
            return self.issue_token(account_id).token

    def account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def account_by_login(self, login: str) -> Account | None:
        """Find an account by e-mail (Mastodon's password grant) or, leniently, username."""
        with self.lock:
            for account in self.accounts.values():
                if account.email and account.email.lower() == login.lower():
                    return account
            found = self.lookup_account(login)
            return found if found is not None and found.local else None  # others log in at home

    def lookup_account(self, acct: str) -> Account | None:
        """An account by ``user`` or ``user@domain``: a local one, or a remote one this server
        has already seen (through federation)."""
        username, _, domain = acct.lstrip("@").partition("@")
        name, domain = username.lower(), domain.lower()
        parts = urlsplit(self.base_url)
        host = (parts.hostname or "").lower()
        if domain and domain not in {parts.netloc.lower(), host}:
            remote_id = self._remote.get((name, domain))
            return self.accounts.get(remote_id) if remote_id else None
        local = self.accounts.get(self._by_username.get(name, ""))
        if domain and domain == host != parts.netloc.lower():
            # "@user@127.0.0.1:4000" reads as user@127.0.0.1 (a mention's domain has no
            # port), which every sandbox instance on this host could be: only one may match.
            found = [local] if local else []
            found += [
                self.accounts[i]
                for (user, where), i in self._remote.items()
                if user == name and urlsplit(f"//{where}").hostname == domain
            ]
            return found[0] if len(found) == 1 else None
        return local

    def statuses_count(self, account_id: str) -> tuple[int, datetime | None]:
        return self._posted.get(account_id, (0, None))

    def account_json(self, account: Account, *, with_source: bool = False) -> dict[str, Any]:
        with self.lock:
            return entities.account_json(self, account, with_source=with_source)  # type: ignore[arg-type]


__all__ = ["AccountBook", "NotFound", "ValidationError"]
