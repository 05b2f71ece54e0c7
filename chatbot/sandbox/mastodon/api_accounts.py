"""Apps, OAuth tokens, accounts and the instance document of the sandbox Mastodon."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatbot.sandbox.mastodon import entities, oauth
from chatbot.sandbox.mastodon import scopes as oauth_scopes
from chatbot.sandbox.mastodon.records import Token
from chatbot.sandbox.mastodon.store import ValidationError
from chatbot.sandbox.web import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from chatbot.sandbox.mastodon.base import MastodonBase

DEFAULT_SCOPES = "read write follow push"
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)


def flag(value: str | None) -> bool:
    """Mastodon.py sends booleans as "1"/"0"; other clients send "true"/"false"."""
    return (value or "").strip().lower() in {"1", "true", "on", "yes"}


def token_json(token: Token) -> dict[str, Any]:
    return {
        "access_token": token.token,
        "token_type": "Bearer",
        "scope": token.scopes,
        "created_at": int(token.created_at.timestamp()),
    }


def register(app: MastodonBase) -> None:
    store = app.store
    grants = oauth.Grants()
    oauth.register(app, grants)

    def oauth_server(request: Request) -> Response:
        base = store.base_url
        # The endpoints are http:// here, so Mastodon.py's log_in() needs allow_http=True,
        # as it does for any server without TLS. "password" is listed (Mastodon dropped it
        # in 4.4) so that scripted accounts can log in. Scopes: every one Mastodon 4.3+ lists.
        return json_response(
            {
                "issuer": f"{base}/",
                "service_documentation": "https://docs.joinmastodon.org/",
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "userinfo_endpoint": f"{base}/oauth/userinfo",
                "scopes_supported": list(oauth_scopes.SUPPORTED),
                "response_types_supported": ["code"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "grant_types_supported": ["authorization_code", "password", "client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def create_app(request: Request) -> Response:
        name = request.param("client_name") or ""
        if not name.strip():
            raise HttpError(422, "Validation failed: Application name can't be blank")
        redirect = request.param("redirect_uris") or "urn:ietf:wg:oauth:2.0:oob"
        scopes = request.param("scopes") or "read"
        if oauth_scopes.unknown(oauth_scopes.split(scopes)):
            raise HttpError(422, "Validation failed: Scopes are invalid")
        created = store.create_app(
            name, website=request.param("website"), redirect_uri=redirect, scopes=scopes
        )
        return json_response(
            {
                "id": created.id,
                "name": created.name,
                "website": created.website,
                "scopes": created.scopes.split(),
                "redirect_uris": created.redirect_uri.split(),
                "vapid_key": "",
                "redirect_uri": created.redirect_uri,
                "client_id": created.client_id,
                "client_secret": created.client_secret,
                "client_secret_expires_at": 0,
            }
        )

    def verify_app(request: Request) -> Response:
        token = app.auth(request, user=False)
        assert token is not None
        name = token.app.name if token.app else "Web"
        website = token.app.website if token.app else None
        scopes = token.scopes.split()
        return json_response(
            {
                "id": token.app.id if token.app else "0",
                "name": name,
                "website": website,
                "scopes": scopes,
            }
        )

    def oauth_token(request: Request) -> Response:
        client = store.apps.get(request.param("client_id") or "")
        if client is None or client.client_secret != request.param("client_secret"):
            return _oauth_error(
                "invalid_client", "Client authentication failed due to unknown client.", 401
            )
        scopes = request.param("scope") or client.scopes
        if not oauth_scopes.subset(oauth_scopes.split(scopes), oauth_scopes.split(client.scopes)):
            return _oauth_error(
                "invalid_scope", "The requested scope is invalid, unknown, or malformed.", 400
            )
        grant = request.param("grant_type")
        if grant == "authorization_code":
            # The token gets the scopes the person approved, whatever this request says.
            approved = grants.redeem(
                request.param("code") or "", client.client_id, request.param("redirect_uri") or ""
            )
            if approved is None:
                return _oauth_error("invalid_grant", INVALID_GRANT, 400)
            issued = store.issue_token(approved.account_id, app=client, scopes=approved.scopes)
            return json_response(token_json(issued))
        if grant == "client_credentials":
            return json_response(token_json(store.issue_token(None, app=client, scopes=scopes)))
        if grant == "password":
            account = store.account_by_login(request.param("username") or "")
            if (
                account is None
                or account.password is None
                or account.password != request.param("password")
            ):
                return _oauth_error("invalid_grant", INVALID_GRANT, 400)
            return json_response(
                token_json(store.issue_token(account.id, app=client, scopes=scopes))
            )
        return _oauth_error(
            "unsupported_grant_type", "The authorization grant type is not supported.", 400
        )

    def revoke(request: Request) -> Response:
        with store.lock:
            store.tokens.pop(request.param("token") or "", None)
        return json_response({})

    def create_account(request: Request) -> Response:
        token = app.auth(request, user=False)
        assert token is not None
        username = request.param("username") or ""
        email = request.param("email") or ""
        password = request.param("password") or ""
        details: dict[str, list[dict[str, str]]] = {}
        if "@" not in email:
            details["email"] = [{"error": "ERR_INVALID", "description": "is invalid"}]
        if len(password) < 8:
            details["password"] = [
                {"error": "ERR_TOO_SHORT", "description": "is too short (minimum is 8 characters)"}
            ]
        if not flag(request.param("agreement")):
            details["agreement"] = [{"error": "ERR_ACCEPTED", "description": "must be accepted"}]
        if not details:
            try:
                account = store.add_account(
                    username, email=email, password=password, language=request.param("locale")
                )
            except ValidationError as error:
                code = "ERR_TAKEN" if "taken" in str(error) else "ERR_INVALID"
                details["username"] = [{"error": code, "description": str(error)}]
        if details:
            summary = ", ".join(
                f"{field.capitalize()} {items[0]['description']}"
                for field, items in details.items()
            )
            return json_response(
                {"error": f"Validation failed: {summary}", "details": details}, 422
            )
        issued = store.issue_token(account.id, app=token.app, scopes=token.scopes or DEFAULT_SCOPES)
        return json_response(token_json(issued))

    def verify_credentials(request: Request) -> Response:
        token = app.auth(request)
        assert token is not None and token.account_id is not None
        oauth_scopes.require(token, "read:accounts", "profile")
        account = store.account(token.account_id)
        if account is None:
            raise HttpError(401, "The access token is invalid")
        return json_response(store.account_json(account, with_source=True))

    def lookup(request: Request) -> Response:
        app.auth(request, required=False)
        account = store.lookup_account(request.arg("acct") or "")
        if account is None:
            raise HttpError(404, "Record not found")
        return json_response(store.account_json(account))

    def get_account(request: Request) -> Response:
        app.auth(request, required=False)
        account = store.account(request.path_params["id"])
        if account is None:
            raise HttpError(404, "Record not found")
        return json_response(store.account_json(account))

    def instance_v1(request: Request) -> Response:
        with store.lock:
            users = sum(1 for a in store.accounts.values() if a.local)
            statuses = sum(1 for s in store.statuses.values() if s.local and not s.deleted)
            domains = len({a.domain for a in store.accounts.values() if a.domain})
            body = entities.instance_v1(
                store, user_count=users, status_count=statuses, domain_count=domains
            )
        response = json_response(body)
        response.headers["Deprecation"] = "@1668384000"  # as 4.6 marks the v1 document
        return response

    def instance_v2(request: Request) -> Response:
        return json_response(entities.instance_v2(store))

    app.route("GET", "/.well-known/oauth-authorization-server", oauth_server, None)
    app.route("POST", "/api/v1/apps", create_app, None)
    app.route("GET", "/api/v1/apps/verify_credentials", verify_app)
    app.route("POST", "/oauth/token", oauth_token, None)
    app.route("POST", "/oauth/revoke", revoke, None)
    app.route("POST", "/api/v1/accounts", create_account, None)
    app.route("GET", "/api/v1/accounts/verify_credentials", verify_credentials)
    app.route("GET", "/api/v1/accounts/lookup", lookup)
    app.route("GET", "/api/v1/accounts/{id}", get_account)
    for path in ("/api/v1/instance", "/api/v1/instance/"):
        app.route("GET", path, instance_v1)
    for path in ("/api/v2/instance", "/api/v2/instance/"):
        app.route("GET", path, instance_v2)


def _oauth_error(error: str, description: str, status: int) -> Response:
    return json_response({"error": error, "error_description": description}, status)


__all__ = ["flag", "register", "token_json"]
