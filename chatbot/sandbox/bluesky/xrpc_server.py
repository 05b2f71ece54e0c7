"""com.atproto.server.* and com.atproto.identity.*: accounts, sessions, handles."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from chatbot.sandbox.bluesky.auth import REFRESH_SCOPE
from chatbot.sandbox.bluesky.params import body, field, required
from chatbot.sandbox.bluesky.ratelimit import CREATE_SESSION
from chatbot.sandbox.bluesky.store import Account, StoreError
from chatbot.sandbox.web import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.base import BlueskyBase

USER_DOMAINS = (".test",)
_HANDLE_SYNTAX = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _session(app: BlueskyBase, account: Account) -> dict[str, Any]:
    access, refresh = app.tokens.issue(account.did)
    result: dict[str, Any] = {
        "accessJwt": access,
        "refreshJwt": refresh,
        "handle": account.handle,
        "did": account.did,
    }
    return result


def _account_info(account: Account) -> dict[str, Any]:
    info: dict[str, Any] = {"handle": account.handle, "did": account.did}
    if account.email:
        info["email"] = account.email
        info["emailConfirmed"] = False
    info["active"] = True
    return info


def check_new_account(handle: str, email: Any) -> None:
    """Refuse a sign-up as the reference PDS does, in its order and with its errors.

    The store's own ``create_account`` (for scripts and the crowd) takes any
    domain name and no e-mail; the XRPC endpoint is as strict as the real PDS.
    """
    if not _HANDLE_SYNTAX.match(handle) or len(handle) > 253:
        raise HttpError(400, "InvalidRequest", f'Invalid handle (got "{handle}") at $.handle')
    if not email:
        raise HttpError(400, "InvalidRequest", "Email is required")
    if not _EMAIL.match(str(email)):
        message = "This email address is not supported, please use a different email."
        raise HttpError(400, "InvalidRequest", message)
    domain = next((d for d in USER_DOMAINS if handle.lower().endswith(d)), None)
    if domain is None:
        raise HttpError(400, "UnsupportedDomain", "Not a supported handle domain")
    front = handle[: -len(domain)]
    if "." in front:
        raise HttpError(400, "InvalidHandle", "Invalid characters in handle")
    if len(front) < 3:
        raise HttpError(400, "InvalidHandle", "Handle too short")
    if len(front) > 18:
        raise HttpError(400, "InvalidHandle", "Handle too long")


def register(app: BlueskyBase) -> None:
    def create_account(request: Request) -> dict[str, Any]:
        data = body(request)
        handle, email = str(field(data, "handle")), data.get("email")
        check_new_account(handle, email)
        # The PDS takes an account without a password (it can only log in by other means).
        password = data.get("password") or secrets.token_urlsafe(32)
        try:
            account = app.store.create_account(handle, str(password), email=email)
        except StoreError as error:
            # The reference PDS answers a taken handle with InvalidRequest, not the
            # lexicon's HandleNotAvailable.
            raise HttpError(400, "InvalidRequest", error.message) from None
        return _session(app, account)

    def create_session(request: Request) -> Response:
        data = body(request)
        identifier = str(field(data, "identifier"))
        password = str(field(data, "password"))
        # Limited per identifier, so a bot that logs in per post finds out (PLATFORMS.md).
        status = app.spend(request, CREATE_SESSION, identifier.lower())
        account = app.store.check_password(identifier, password)
        if account is None:
            raise HttpError(401, "AuthenticationRequired", "Invalid identifier or password")
        return json_response(
            _session(app, account) | _account_info(account), headers=status.headers()
        )

    def no_body(request: Request) -> None:
        if request.body.strip():
            message = "A request body was provided when none was expected"
            raise HttpError(400, "InvalidRequest", message)

    def refresh_session(request: Request) -> dict[str, Any]:
        no_body(request)
        claims = app.tokens.verify(request.bearer_token, REFRESH_SCOPE)
        account = app.store.account(claims.did)
        if account is None:
            raise HttpError(400, "AccountNotFound", "Account not found")
        app.tokens.rotate(claims)
        return _session(app, account) | _account_info(account)

    def get_session(request: Request) -> dict[str, Any]:
        return _account_info(app.authed(request))

    def delete_session(request: Request) -> Response:
        no_body(request)
        app.tokens.revoke(app.tokens.verify(request.bearer_token, REFRESH_SCOPE))
        return Response(status=200, body=b"")

    def describe_server(request: Request) -> dict[str, Any]:
        return {
            "did": app.service_did,
            "availableUserDomains": list(USER_DOMAINS),
            "inviteCodeRequired": False,
            "phoneVerificationRequired": False,
            "links": {},
            "contact": {},
        }

    def resolve_handle(request: Request) -> dict[str, Any]:
        did = app.store.resolve_handle(required(request, "handle"))
        if did is None:
            raise HttpError(400, "HandleNotFound", "Unable to resolve handle")
        return {"did": did}

    app.procedure("com.atproto.server.createAccount", create_account)
    app.procedure("com.atproto.server.createSession", create_session)
    app.procedure("com.atproto.server.refreshSession", refresh_session)
    app.procedure("com.atproto.server.deleteSession", delete_session)
    app.query("com.atproto.server.getSession", get_session)
    app.query("com.atproto.server.describeServer", describe_server)
    app.query("com.atproto.identity.resolveHandle", resolve_handle)


__all__ = ["register"]
