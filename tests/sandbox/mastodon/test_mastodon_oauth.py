"""The authorization-code flow and token scopes, through the unmodified Mastodon.py client."""

from __future__ import annotations

import pytest
import requests
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError, MastodonIllegalArgumentError

from tests.oauth_browser import authorise, open_page, sign_in

from .conftest import PASSWORD, Sandbox

BOT_SCOPES = ["read:statuses", "write:statuses", "profile"]


def _app(sandbox: Sandbox, scopes: list[str], name: str = "chatbot") -> Mastodon:
    client_id, secret = Mastodon.create_app(name, scopes=scopes, api_base_url=sandbox.url)
    return sandbox.client(client_id=client_id, client_secret=secret)


def _login(sandbox: Sandbox, api: Mastodon, scopes: list[str], who: str = "alice") -> str:
    url = api.auth_request_url(scopes=scopes, allow_http=True)
    code = authorise(url, f"{who}@example.org", PASSWORD)
    return str(api.log_in(code=code, scopes=scopes, allow_http=True))


def test_code_flow_gives_a_token_with_the_approved_scopes(sandbox: Sandbox, alice: Mastodon):
    api = _app(sandbox, BOT_SCOPES)
    token = _login(sandbox, api, BOT_SCOPES)
    bot = sandbox.client(token)
    assert bot.account_verify_credentials().acct == "alice"
    assert sorted(bot.app_verify_credentials().scopes) == sorted(BOT_SCOPES)
    assert bot.status_post("Q1 hello #sm35").account.acct == "alice"
    assert bot.ratelimit_remaining is not None and bot.ratelimit_limit == 300


def test_a_token_without_write_statuses_cannot_post(sandbox: Sandbox, alice: Mastodon):
    api = _app(sandbox, ["read:statuses", "profile"])
    reader = sandbox.client(_login(sandbox, api, ["read:statuses", "profile"]))
    assert reader.account_verify_credentials().acct == "alice"
    with pytest.raises(MastodonAPIError) as refused:
        reader.status_post("not allowed")
    assert refused.value.args[1] == 403
    assert "outside the authorized scopes" in str(refused.value)
    assert not sandbox.store.visible_statuses(lambda s: True)


def test_a_token_without_an_account_scope_cannot_verify_credentials(
    sandbox: Sandbox, alice: Mastodon
):
    api = _app(sandbox, ["write:statuses"])
    writer = sandbox.client(_login(sandbox, api, ["write:statuses"]))
    with pytest.raises(MastodonAPIError) as refused:
        writer.account_verify_credentials()
    assert refused.value.args[1] == 403
    posted = writer.status_post("posting is allowed")
    with pytest.raises(MastodonAPIError):
        writer.status(posted.id)  # reading needs read:statuses


def test_a_code_works_once_for_its_client_only(sandbox: Sandbox, alice: Mastodon):
    api = _app(sandbox, BOT_SCOPES)
    code = authorise(api.auth_request_url(scopes=BOT_SCOPES, allow_http=True), "alice", PASSWORD)
    other = _app(sandbox, BOT_SCOPES, name="another app")
    with pytest.raises(MastodonIllegalArgumentError):
        other.log_in(code=code, scopes=BOT_SCOPES, allow_http=True)
    # Redeeming with the wrong client spent it, as a code is single-use.
    with pytest.raises(MastodonIllegalArgumentError):
        api.log_in(code=code, scopes=BOT_SCOPES, allow_http=True)
    with pytest.raises(MastodonIllegalArgumentError):
        api.log_in(code="not-a-code", scopes=BOT_SCOPES, allow_http=True)


def test_wrong_password_shows_the_form_again_without_a_code(sandbox: Sandbox, alice: Mastodon):
    api = _app(sandbox, BOT_SCOPES)
    page = sign_in(api.auth_request_url(scopes=BOT_SCOPES, allow_http=True), "alice", "wrong")
    assert page.status == 401 and not page.code
    assert "Invalid login or password" in page.text


def test_passwordless_accounts_are_approved_by_login(sandbox: Sandbox):
    bot = sandbox.store.create_account("bot", bot=True)
    api = _app(sandbox, BOT_SCOPES)
    page = open_page(api.auth_request_url(scopes=BOT_SCOPES, allow_http=True) + "&login=bot")
    assert page.code
    token = api.log_in(code=page.code, scopes=BOT_SCOPES, allow_http=True)
    assert sandbox.client(token).account_verify_credentials().id == bot["id"]


def test_the_page_escapes_the_app_name(sandbox: Sandbox):
    api = _app(sandbox, BOT_SCOPES, name='<script>alert("x")</script>')
    page = open_page(api.auth_request_url(scopes=BOT_SCOPES, allow_http=True))
    assert page.status == 200 and "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"client_id": "unknown"}, 401, "invalid_client"),
        ({"scope": "read:statuses write"}, 400, "invalid_scope"),
        ({"scope": "read:everything"}, 400, "invalid_scope"),
        ({"redirect_uri": "https://evil.example/"}, 400, "invalid_redirect_uri"),
        ({"response_type": "token"}, 400, "unsupported_response_type"),
    ],
)
def test_bad_authorisation_requests_get_an_error_page(
    sandbox: Sandbox, change: dict[str, str], status: int, error: str
):
    client_id, _ = Mastodon.create_app("chatbot", scopes=BOT_SCOPES, api_base_url=sandbox.url)
    params = {
        "client_id": client_id,
        "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
        "response_type": "code",
        "scope": " ".join(BOT_SCOPES),
    } | change
    answer = requests.get(f"{sandbox.url}/oauth/authorize", params=params, timeout=10)
    assert answer.status_code == status and error in answer.text
    assert "<form" not in answer.text


def test_apps_with_unknown_scopes_are_refused(sandbox: Sandbox):
    answer = requests.post(
        f"{sandbox.url}/api/v1/apps",
        data={"client_name": "x", "scopes": "read:statuses write:everything"},
        timeout=10,
    )
    assert answer.status_code == 422


def test_metadata_lists_granular_scopes_and_the_code_grant(sandbox: Sandbox):
    info = sandbox.client().oauth_authorization_server_info()
    assert {"profile", "read:statuses", "write:statuses", "read:accounts"} <= set(
        info["scopes_supported"]
    )
    assert "authorization_code" in info["grant_types_supported"]
