"""Faults and rate limits as the client sees them: the real service's exceptions and headers."""

from __future__ import annotations

import httpx
import pytest
from atproto import Client
from atproto_client import exceptions

from chatbot.clock import ManualClock
from chatbot.sandbox.bluesky import BlueskyApp
from chatbot.sandbox.bluesky.ratelimit import Policy
from chatbot.sandbox.faults import FaultInjector

from .conftest import Sandbox


def _only(sandbox: Sandbox, fault: str) -> None:
    sandbox.app.faults.settings.update({"rate": 1.0, "weights": {fault: 1.0}})


def test_every_response_carries_rate_limit_headers(bsky: Sandbox, clock: ManualClock) -> None:
    first = httpx.get(f"{bsky.url}/xrpc/com.atproto.server.describeServer")
    second = httpx.get(f"{bsky.url}/xrpc/app.bsky.actor.getProfile", params={"actor": "x.test"})
    assert second.status_code == 400
    for answer, remaining in ((first, "2999"), (second, "2998")):
        assert answer.headers["RateLimit-Limit"] == "3000"
        assert answer.headers["RateLimit-Remaining"] == remaining
        assert answer.headers["RateLimit-Policy"] == "3000;w=300"
        assert int(answer.headers["RateLimit-Reset"]) == int(clock.now().timestamp()) + 300


def test_the_per_ip_limit_yields_429_until_the_window_resets(
    make_sandbox, clock: ManualClock
) -> None:
    sandbox = make_sandbox(BlueskyApp(clock=clock, ip_policy=Policy("global-ip", 5, 300)))
    client = sandbox.client()
    for _ in range(5):
        client.com.atproto.server.describe_server()
    with pytest.raises(exceptions.RateLimitExceededError) as caught:
        client.com.atproto.server.describe_server()
    error = caught.value
    assert (error.limit, error.remaining, error.policy) == (5, 0, "5;w=300")
    assert error.response.content.error == "RateLimitExceeded"
    clock.advance(seconds=300)
    assert client.com.atproto.server.describe_server().did


def test_injected_429_has_reset_headers(bsky: Sandbox, clock: ManualClock) -> None:
    client = bsky.client()
    _only(bsky, "rate_limit")
    with pytest.raises(exceptions.RateLimitExceededError) as caught:
        client.com.atproto.server.describe_server()
    error = caught.value
    assert isinstance(error, exceptions.RequestException)
    assert error.remaining == 0 and error.limit == 3000
    assert error.reset_at is not None and error.reset_at > clock.now()


@pytest.mark.parametrize(
    ("fault", "status", "exception"),
    [
        ("server_error", 500, exceptions.RequestException),
        ("bad_gateway", 502, exceptions.NetworkError),
        ("unavailable", 503, exceptions.RequestException),
    ],
)
def test_injected_server_errors(bsky: Sandbox, fault: str, status: int, exception: type) -> None:
    client = bsky.client()
    _only(bsky, fault)
    with pytest.raises(exception) as caught:
        client.com.atproto.server.describe_server()
    assert type(caught.value) is exception
    assert caught.value.response.status_code == status
    assert "RateLimit-Limit".lower() in caught.value.response.headers


def test_dropped_connection_is_a_network_error(bsky: Sandbox) -> None:
    client = bsky.client()
    _only(bsky, "drop")
    with pytest.raises(exceptions.NetworkError) as caught:
        client.com.atproto.server.describe_server()
    assert caught.value.response is None


def test_unreachable_and_stopped_servers_are_network_errors(make_sandbox) -> None:
    sandbox = make_sandbox(BlueskyApp(faults=FaultInjector()))
    client = sandbox.client()
    sandbox.app.faults.settings.update({"unreachable": True})
    with pytest.raises(exceptions.NetworkError):
        client.com.atproto.server.describe_server()
    sandbox.app.faults.settings.update({"unreachable": False})
    assert client.com.atproto.server.describe_server().did
    url = sandbox.url
    sandbox.server.stop()
    sandbox.clients.clear()
    gone = Client(base_url=url)
    with pytest.raises(exceptions.NetworkError):
        gone.com.atproto.server.describe_server()
    gone.request.close()


def test_control_endpoints_are_never_faulted(bsky: Sandbox) -> None:
    _only(bsky, "server_error")
    assert httpx.get(f"{bsky.url}/_sandbox/health").json() == {"ok": True}


def test_unknown_methods_and_wrong_http_methods(bsky: Sandbox) -> None:
    token = bsky.client("nobody.test")._session.access_jwt  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {token}"}
    unknown = httpx.get(f"{bsky.url}/xrpc/com.example.nothing", headers=headers)
    assert unknown.status_code == 501 and unknown.json()["error"] == "MethodNotImplemented"
    # Without a token the reference PDS refuses before it would proxy the call.
    anonymous = httpx.get(f"{bsky.url}/xrpc/com.example.nothing")
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "AuthMissing"
    wrong = httpx.get(f"{bsky.url}/xrpc/com.atproto.repo.createRecord")
    assert wrong.status_code == 400 and "expected POST" in wrong.json()["message"]
