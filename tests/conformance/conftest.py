"""Targets for the conformance suite: the sandbox in-process, or the reference network.

Every test takes ``target`` and runs once per target. The reference network is
started outside the tests (``scripts/reference-network``) and found through
``CHATBOT_REFERENCE_PDS_URL``. A run that doesn't name it isn't about it (the
main test run; ``scripts/ci-conformance`` is the one that is): its tests are
deselected, never skipped, and the run's summary says so. A named network that doesn't
answer skips them as missing (a failure under ``CI=true``, see
``tests/missing.py``), or fails them when ``CHATBOT_REFERENCE_REQUIRED`` is set
(as ``scripts/ci-conformance`` does). Both targets are shared by the whole
session, so every test makes its own accounts and hashtags.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from atproto import Client, models
from atproto_client.models.dot_dict import DotDict

from chatbot.platforms.bluesky import BlueskyPlatform
from chatbot.platforms.credentials import Secret
from chatbot.platforms.session import SessionCache
from chatbot.sandbox.bluesky import BlueskyApp
from chatbot.sandbox.server import SandboxHTTPServer
from tests.missing import skip_missing

T = TypeVar("T")
REFERENCE_ENV = "CHATBOT_REFERENCE_PDS_URL"
REQUIRED_ENV = "CHATBOT_REFERENCE_REQUIRED"
DESELECTED = pytest.StashKey[int]()
NOT_RUNNING = "reference network not running: start it with scripts/reference-network"
# The reference AppView indexes a write within about 0.2 s; allow for a loaded machine.
LAG_SECONDS = 8.0


@dataclass(frozen=True)
class Account:
    handle: str
    password: str
    did: str
    email: str


@dataclass
class Target:
    """One Bluesky-compatible network: where it is and how to make accounts on it."""

    name: str
    url: str
    clients: list[Client] = field(default_factory=list)

    def handle(self, prefix: str = "cf") -> str:
        # The reference PDS wants 3 to 18 characters before its ".test" domain.
        return f"{prefix[:6]}{secrets.token_hex(5)}.test"

    def create_account(self, prefix: str = "cf") -> Account:
        """An account made the way a scripted participant makes one: createAccount."""
        handle = self.handle(prefix)
        password = secrets.token_urlsafe(12)
        email = f"{handle.split('.')[0]}@example.com"
        data = models.ComAtprotoServerCreateAccount.Data(
            handle=handle, password=password, email=email
        )
        created = self.client().com.atproto.server.create_account(data)
        return Account(created.handle, password, created.did, email)

    def client(self, account: Account | None = None) -> Client:
        """A plain atproto client, logged in as ``account`` when given."""
        client = Client(base_url=self.url)
        self.clients.append(client)
        if account is not None:
            client.login(account.handle, account.password, fetch_bsky_profile=False)
        return client

    def platform(self, account: Account, **kwargs: Any) -> BlueskyPlatform:
        """The bot's adapter, posting as ``account``."""
        kwargs.setdefault("session_cache", SessionCache())
        return BlueskyPlatform(account.handle, Secret(account.password), service=self.url, **kwargs)

    def query(self, client: Client, nsid: str, **params: Any) -> dict[str, Any]:
        """A raw XRPC query; the answer as plain JSON."""
        response = client.invoke_query(nsid, params=DotDict(params))
        return response.content if isinstance(response.content, dict) else {}


def eventually(check: Callable[[], T], *, timeout: float = LAG_SECONDS, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy without raising (AppView lag)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
            failure: Exception | None = None
        except Exception as error:  # the last error is reported if time runs out
            failure = error
        if time.monotonic() > deadline:
            message = f"not true after {timeout} s: {what or check}"
            raise AssertionError(message) from failure
        time.sleep(0.1)


def reference_url() -> str | None:
    """The reference PDS URL when it is set and answers, else None."""
    url = os.environ.get(REFERENCE_ENV, "").rstrip("/")
    if not url:
        return None
    try:
        httpx.get(f"{url}/xrpc/_health", timeout=3).raise_for_status()
    except httpx.HTTPError:
        return None
    return url


def _reference_named() -> bool:
    """Whether this run is about the reference network: it names one, or requires one."""
    return bool(os.environ.get(REFERENCE_ENV) or os.environ.get(REQUIRED_ENV))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests against the reference network when the run doesn't name one."""
    if _reference_named():
        return
    here = Path(__file__).parent
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        on_reference = "reference_target" in getattr(item, "fixturenames", ()) or (
            params is not None and params.params.get("target") == "reference"
        )
        (drop if on_reference and item.path.is_relative_to(here) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        config.stash[DESELECTED] = len(drop)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say why tests were deselected, even under ``-q``."""
    if count := config.stash.get(DESELECTED, 0):
        terminalreporter.write_line(
            f"{count} conformance tests against the reference network deselected: "
            f"${REFERENCE_ENV} is not set (scripts/ci-conformance runs them)"
        )


@pytest.fixture(scope="session")
def sandbox_target() -> Iterator[Target]:
    # Rate limits off, as dev-env runs the reference PDS: the suite shares one server
    # and one IP, and limits have tests of their own (tests/sandbox/bluesky).
    server = SandboxHTTPServer(BlueskyApp(rate_limits=False)).start()
    target = Target("sandbox", server.url)
    yield target
    for client in target.clients:
        client.request.close()
    server.stop()


@pytest.fixture(scope="session")
def reference_target() -> Iterator[Target]:
    url = reference_url()
    if url is None:
        why = f"{NOT_RUNNING} (${REFERENCE_ENV} unset or not answering)"
        if os.environ.get(REQUIRED_ENV):
            pytest.fail(why)
        skip_missing(why)
    target = Target("reference", url)
    yield target
    for client in target.clients:
        client.request.close()


@pytest.fixture(params=["sandbox", "reference"])
def target(request: pytest.FixtureRequest) -> Target:
    return request.getfixturevalue(f"{request.param}_target")  # type: ignore[no-any-return]


@pytest.fixture
def tag() -> str:
    """A hashtag (without '#') no other test or earlier run uses."""
    return f"cf{secrets.token_hex(4)}"
