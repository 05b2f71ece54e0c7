"""Fixtures: a Bluesky sandbox server in-process on a free port, and real atproto clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from atproto import Client

from chatbot.clock import ManualClock
from chatbot.sandbox.bluesky import BlueskyApp, BlueskyStore
from chatbot.sandbox.server import SandboxHTTPServer
from tests.realdata import REAL_FIXTURES

PASSWORD = "correct horse battery staple"
# The real recordings (provenance in tests/fixtures/real/SOURCES.md).
REAL = REAL_FIXTURES / "bluesky"


@dataclass
class Sandbox:
    app: BlueskyApp
    server: SandboxHTTPServer
    clients: list[Client] = field(default_factory=list)

    @property
    def store(self) -> BlueskyStore:
        return self.app.store

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, handle: str | None = None, **kwargs: Any) -> Client:
        """A real atproto client for this server, logged in as ``handle`` (created if new)."""
        client = Client(base_url=self.url, **kwargs)
        self.clients.append(client)
        if handle:
            if self.store.account(handle) is None:
                self.store.create_account(handle, PASSWORD, display_name=handle.split(".")[0])
            client.login(handle, PASSWORD)
        return client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_sandbox() -> Iterator[Any]:
    """Start servers with custom apps; every one is stopped after the test."""
    started: list[Sandbox] = []

    def make(app: BlueskyApp | None = None) -> Sandbox:
        server = SandboxHTTPServer(app or BlueskyApp()).start()
        sandbox = Sandbox(server.app, server)  # type: ignore[arg-type]
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        for client in sandbox.clients:
            client.request.close()
        # Stopping waits for the server's 0.1 s poll; do it off the test's clock.
        stopper = threading.Thread(target=sandbox.server.stop, daemon=True)
        stopper.start()
        _STOPPERS.append(stopper)


_STOPPERS: list[threading.Thread] = []


@pytest.fixture(scope="session", autouse=True)
def _join_stopped_servers() -> Iterator[None]:
    yield
    for stopper in _STOPPERS:
        stopper.join(timeout=5)


@pytest.fixture
def bsky(make_sandbox: Any, clock: ManualClock) -> Sandbox:
    """A fresh server on the manual clock."""
    sandbox: Sandbox = make_sandbox(BlueskyApp(clock=clock))
    return sandbox
