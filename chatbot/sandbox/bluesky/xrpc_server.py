"""com.atproto.server.* and com.atproto.identity.*: accounts, sessions, handles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatbot.sandbox.bluesky.auth import REFRESH_SCOPE
from chatbot.sandbox.bluesky.params import body, field, required
from chatbot.sandbox.bluesky.ratelimit import CREATE_SESSION
from chatbot.sandbox.bluesky.store import Account
from chatbot.sandbox.web import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.app import BlueskyApp


def _session(app: BlueskyApp, account: Account) -> dict[str, Any]:
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
    info["emailAuthFactor"] = False
    info["active"] = True
    return info


def register(app: BlueskyApp) -> None:
    def create_account(request: Request) -> dict[str, Any]:
        data = body(request)
        account = app.store.create_account(
            str(field(data, "handle")),
            str(field(data, "password")),
            email=data.get("email"),
        )
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

    def refresh_session(request: Request) -> dict[str, Any]:
        claims = app.tokens.verify(request.bearer_token, REFRESH_SCOPE)
        account = app.store.account(claims.did)
        if account is None:
            raise HttpError(400, "AccountNotFound", "Account not found")
        app.tokens.rotate(claims)
        return _session(app, account) | {"active": True}

    def get_session(request: Request) -> dict[str, Any]:
        return _account_info(app.authed(request))

    def delete_session(request: Request) -> Response:
        app.tokens.revoke(app.tokens.verify(request.bearer_token, REFRESH_SCOPE))
        return Response(status=200, body=b"")

    def describe_server(request: Request) -> dict[str, Any]:
        return {
            "did": app.service_did,
            "availableUserDomains": [".test"],
            "inviteCodeRequired": False,
            "phoneVerificationRequired": False,
            "links": {},
            "contact": {},
        }

    def resolve_handle(request: Request) -> dict[str, Any]:
        did = app.store.resolve_handle(required(request, "handle"))
        if did is None:
            raise HttpError(400, "InvalidRequest", "Unable to resolve handle")
        return {"did": did}

    app.procedure("com.atproto.server.createAccount", create_account)
    app.procedure("com.atproto.server.createSession", create_session)
    app.procedure("com.atproto.server.refreshSession", refresh_session)
    app.procedure("com.atproto.server.deleteSession", delete_session)
    app.query("com.atproto.server.getSession", get_session)
    app.query("com.atproto.server.describeServer", describe_server)
    app.query("com.atproto.identity.resolveHandle", resolve_handle)


__all__ = ["register"]
