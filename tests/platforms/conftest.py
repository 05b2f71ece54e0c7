"""Fixtures: both sandbox servers in-process, request counters, and adapters pointed at them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import chatbot.sandbox.bluesky as sandbox_bluesky
import chatbot.sandbox.mastodon as sandbox_mastodon
from chatbot.platforms.bluesky import BlueskyPlatform
from chatbot.platforms.credentials import Secret
from chatbot.platforms.mastodon import MastodonPlatform
from chatbot.platforms.session import SessionCache
from chatbot.sandbox.server import SandboxHTTPServer
from chatbot.sandbox.web import Request

PASSWORD = "bot-app-password-1234"


def counting(app_class: type) -> type:
    """A subclass of a sandbox app that counts requests by (method, path)."""

    class Counting(app_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.calls: Counter[str] = Counter()

        def dispatch(self, request: Request) -> Any:
            if not request.path.startswith("/_sandbox/"):
                self.calls[f"{request.method} {request.path}"] += 1
            return super().dispatch(request)

    Counting.__name__ = f"Counting{app_class.__name__}"
    return Counting


def set_faults(app: Any, **weights: float) -> None:
    """Make every request fail with the given fault kinds (e.g. rate_limit=1)."""
    app.faults.settings.update({"rate": 1.0, "weights": weights})


def clear_faults(app: Any) -> None:
    app.faults.settings.update({"rate": 0.0, "unreachable": False})


@dataclass
class BlueskySandbox:
    app: Any
    server: SandboxHTTPServer
    made: list[BlueskyPlatform] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self) -> Any:
        return self.app.store

    def account(self, handle: str) -> Any:
        return self.store.account(handle) or self.store.create_account(
            handle, PASSWORD, display_name=handle.split(".")[0]
        )

    def platform(
        self, handle: str = "bot.test", password: str = PASSWORD, **kwargs: Any
    ) -> BlueskyPlatform:
        self.account(handle)
        made = BlueskyPlatform(handle, Secret(password), service=self.url, **kwargs)
        self.made.append(made)
        return made

    def calls(self, nsid: str) -> int:
        return sum(n for key, n in self.app.calls.items() if key.endswith(f"/xrpc/{nsid}"))


@dataclass
class MastodonSandbox:
    app: Any
    server: SandboxHTTPServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self) -> Any:
        return self.app.store

    def account_id(self, username: str) -> str:
        found = self.store.account_by_login(username)
        if found is not None:
            return str(found.id)
        return str(self.store.create_account(username)["id"])

    def token(self, username: str) -> str:
        return str(self.store.token_for(self.account_id(username)))

    def platform(self, username: str = "bot", **kwargs: Any) -> MastodonPlatform:
        return MastodonPlatform(self.url, Secret(self.token(username)), **kwargs)

    def calls(self, method: str, path: str) -> int:
        return self.app.calls[f"{method} {path}"]


@pytest.fixture
def make_bluesky() -> Iterator[Callable[..., BlueskySandbox]]:
    module = sandbox_bluesky
    servers: list[SandboxHTTPServer] = []

    def make(**options: Any) -> BlueskySandbox:
        app = counting(module.BlueskyApp)(**options)
        server = SandboxHTTPServer(app).start()
        servers.append(server)
        return BlueskySandbox(app, server)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def bsky(make_bluesky: Callable[..., BlueskySandbox]) -> BlueskySandbox:
    return make_bluesky()


@pytest.fixture
def make_mastodon() -> Iterator[Callable[..., MastodonSandbox]]:
    module = sandbox_mastodon
    servers: list[SandboxHTTPServer] = []

    def make(**options: Any) -> MastodonSandbox:
        app = counting(module.MastodonApp)(**options)
        server = SandboxHTTPServer(app).start()
        app.store.base_url = server.url
        servers.append(server)
        return MastodonSandbox(app, server)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def masto(make_mastodon: Callable[..., MastodonSandbox]) -> MastodonSandbox:
    return make_mastodon()


@pytest.fixture
def session_file(tmp_path: Any) -> SessionCache:
    return SessionCache(tmp_path / "state" / "bluesky-session")
