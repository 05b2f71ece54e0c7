"""Serve the live page with uvicorn from a background thread, on 127.0.0.1 only.

:func:`serve_live` is the way in for ``chatbot live`` and for anything else
that wants the page beside its own work (a rehearsal): it binds the port
first, so the URL it returns (with the access token) is good at once, and
:meth:`LiveServer.stop` ends the streams and the server within a second or two.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import uvicorn
from sqlalchemy import Engine

from chatbot import db
from chatbot.clock import Clock, SystemClock
from chatbot.errors import UsageError
from chatbot.eventref import resolve_event
from chatbot.live.actions import Controls
from chatbot.live.app import LiveState, build_app
from chatbot.live.security import Gate
from chatbot.platforms.base import Platform

HOST = "127.0.0.1"
DEFAULT_LATE_LIMIT = timedelta(minutes=10)
_START_SECONDS = 10.0


@dataclass
class LiveServer:
    """A running live page: its address (with the token) and how to stop it."""

    # http://127.0.0.1:PORT/?token=...: the address to open, printed once (never in a repr)
    url: str = field(repr=False)
    port: int
    event_id: int
    _server: uvicorn.Server
    _thread: threading.Thread
    _state: LiveState

    @property
    def address(self) -> str:
        """The page's address without the token (safe to log)."""
        return f"http://{HOST}:{self.port}/"

    def stop(self, wait: float = 5.0) -> None:
        """End every stream, then the server; returns once it has stopped (or after ``wait`` s)."""
        self._state.stopping.set()
        self._server.should_exit = True
        self._thread.join(timeout=wait)

    def wait(self, until: threading.Event) -> None:
        """Block until ``until`` is set (a signal, in ``chatbot live``) or the server stops."""
        while self._thread.is_alive() and not until.wait(0.2):
            pass


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as error:
        sock.close()
        raise UsageError(
            f"cannot listen on {HOST}:{port} ({error.strerror}); give another --port, "
            "or 0 for any free one"
        ) from None
    sock.listen(64)
    sock.setblocking(False)
    return sock


def serve_live(
    engine: Engine,
    event: str,
    *,
    port: int = 0,
    clock: Clock | None = None,
    late_limit: timedelta = DEFAULT_LATE_LIMIT,
    connect: Callable[[str], Platform] | None = None,
    poll_seconds: float | None = None,
) -> LiveServer:
    """Start the live page of ``event`` (an id, hashtag or TAG@DATE) and return its address.

    ``port`` 0 picks a free one. ``connect`` (network -> adapter) lets the
    page's hide button add a Bluesky reply to the bot's threadgate, as
    ``chatbot hide`` does; without it hide only marks the post in the store.
    """
    clock = clock or SystemClock()
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a port; give 1-65535, or 0 for any free one")
    with db.session_scope(engine) as session:
        found = resolve_event(session, event, purpose="act", now=clock.now())
        assert found.id is not None
        event_id = found.id
    sock = _bind(port)
    bound = sock.getsockname()[1]
    gate = Gate(bound)
    state = LiveState(Controls(engine, event_id, late_limit, connect), clock, gate)
    if poll_seconds is not None:
        state.poll_seconds = poll_seconds
    config = uvicorn.Config(
        build_app(state),
        log_level="warning",
        access_log=False,  # request lines would carry the token
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)

    def run() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"chatbot-live-{bound}", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise UsageError(f"the live page did not start on {HOST}:{bound}")
        time.sleep(0.01)
    url = f"http://{HOST}:{bound}/?token={gate.token}"
    return LiveServer(url, bound, event_id, server, thread, state)


__all__ = ["DEFAULT_LATE_LIMIT", "HOST", "LiveServer", "serve_live"]
