"""The shared sandbox HTTP layer: routing, bodies, faults, control endpoints, clocks."""

from datetime import UTC, datetime

import httpx
import pytest
import requests

from chatbot.clock import AcceleratedClock, SystemClock, clock_from_string
from chatbot.sandbox.faults import Fault, FaultInjector, FaultSettings
from chatbot.sandbox.server import SandboxHTTPServer
from chatbot.sandbox.web import HttpError, SandboxApp, StreamResponse, json_response


def _echo_app() -> SandboxApp:
    app = SandboxApp()

    def item(request):
        return json_response({"id": request.path_params["id"], "a": request.args("a")})

    def form(request):
        return json_response({"a": request.params("a")})

    def teapot(request):
        raise HttpError(418, "Teapot", "short and stout", headers={"X-Why": "tea"})

    app.router.add("GET", "/items/{id}/context", item)
    app.router.add("POST", "/form", form)

    def ticks(request):
        def chunks():
            yield b"tick\n"
            while not app.closing.wait(0.05):
                yield b""

        return StreamResponse(chunks(), content_type="text/plain")

    app.router.add("GET", "/teapot", teapot)
    app.router.add("GET", "/ticks", ticks)
    return app


@pytest.fixture
def server():
    with SandboxHTTPServer(_echo_app()) as running:
        yield running


def test_path_parameters_and_repeated_query_values(server):
    body = requests.get(f"{server.url}/items/42/context?a=1&a[]=2").json()
    assert body == {"id": "42", "a": ["1", "2"]}


@pytest.mark.parametrize(
    "send",
    [
        lambda url: requests.post(url, data={"a": ["x", "y"]}),
        lambda url: requests.post(url, files=[("a", (None, "x")), ("a", (None, "y"))]),
        lambda url: requests.post(url, json={"a": ["x", "y"]}),
    ],
    ids=["urlencoded", "multipart", "json"],
)
def test_body_parameters_in_every_encoding(server, send):
    assert send(f"{server.url}/form").json() == {"a": ["x", "y"]}


def test_unknown_path_is_404_and_wrong_method_is_405(server):
    assert requests.get(f"{server.url}/nope").status_code == 404
    assert requests.delete(f"{server.url}/form").status_code == 405


def test_handler_errors_keep_their_status_and_headers(server):
    response = requests.get(f"{server.url}/teapot")
    assert response.status_code == 418
    assert response.headers["X-Why"] == "tea"
    assert response.json() == {"error": "Teapot", "message": "short and stout"}


def test_unreachable_drops_connections_but_not_control(server):
    requests.post(f"{server.url}/_sandbox/faults", json={"unreachable": True})
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/items/1/context")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/items/1/context")
    assert requests.get(f"{server.url}/_sandbox/health").json() == {"ok": True}
    requests.post(f"{server.url}/_sandbox/faults", json={"unreachable": False})
    assert requests.get(f"{server.url}/items/1/context").status_code == 200


def test_dropped_and_slow_requests(server):
    faults = f"{server.url}/_sandbox/faults"
    requests.post(faults, json={"rate": 1, "weights": {"drop": 1}})
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/items/1/context")
    requests.post(faults, json={"weights": {"slow": 1}, "slow_seconds": 0.05})
    slow = requests.get(f"{server.url}/items/7/context?a=x")
    assert slow.json() == {"id": "7", "a": ["x"]}
    assert requests.get(faults).json()["counts"] == {"drop": 1, "slow": 1}


@pytest.mark.parametrize("when", ["request", "response"])
def test_a_hang_holds_requests_unanswered_until_lifted(when):
    done: list[str] = []
    app = _echo_app()
    app.router.add("POST", "/work", lambda request: done.append("x") or json_response({}))
    with SandboxHTTPServer(app) as server:
        faults = f"{server.url}/_sandbox/faults"
        requests.post(faults, json={"hang": when})
        with pytest.raises(requests.Timeout):
            requests.post(f"{server.url}/work", timeout=0.5)
        # The work is done when the hang is after it, never when it is before.
        assert done == ([] if when == "request" else ["x"])
        # Control requests answer while requests hang; the count says one was held.
        assert requests.get(faults).json()["counts"] == {f"hang_{when}": 1}
        assert requests.post(faults, json={"hang": "later"}).status_code == 400
        requests.post(faults, json={"hang": ""})
        assert requests.get(f"{server.url}/items/1/context").status_code == 200


def test_head_answers_headers_only(server):
    response = requests.head(f"{server.url}/_sandbox/health")
    assert response.status_code == 405  # routes answer the methods they were added for
    assert response.content == b""


def test_stopping_the_server_ends_open_streams():
    running = SandboxHTTPServer(_echo_app()).start()
    with requests.get(f"{running.url}/ticks", stream=True, timeout=5) as response:
        assert response.headers["Content-Type"] == "text/plain"
        lines = response.iter_lines()
        assert next(lines) == b"tick"
        running.stop()
        assert list(lines) == []  # the stream ended cleanly, with no more data


def test_fault_control_rejects_bad_values(server):
    response = requests.post(f"{server.url}/_sandbox/faults", json={"rate": 3})
    assert response.status_code == 400
    assert "between 0 and 1" in response.json()["message"]


def test_faults_are_deterministic_for_a_seed():
    settings = {"rate": 0.5}

    def run(seed):
        injector = FaultInjector(seed, FaultSettings())
        injector.settings.update(settings)
        return [injector.decide() for _ in range(200)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    decided = run(7)
    assert 60 < sum(fault is not None for fault in decided) < 140
    assert {Fault.RATE_LIMIT, Fault.DROP, Fault.SLOW} <= set(decided)


def test_injected_errors_reach_the_client(server):
    requests.post(f"{server.url}/_sandbox/faults", json={"rate": 1, "weights": {"unavailable": 1}})
    assert requests.get(f"{server.url}/items/1/context").status_code == 503
    counts = requests.get(f"{server.url}/_sandbox/faults").json()["counts"]
    assert counts == {"unavailable": 1}


def test_accelerated_clock_runs_fast_and_round_trips():
    start = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    clock = AcceleratedClock(real_origin=1000.0, virtual_origin=start, speed=60)
    again = clock_from_string(clock.describe())
    assert again == clock
    fast = AcceleratedClock.starting_now(600, start)
    fast.sleep(60)  # one virtual minute is 0.1 real seconds
    assert (fast.now() - start).total_seconds() >= 60
    assert isinstance(clock_from_string("system"), SystemClock)
    with pytest.raises(ValueError, match="unknown clock"):
        clock_from_string("sundial:1")
