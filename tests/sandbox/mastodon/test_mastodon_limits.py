"""Rate limits and injected faults, as Mastodon.py sees them: headers and its own exceptions."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests
from mastodon.errors import (
    MastodonBadGatewayError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServiceUnavailableError,
)

from chatbot.clock import AcceleratedClock, ManualClock
from chatbot.sandbox.faults import Fault, FaultInjector, FaultSettings
from chatbot.sandbox.mastodon import Limit, RateLimits

from .conftest import Sandbox


def test_headers_on_every_answer(sandbox: Sandbox):
    api = sandbox.register()
    status = api.status_post("hi")
    assert (
        api.ratelimit_limit == 300 and api.ratelimit_remaining == 299
    )  # the 3-hour posting bucket
    api.status(status)
    assert api.ratelimit_limit == 300 and api.ratelimit_remaining == 298  # reads: 5 minutes
    api.status_delete(status)
    assert api.ratelimit_limit == 30 and api.ratelimit_remaining == 29
    anonymous = requests.get(f"{sandbox.url}/api/v1/timelines/tag/x", timeout=5)
    reset = datetime.strptime(anonymous.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert anonymous.headers["X-RateLimit-Limit"] == "300"
    assert reset.replace(tzinfo=UTC) > datetime.now(UTC)
    missing = requests.get(f"{sandbox.url}/api/v1/statuses/1", timeout=5)
    assert missing.status_code == 404 and "X-RateLimit-Remaining" in missing.headers


def test_reset_lies_on_a_period_boundary(sandbox_factory):
    clock = ManualClock(datetime(2026, 8, 1, 13, 53, 15, 378000, tzinfo=UTC))
    box = sandbox_factory(clock=clock)
    api = box.register()
    api.status_post("x")
    response = requests.get(f"{box.url}/api/v1/statuses/1", timeout=5)
    assert response.headers["X-RateLimit-Reset"] == "2026-08-01T13:55:00.378000Z"
    assert response.headers["Date"] == "Sat, 01 Aug 2026 13:53:15 GMT"  # the server's clock


def test_past_the_limit_is_429_and_throw_raises(sandbox_factory):
    clock = ManualClock()
    box = sandbox_factory(
        clock=clock, rate_limits=RateLimits(reads=Limit(5, 300), statuses=Limit(2, 10800))
    )
    api = box.register()
    api.status_post("one")
    api.status_post("two")
    with pytest.raises(MastodonRatelimitError):
        api.status_post("three")
    assert len(box.store.find_statuses()) == 2
    raw = requests.post(
        f"{box.url}/api/v1/statuses",
        data={"status": "four"},
        headers={"Authorization": f"Bearer {api.access_token}"},
        timeout=5,
    )
    assert raw.status_code == 429 and raw.json() == {"error": "Too many requests"}
    assert raw.headers["X-RateLimit-Remaining"] == "0"
    clock.advance(hours=3)
    assert api.status_post("after the window").id


def test_deletes_have_their_own_bucket(sandbox_factory):
    box = sandbox_factory(rate_limits=RateLimits(deletes=Limit(1, 1800)))
    api = box.register()
    first, second = api.status_post("a"), api.status_post("b")
    api.status_delete(first)
    with pytest.raises(MastodonRatelimitError):
        api.status_delete(second)
    assert api.status(second).id == second.id


def test_paging_has_its_own_bucket(sandbox_factory):
    # Mastodon counts requests with max_id/min_id/since_id apart (300 per 15 minutes).
    box = sandbox_factory(rate_limits=RateLimits(paging=Limit(2, 900)))
    api = box.register()
    status = api.status_post("a #paged")
    api.timeline_hashtag("paged", max_id="999999999999999999")
    api.timeline_hashtag("paged", min_id="1")
    with pytest.raises(MastodonRatelimitError):
        api.timeline_hashtag("paged", min_id="1")
    assert [s.id for s in api.timeline_hashtag("paged")] == [status.id]  # no paging: fine


@pytest.mark.parametrize(
    ("fault", "exception"),
    [
        (Fault.SERVER_ERROR, MastodonInternalServerError),
        (Fault.BAD_GATEWAY, MastodonBadGatewayError),
        (Fault.UNAVAILABLE, MastodonServiceUnavailableError),
        (Fault.DROP, MastodonNetworkError),
        (Fault.RATE_LIMIT, MastodonRatelimitError),
    ],
)
def test_faults_surface_as_the_clients_exceptions(sandbox_factory, fault, exception):
    box = sandbox_factory()
    api = box.register()
    box.app.faults.settings.update({"rate": 1.0, "weights": {fault.value: 1.0}})
    with pytest.raises(exception):
        api.status_post("through a bad network")
    box.app.faults.settings.update({"rate": 0.0})
    assert box.store.find_statuses() == []


def test_injected_429_and_502_bodies(sandbox_factory):
    injector = FaultInjector(settings=FaultSettings(rate=1.0, weights={Fault.RATE_LIMIT: 1.0}))
    box = sandbox_factory(faults=injector)
    limited = requests.get(f"{box.url}/api/v1/instance", timeout=5)
    assert limited.status_code == 429 and limited.json() == {"error": "Too many requests"}
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    injector.settings.update({"weights": {"bad_gateway": 1.0}})
    gateway = requests.get(f"{box.url}/api/v1/instance", timeout=5)
    assert gateway.status_code == 502 and "nginx" in gateway.text
    assert requests.get(f"{box.url}/_sandbox/health", timeout=5).json() == {"ok": True}


def test_unreachable_server_is_a_network_error(sandbox_factory):
    box = sandbox_factory()
    api = box.register()
    box.app.faults.settings.update({"unreachable": True})
    with pytest.raises(MastodonNetworkError):
        api.timeline_hashtag("sm35")


def test_reset_times_agree_with_a_virtual_clock(sandbox_factory):
    # A virtual clock a year ahead: Mastodon.py corrects the reset by the server's Date
    # header, so its reset must still land within the 5-minute window of real time.
    clock = AcceleratedClock.starting_now(
        speed=1.0, virtual_start=datetime(2027, 11, 1, tzinfo=UTC)
    )
    box = sandbox_factory(clock=clock)
    api = box.register()
    api.timeline_hashtag("sm35")
    assert 0 < api.ratelimit_reset - time.time() <= 300 + 2
