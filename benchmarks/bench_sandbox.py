"""Requests per second the sandbox servers answer over real HTTP, against a bare stdlib server.

Each scenario runs ``--threads`` client threads for ``--seconds``, each thread
holding one keep-alive connection (``http.client``) and sending the same
request again and again. The clients run in a process of their own, so they
don't compete with the servers for the interpreter lock. The baseline is a
stdlib ``ThreadingHTTPServer`` answering a fixed 200 JSON body (the least any
threaded Python HTTP server does), measured by the same clients right before
each run of a scenario: the figure is the median of ``--repeat`` such ratios,
which holds still on a machine shared with other work where raw rates don't.

    .venv/bin/python benchmarks/bench_sandbox.py --threads 8 --seconds 3
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from urllib.parse import urlencode, urlsplit

from chatbot.clock import SystemClock
from chatbot.sandbox.bluesky import BlueskyApp, BlueskyStore
from chatbot.sandbox.mastodon.app import MastodonApp
from chatbot.sandbox.mastodon.ratelimit import Limit, RateLimits
from chatbot.sandbox.mastodon.store import MastodonStore
from chatbot.sandbox.server import SandboxHTTPServer

POSTS = 300  # per network: a busy chat's worth
UNLIMITED = Limit(10**12, 300)


@dataclass(frozen=True)
class Call:
    """One request a client thread repeats."""

    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    server: str  # "baseline", "bluesky" or "mastodon"
    call: Callable[[Fixtures], Call]


@dataclass
class Fixtures:
    """Seeded servers and what requests need from them (a thread URI, a token)."""

    urls: dict[str, str]
    thread_uri: str = ""
    token: str = ""


class _Fixed(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the sandbox
    disable_nagle_algorithm = True
    body = json.dumps({"ok": True}).encode()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _Baseline(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


@contextmanager
def servers() -> Iterator[Fixtures]:
    """The baseline and both sandbox networks, seeded, rate limits off."""
    baseline = _Baseline(("127.0.0.1", 0), _Fixed)
    thread = threading.Thread(target=baseline.serve_forever, daemon=True)
    thread.start()
    clock = SystemClock()
    bluesky_store = BlueskyStore(clock, seed=1)
    bluesky = SandboxHTTPServer(BlueskyApp(bluesky_store, rate_limits=False)).start()
    mastodon_app = MastodonApp(
        MastodonStore(clock=clock), rate_limits=RateLimits(UNLIMITED, UNLIMITED, UNLIMITED)
    )
    mastodon = SandboxHTTPServer(mastodon_app)
    mastodon_app.store.base_url = mastodon.url
    mastodon.start()
    try:
        fixtures = Fixtures(
            {
                "baseline": f"http://127.0.0.1:{baseline.server_address[1]}",
                "bluesky": bluesky.url,
                "mastodon": mastodon.url,
            }
        )
        fixtures.thread_uri = _seed_bluesky(bluesky_store)
        fixtures.token = _seed_mastodon(mastodon_app.store)
        yield fixtures
    finally:
        bluesky.stop()
        mastodon.stop()
        baseline.shutdown()
        baseline.server_close()


def _seed_bluesky(store: BlueskyStore) -> str:
    """POSTS posts by 30 people, a third of them replies in one thread; returns its root."""
    people = [store.create_account(f"p{n}.sandbox.test", "pw").did for n in range(30)]
    root = store.create_post(people[0], "Q1 What do you archive? #sm35")["uri"]
    for index in range(POSTS):
        author = people[index % len(people)]
        text = f"A1 answer number {index} about archives #sm35"
        store.create_post(author, text, reply_to=root if index % 3 == 0 else None)
    return str(root)


def _seed_mastodon(store: MastodonStore) -> str:
    """POSTS public statuses tagged #sm35 by 30 people; returns a poster's token."""
    people = [str(store.create_account(f"p{n}")["id"]) for n in range(30)]
    for index in range(POSTS):
        store.create_status(people[index % len(people)], f"A1 answer {index} #sm35")
    return store.token_for(people[0])


def _get(path: str, **query: str | int) -> Call:
    return Call("GET", f"{path}?{urlencode(query)}" if query else path)


SCENARIOS = (
    Scenario("baseline: stdlib server, fixed 200 JSON", "baseline", lambda f: _get("/")),
    Scenario("/_sandbox/health", "bluesky", lambda f: _get("/_sandbox/health")),
    Scenario(
        "bluesky searchPosts #sm35 (25 posts)",
        "bluesky",
        lambda f: _get("/xrpc/app.bsky.feed.searchPosts", q="#sm35", limit=25),
    ),
    Scenario(
        "bluesky getPostThread (100 replies)",
        "bluesky",
        lambda f: _get("/xrpc/app.bsky.feed.getPostThread", uri=f.thread_uri),
    ),
    Scenario(
        "mastodon tag timeline (20 statuses)",
        "mastodon",
        lambda f: _get("/api/v1/timelines/tag/sm35", limit=20),
    ),
    Scenario(
        "mastodon POST /api/v1/statuses",
        "mastodon",
        lambda f: Call(
            "POST",
            "/api/v1/statuses",
            urlencode({"status": "Q2 a new question #sm35"}).encode(),
            (
                ("Authorization", f"Bearer {f.token}"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ),
        ),
    ),
)


def hammer(url: str, call: Call, threads: int, seconds: float) -> float:
    """Requests per second ``threads`` keep-alive clients get answered in ``seconds``."""
    parts = urlsplit(url)
    counts = [0] * threads
    errors: list[str] = []
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def client(slot: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        start.wait()
        try:
            while not stop.is_set():
                connection.request(call.method, call.path, call.body or None, dict(call.headers))
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    errors.append(f"{call.method} {call.path}: {response.status}")
                    return
                counts[slot] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join()
    if errors:
        raise RuntimeError(errors[0])
    return sum(counts) / elapsed


def _client_process(connection: Connection) -> None:
    """Run the jobs the parent sends, ``(url, call, threads, seconds)``, until it sends None."""
    while (job := connection.recv()) is not None:
        try:
            connection.send(hammer(*job))
        except Exception as error:
            connection.send(error)


class Clients:
    """A process of client threads, reused from run to run."""

    def __init__(self) -> None:
        self._connection, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_client_process, args=(child,), daemon=True
        )
        self._process.start()

    def rate(self, url: str, call: Call, threads: int, seconds: float) -> float:
        self._connection.send((url, call, threads, seconds))
        result = self._connection.recv()
        if isinstance(result, Exception):
            raise result
        return float(result)

    def close(self) -> None:
        self._connection.send(None)
        self._process.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per scenario (median)")
    options = parser.parse_args()
    print(
        f"{options.threads} client threads in their own process, {options.seconds:g} s a run, "
        f"median of {options.repeat} (baseline, scenario) pairs"
    )
    clients = Clients()
    rows = []
    try:
        with servers() as fixtures:
            baseline = SCENARIOS[0].call(fixtures), fixtures.urls["baseline"]
            for scenario in SCENARIOS[1:]:
                call = scenario.call(fixtures)
                url = fixtures.urls[scenario.server]
                clients.rate(url, call, options.threads, 0.3)  # warm up connections and caches
                pairs = []
                for _ in range(options.repeat):
                    base = clients.rate(baseline[1], baseline[0], options.threads, options.seconds)
                    rate = clients.rate(url, call, options.threads, options.seconds)
                    pairs.append((base, rate))
                rows.append(
                    (
                        scenario.name,
                        statistics.median(base for base, _ in pairs),
                        statistics.median(rate for _, rate in pairs),
                        statistics.median(rate / base for base, rate in pairs),
                    )
                )
    finally:
        clients.close()
    print("\n| request | baseline requests/s | requests/s | ratio to baseline |")
    print("| --- | --- | --- | --- |")
    for name, base, rate, ratio in rows:
        print(f"| {name} | {base:,.0f} | {rate:,.0f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
