"""Accounts for scripted participants, logging in, and reusing a session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from atproto import Client, models
from atproto_client import exceptions

from chatbot.errors import AuthError
from chatbot.platforms.session import SessionCache

from .conftest import Target, eventually


def refused(call: Callable[[], object]) -> tuple[int, str]:
    """(status, XRPC error name) of a refused call; (200, "accepted") if it succeeds."""
    try:
        call()
    except exceptions.RequestErrorBase as error:
        assert error.response is not None
        return error.response.status_code, error.response.content.error
    return 200, "accepted"


def new_account(
    target: Target, handle: str, email: str | None, password: str = "pw-123456"
) -> models.ComAtprotoServerCreateAccount.Response:
    data = models.ComAtprotoServerCreateAccount.Data(handle=handle, password=password, email=email)
    return target.client().com.atproto.server.create_account(data)


def test_accounts_need_no_invite_code(target: Target) -> None:
    described = target.client().com.atproto.server.describe_server()
    assert described.invite_code_required is False
    assert ".test" in described.available_user_domains


def test_create_account_answers_a_session(target: Target) -> None:
    handle = target.handle("new")
    created = new_account(target, handle, f"{handle.split('.')[0]}@example.com")
    assert created.handle == handle and created.did.startswith("did:plc:")
    assert created.access_jwt and created.refresh_jwt
    # A participant script logs in with the profile fetch the client does by default;
    # the reference AppView may not have indexed the new profile for a moment.
    profile = eventually(lambda: Client(base_url=target.url).login(handle, "pw-123456"))
    assert profile.did == created.did


def test_create_account_refusals(target: Target) -> None:
    account = target.create_account("dup")
    other = target.handle("oth")
    fresh = f"{other.split('.')[0]}@example.com"
    cases = {
        "taken handle": (account.handle, fresh, (400, "InvalidRequest")),
        "taken email": (other, account.email, (400, "InvalidRequest")),
        "no email": (other, None, (400, "InvalidRequest")),
        "bad email": (other, "not-an-email", (400, "InvalidRequest")),
        "bad syntax": ("bad_handle.test", fresh, (400, "InvalidRequest")),
        "other domain": (f"{other.split('.')[0]}.example.org", fresh, (400, "UnsupportedDomain")),
        "too short": ("ab.test", fresh, (400, "InvalidHandle")),
        "too long": ("a" * 19 + ".test", fresh, (400, "InvalidHandle")),
        "dotted": (f"a.{other}", fresh, (400, "InvalidHandle")),
    }
    answers = {
        name: refused(lambda h=handle, e=email: new_account(target, h, e))
        for name, (handle, email, _) in cases.items()
    }
    assert answers == {name: expected for name, (_, _, expected) in cases.items()}


def test_wrong_password_is_an_auth_error(target: Target) -> None:
    account = target.create_account("pw")
    with pytest.raises(exceptions.UnauthorizedError) as caught:
        Client(base_url=target.url).login(account.handle, "wrong password")
    assert caught.value.response.content.error == "AuthenticationRequired"
    platform = target.platform(replace(account, password="wrong password"))
    with pytest.raises(AuthError):
        platform.account()


def test_session_is_reused_not_recreated(target: Target, tmp_path: Path) -> None:
    account = target.create_account("ses")
    cache = SessionCache(tmp_path / "session")
    first = target.platform(account, session_cache=cache)
    assert first.did == account.did
    token = first.client()._session.access_jwt  # type: ignore[union-attr]

    # A restarted bot resumes the stored session: same token, no createSession.
    second = target.platform(account, session_cache=SessionCache(tmp_path / "session"))
    assert second.did == account.did
    assert second.client()._session.access_jwt == token  # type: ignore[union-attr]
    # getProfile answers 400 "Profile not found" until the AppView has indexed the
    # new account (the reference lags well under a second; the sandbox doesn't).
    assert eventually(second.account).handle == account.handle


def test_dead_cached_session_falls_back_to_logging_in(target: Target, tmp_path: Path) -> None:
    account = target.create_account("dead")
    live = target.platform(account).client().export_session_string()
    handle, did, access, refresh, *rest = live.split(":::")
    # Tokens signed by someone else: the server answers 400 InvalidToken on both.
    forged = ":::".join([handle, did, forge(access), forge(refresh), *rest])
    for name, stored in (("forged", forged), ("garbled", "not a session string")):
        cache = SessionCache(tmp_path / name)
        cache.save(stored)
        platform = target.platform(account, session_cache=cache)
        assert platform.did == account.did
        assert eventually(platform.account).handle == account.handle
        assert cache.load() not in (stored, live)  # a fresh session was stored


def forge(jwt: str) -> str:
    header, payload, _ = jwt.split(".")
    return f"{header}.{payload}.{'A' * 43}"
