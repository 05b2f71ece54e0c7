"""Accounts and sessions through the unmodified atproto client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from atproto import Client, SessionEvent, models
from atproto_client import exceptions

from chatbot.clock import FileClock, ManualClock
from chatbot.sandbox.bluesky import BlueskyApp
from chatbot.text.tid import decode_tid

from .conftest import PASSWORD, Sandbox


def test_create_account_then_log_in_by_handle_did_and_email(bsky: Sandbox) -> None:
    client = bsky.client()
    created = client.com.atproto.server.create_account(
        models.ComAtprotoServerCreateAccount.Data(
            handle="carol.test", password="pw-carol", email="carol@example.com"
        )
    )
    assert created.handle == "carol.test"
    assert created.did.startswith("did:plc:") and len(created.did) == len("did:plc:") + 24
    for identifier in ("carol.test", created.did, "carol@example.com"):
        profile = bsky.client().login(identifier, "pw-carol")
        assert profile is not None and profile.did == created.did


def test_dids_are_deterministic_from_the_handle(make_sandbox) -> None:
    first = make_sandbox().store.create_account("dave.test", "x")
    second = make_sandbox().store.create_account("dave.test", "y")
    assert first.did == second.did


def test_taken_and_invalid_handles_are_refused(bsky: Sandbox) -> None:
    # The reference PDS's answers (tests/conformance/test_accounts.py checks both).
    client = bsky.client()
    bsky.store.create_account("erin.test", "x")
    cases = (
        ("erin.test", "InvalidRequest"),
        ("not a handle", "InvalidRequest"),
        ("erin.example.org", "UnsupportedDomain"),
        ("ab.test", "InvalidHandle"),
    )
    for handle, error in cases:
        with pytest.raises(exceptions.BadRequestError) as caught:
            client.com.atproto.server.create_account(
                models.ComAtprotoServerCreateAccount.Data(
                    handle=handle, password="x", email="erin@example.com"
                )
            )
        assert caught.value.response.content.error == error


def test_wrong_password_is_401_authentication_required(bsky: Sandbox) -> None:
    bsky.store.create_account("frank.test", PASSWORD)
    with pytest.raises(exceptions.UnauthorizedError) as caught:
        bsky.client().login("frank.test", "wrong")
    assert caught.value.response.status_code == 401
    assert caught.value.response.content.error == "AuthenticationRequired"
    assert caught.value.response.content.message == "Invalid identifier or password"


def test_get_session_describe_server_and_resolve_handle(bsky: Sandbox) -> None:
    client = bsky.client("gina.test")
    session = client.com.atproto.server.get_session()
    assert (session.handle, session.active) == ("gina.test", True)
    assert ".test" in client.com.atproto.server.describe_server().available_user_domains
    resolved = client.com.atproto.identity.resolve_handle({"handle": "gina.test"})
    assert resolved.did == session.did
    with pytest.raises(exceptions.BadRequestError):
        client.com.atproto.identity.resolve_handle({"handle": "nobody.test"})


def test_session_string_is_reused_without_logging_in_again(bsky: Sandbox) -> None:
    first = bsky.client("hank.test")
    saved = first.export_session_string()
    again = Client(base_url=bsky.url)
    bsky.clients.append(again)
    again.login(session_string=saved)
    posted = again.send_post("reused session")
    assert posted.uri.startswith(f"at://{again.me.did}/app.bsky.feed.post/")


def test_client_refreshes_when_the_server_clock_says_the_token_is_nearly_expired(
    make_sandbox, clock: ManualClock
) -> None:
    # Server time runs 1 h 50 min behind the client's: its 2-hour tokens look
    # 10 minutes from expiry to the client, which refreshes before its next call.
    clock.advance(hours=-1, minutes=-50)
    sandbox = make_sandbox(BlueskyApp(clock=clock))
    events: list[SessionEvent] = []
    client = sandbox.client()
    client.on_session_change(lambda event, session: events.append(event))
    sandbox.store.create_account("ivy.test", PASSWORD)
    client.login("ivy.test", PASSWORD)
    before_refresh = client._session.refresh_jwt
    client.send_post("after refresh")
    assert SessionEvent.REFRESH in events
    assert client._session.refresh_jwt != before_refresh


def test_accelerated_clock_expires_tokens_and_a_clocked_client_refreshes(
    make_sandbox, clock: ManualClock
) -> None:
    sandbox = make_sandbox(BlueskyApp(clock=clock))

    class ClockedClient(Client):
        # The SDK decides when to refresh from get_current_time(); a bot on the
        # sandbox's accelerated clock gives it the same clock.
        def get_current_time(self) -> datetime:
            return clock.now()

    sandbox.store.create_account("jack.test", PASSWORD)
    plain = sandbox.client("jack.test")
    clocked = ClockedClient(base_url=sandbox.url)
    sandbox.clients.append(clocked)
    clocked.login("jack.test", PASSWORD)
    clock.advance(hours=3)  # 3 virtual hours: both access tokens have expired
    with pytest.raises(exceptions.BadRequestError) as caught:
        plain.send_post("too late")
    assert caught.value.response.content.error == "ExpiredToken"
    assert clocked.send_post("refreshed in time").uri
    clock.advance(days=91)  # past the refresh token too: only a new login helps
    with pytest.raises(exceptions.BadRequestError):
        clocked.send_post("refresh token expired")


def test_refresh_tokens_rotate_with_a_grace_period(bsky: Sandbox, clock: ManualClock) -> None:
    client = bsky.client("kate.test")
    old_refresh = client._session.refresh_jwt
    client._refresh_and_set_session()
    assert client._session.refresh_jwt != old_refresh
    clock.advance(hours=3)
    client._session.refresh_jwt = old_refresh
    with pytest.raises(exceptions.BadRequestError) as caught:
        client._refresh_and_set_session()
    assert caught.value.response.content.error == "ExpiredToken"


def test_access_token_cannot_refresh_and_garbage_is_invalid(bsky: Sandbox) -> None:
    client = bsky.client("liam.test")
    client._session.refresh_jwt = client._session.access_jwt
    with pytest.raises(exceptions.BadRequestError) as caught:
        client._refresh_and_set_session()
    assert caught.value.response.content.error == "InvalidToken"


def test_create_session_is_limited_per_account(bsky: Sandbox) -> None:
    bsky.store.create_account("mia.test", PASSWORD)
    client = bsky.client()
    for _ in range(30):
        client.login("mia.test", PASSWORD, fetch_bsky_profile=False)
    with pytest.raises(exceptions.RateLimitExceededError) as caught:
        client.login("mia.test", PASSWORD, fetch_bsky_profile=False)
    error = caught.value
    assert (error.limit, error.remaining, error.policy) == (30, 0, "30;w=300")
    assert error.reset_at is not None


def test_shared_clock_end_to_end(make_sandbox, tmp_path) -> None:
    # The clock a test shares with a bot process (a file only the test moves):
    # three hours outlive an access token, whatever the machine's speed.
    clock = FileClock(tmp_path / "clock", start=datetime.now(UTC).replace(microsecond=0))
    sandbox = make_sandbox(BlueskyApp(clock=clock))

    class ClockedClient(Client):
        def get_current_time(self) -> datetime:
            return clock.now()

    sandbox.store.create_account("kim.test", PASSWORD)
    client = ClockedClient(base_url=sandbox.url)
    sandbox.clients.append(client)
    refreshes: list[SessionEvent] = []
    client.on_session_change(lambda event, session: refreshes.append(event))
    client.login("kim.test", PASSWORD)
    first = client.send_post("before")
    clock.advance(hours=3)
    second = client.send_post("after")
    assert SessionEvent.REFRESH in refreshes
    gap_us = (
        decode_tid(second.uri.rsplit("/", 1)[1])[0] - decode_tid(first.uri.rsplit("/", 1)[1])[0]
    )
    assert gap_us == 3 * 3600 * 1_000_000  # record keys come from the shared clock
