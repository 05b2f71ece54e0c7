"""The login steps on each server profile the sandbox plays, with the unmodified Mastodon.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chatbot.platforms import connect
from chatbot.platforms.credentials import Credentials, MastodonCredentials
from chatbot.platforms.login_mastodon import (
    check_token,
    choose_scopes,
    finish_authorisation,
    instance_url,
    missing_scopes,
    start_authorisation,
)
from chatbot.sandbox.mastodon import MastodonApp
from chatbot.sandbox.server import SandboxHTTPServer
from tests.oauth_browser import authorise


@pytest.fixture(params=["mastodon", "gotosocial"])
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    app = MastodonApp(profile=request.param)
    running = SandboxHTTPServer(app).start()
    app.store.base_url = running.url
    app.store.create_account("bot", bot=True)  # no password: the sandbox approves by name
    yield running
    running.stop()


def test_code_flow_on_each_profile(server: Any):
    pending = start_authorisation(server.url, timeout=10)
    assert pending.scopes == [
        "read:statuses",
        "write:statuses",
        "profile",
        "read:search",
        "read:notifications",
    ]
    token = finish_authorisation(pending, authorise(pending.url, "bot"), timeout=10)
    account = check_token(server.url, token, timeout=10)
    assert account.acct == "bot" and account.scopes == pending.scopes
    assert account.rate is not None and 0 < account.rate.remaining <= account.rate.limit
    platform = connect("mastodon", Credentials(mastodon=MastodonCredentials(server.url, token)))
    assert platform.post("Q1 posted with a scoped token #sm35", key="scoped").id


def test_scopes_follow_what_the_server_lists():
    assert choose_scopes(["read", "profile"])[-1] == "profile"
    assert choose_scopes(None)[-1] == "read:accounts"  # no metadata: before Mastodon 4.3
    assert choose_scopes(["profile", "read:search"])[-1] == "read:search"  # asked where listed
    assert missing_scopes(["read", "write"]) == []
    assert missing_scopes(["read:statuses", "profile"]) == ["write:statuses"]
    assert missing_scopes(["write:statuses"]) == ["read:statuses", "profile or read:accounts"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("https://Mastodon.Social/", "https://mastodon.social"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_instance_addresses(typed: str, expected: str):
    assert instance_url(typed) == expected
