"""Fixtures: a sandbox Mastodon in-process on a free port, and real Mastodon.py clients for it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from mastodon import Mastodon

from chatbot.sandbox.faults import FaultInjector
from chatbot.sandbox.mastodon import MastodonApp, MastodonStore, RateLimits
from chatbot.sandbox.server import SandboxHTTPServer

PASSWORD = "correct horse battery staple"
_names = itertools.count(1)


class Sandbox:
    """A running server plus helpers to make accounts and clients for it."""

    def __init__(self, server: SandboxHTTPServer, app: MastodonApp):
        self.server = server
        self.app = app
        self.store = app.store
        self.url = server.url
        self._app_credentials: tuple[str, str] | None = None

    def client(self, token: str | None = None, **options: object) -> Mastodon:
        options.setdefault("ratelimit_method", "throw")  # the default "wait" would sleep
        options.setdefault("request_timeout", 10)
        return Mastodon(api_base_url=self.url, access_token=token, **options)  # type: ignore[arg-type]

    def app_credentials(self) -> tuple[str, str]:
        if self._app_credentials is None:
            self._app_credentials = Mastodon.create_app("chatbot tests", api_base_url=self.url)
        return self._app_credentials

    def register(self, username: str | None = None) -> Mastodon:
        """A new account made the way a person would: create_app, then create_account."""
        username = username or f"user{next(_names)}"
        client_id, secret = self.app_credentials()
        api = self.client(client_id=client_id, client_secret=secret)
        api.create_account(username, PASSWORD, f"{username}@example.org", agreement=True)
        return api


def start(
    *,
    clock: object | None = None,
    faults: FaultInjector | None = None,
    rate_limits: RateLimits | None = None,
    max_characters: int = 500,
    heartbeat_seconds: float = 15.0,
    profile: str = "mastodon",
) -> Sandbox:
    store = MastodonStore(clock=clock, profile=profile) if clock else None  # type: ignore[arg-type]
    app = MastodonApp(
        store,
        profile=profile,
        faults=faults,
        rate_limits=rate_limits,
        max_characters=max_characters,
        heartbeat_seconds=heartbeat_seconds,
    )
    server = SandboxHTTPServer(app)
    app.store.base_url = server.url
    server.start()
    return Sandbox(server, app)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    running = start(heartbeat_seconds=0.3)
    try:
        yield running
    finally:
        running.server.stop()


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with particular settings; all are stopped after the test."""
    started: list[Sandbox] = []

    def make(**options: object) -> Sandbox:
        running = start(**options)  # type: ignore[arg-type]
        started.append(running)
        return running

    yield make
    for running in started:
        running.server.stop()


@pytest.fixture
def alice(sandbox: Sandbox) -> Mastodon:
    return sandbox.register("alice")


@pytest.fixture
def bob(sandbox: Sandbox) -> Mastodon:
    return sandbox.register("bob")
