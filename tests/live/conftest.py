"""Fixtures for the live page: a stored chat and its page served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from chatbot.clock import ManualClock
from chatbot.live import LiveServer, serve_live
from tests.live.chat import NOW, live_chat


@dataclass
class Live:
    """A served live page of a stored chat."""

    engine: Engine
    event_id: int
    server: LiveServer
    clock: ManualClock

    def client(self) -> httpx.Client:
        """An HTTP client with no session yet."""
        return httpx.Client(base_url=self.server.address, timeout=10)

    @contextmanager
    def signed_in(self) -> Iterator[httpx.Client]:
        """An HTTP client that has opened the printed URL (so it holds the session cookie)."""
        with self.client() as client:
            answer = client.get(self.server.url)
            assert answer.status_code == 303 and answer.headers["location"] == "/"
            yield client


@pytest.fixture
def live(engine: Engine) -> Iterator[Live]:
    event_id = live_chat(engine)
    clock = ManualClock(NOW)
    server = serve_live(engine, "sm35", clock=clock, poll_seconds=0.1)
    try:
        yield Live(engine, event_id, server, clock)
    finally:
        server.stop()
