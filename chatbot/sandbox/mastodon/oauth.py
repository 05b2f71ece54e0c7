"""The OAuth authorization-code flow of the sandbox Mastodon: ``/oauth/authorize`` and its codes.

A person (or a test acting as one) opens the authorisation URL an app
built, signs in as an account and approves; the page then shows a one-time
code (out-of-band redirect) or redirects to the app's URI with it. The app
trades the code for a token at ``POST /oauth/token`` (``api_accounts``).

Sandbox shortcuts, since its accounts are throwaway: an account made
without a password is approved by its username alone, and
``GET /oauth/authorize?...&login=USERNAME`` approves such an account at once.
Codes are single-use and expire after 10 minutes of real time (not the
sandbox clock, which may run 60 times faster than the person typing).
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from chatbot.sandbox.mastodon import scopes as oauth_scopes
from chatbot.sandbox.mastodon.records import Account, App
from chatbot.sandbox.web import Request, Response

if TYPE_CHECKING:
    from chatbot.sandbox.mastodon.base import MastodonBase

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_SECONDS = 600.0
DEFAULT_SCOPE = "read"
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Grant:
    """An approved authorisation request, redeemable once for a token."""

    code: str
    client_id: str
    account_id: str
    scopes: str
    redirect_uri: str
    expires: float  # time.monotonic()


class Grants:
    """The codes issued and not yet redeemed (or expired)."""

    def __init__(self) -> None:
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str, account_id: str, scopes: str, redirect_uri: str) -> Grant:
        grant = Grant(
            secrets.token_urlsafe(32),
            client_id,
            account_id,
            scopes,
            redirect_uri,
            time.monotonic() + CODE_SECONDS,
        )
        with self._lock:
            self._grants[grant.code] = grant
        return grant

    def redeem(self, code: str, client_id: str, redirect_uri: str) -> Grant | None:
        """The grant for ``code`` if it was issued to this client and URI and is fresh; once."""
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None or grant.expires < time.monotonic():
            return None
        if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
            return None
        return grant


@dataclass(frozen=True)
class AuthRequest:
    app: App
    redirect_uri: str
    scopes: str
    state: str


class Refused(Exception):
    """An authorisation request the server can't serve; shown as an error page."""

    def __init__(self, status: int, error: str, description: str):
        self.status = status
        self.error = error
        self.description = description
        super().__init__(description)


def register(app: MastodonBase, grants: Grants) -> None:
    store = app.store

    def parse(request: Request) -> AuthRequest:
        client = store.apps.get(request.param("client_id") or "")
        if client is None:
            raise Refused(401, "invalid_client", "Client authentication failed: unknown client.")
        redirect_uri = request.param("redirect_uri") or ""
        if redirect_uri not in client.redirect_uri.split():
            raise Refused(400, "invalid_redirect_uri", "The redirect URI included is not valid.")
        if request.param("response_type") != "code":
            raise Refused(
                400,
                "unsupported_response_type",
                "The authorization server does not support "
                "this response type (use response_type=code).",
            )
        requested = oauth_scopes.split(request.param("scope")) or [DEFAULT_SCOPE]
        if oauth_scopes.unknown(requested) or not oauth_scopes.subset(
            requested, oauth_scopes.split(client.scopes)
        ):
            raise Refused(
                400, "invalid_scope", "The requested scope is invalid, unknown, or malformed."
            )
        return AuthRequest(client, redirect_uri, " ".join(requested), request.param("state") or "")

    def approve(asked: AuthRequest, account: Account) -> Response:
        grant = grants.issue(asked.app.client_id, account.id, asked.scopes, asked.redirect_uri)
        if asked.redirect_uri == OOB:
            return _page(
                "Authorization code",
                f"<p>Copy this authorization code and paste it into {_e(asked.app.name)}:</p>"
                f'<p><code id="code">{_e(grant.code)}</code></p>'
                f"<p>Scopes granted: {_e(asked.scopes)}</p>",
            )
        query = {"code": grant.code} | ({"state": asked.state} if asked.state else {})
        joiner = "&" if urlsplit(asked.redirect_uri).query else "?"
        location = asked.redirect_uri + joiner + urlencode(query)
        return Response(302, b"", "text/html; charset=utf-8", {"Location": location})

    def show(request: Request) -> Response:
        try:
            asked = parse(request)
        except Refused as refused:
            return _error_page(refused)
        login = request.arg("login")
        if login:
            account = store.account_by_login(login)
            if account is not None and account.password is None:
                return approve(asked, account)
        return _form(asked, login or "", "")

    def submit(request: Request) -> Response:
        try:
            asked = parse(request)
        except Refused as refused:
            return _error_page(refused)
        login = request.param("login") or ""
        account = store.account_by_login(login) if login else None
        if account is None or (
            account.password is not None
            and not secrets.compare_digest(
                account.password.encode(), (request.param("password") or "").encode()
            )
        ):
            return _form(asked, login, "Invalid login or password.", status=401)
        return approve(asked, account)

    app.route("GET", "/oauth/authorize", show, None)
    app.route("POST", "/oauth/authorize", submit, None)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f"<title>{_e(title)} · Mastodon sandbox</title>\n</head>\n<body>\n"
        "<p>Mastodon sandbox (a local stand-in; nothing here is real)</p>\n"
        f"<h1>{_e(title)}</h1>\n{body}\n</body>\n</html>\n"
    )
    return Response(status, document.encode("utf-8"), "text/html; charset=utf-8", PAGE_HEADERS)


def _error_page(refused: Refused) -> Response:
    return _page(
        "Authorization failed",
        f"<p>{_e(refused.description)}</p><p>Error: <code>{_e(refused.error)}</code></p>",
        refused.status,
    )


def _form(asked: AuthRequest, login: str, problem: str, status: int = 200) -> Response:
    hidden = {
        "client_id": asked.app.client_id,
        "redirect_uri": asked.redirect_uri,
        "response_type": "code",
        "scope": asked.scopes,
        "state": asked.state,
    }
    fields = "".join(
        f'<input type="hidden" name="{_e(name)}" value="{_e(value)}">'
        for name, value in hidden.items()
    )
    warning = f'<p role="alert">{_e(problem)}</p>' if problem else ""
    body = (
        f"<p>{_e(asked.app.name)} would like to use your account, with the scopes "
        f"<strong>{_e(asked.scopes)}</strong>.</p>{warning}"
        '<form method="post" action="/oauth/authorize">'
        f"{fields}"
        f'<p><label>Username or e-mail <input name="login" value="{_e(login)}"></label></p>'
        '<p><label>Password <input name="password" type="password"></label> '
        "(none for an account made without one)</p>"
        '<p><button type="submit">Authorize</button></p></form>'
    )
    return _page("Authorize " + asked.app.name, body, status)


__all__ = ["OOB", "Grant", "Grants", "register"]
