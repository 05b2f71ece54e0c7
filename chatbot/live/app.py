"""The live page as a Starlette application: the page, its stream, its buttons, its assets.

Routes (every one behind :class:`chatbot.live.security.Gate`)::

    GET  /?token=...     the access token for a session cookie, then 303 to /
    GET  /               the page, rendered with the current snapshot (Jinja2, autoescaped)
    GET  /stream         server-sent events: ``snapshot`` on every change, ``clock`` between,
                         ``gone`` (and the end) once the event is no longer in the store
    POST /act/{action}   a button (CSRF token, same origin): JSON for the page's script,
                         else 303 back to / with the outcome shown
    GET  /static/{name}  the page's own CSS and JS, from the package

Database reads and the controls run in worker threads; the event loop only
waits and writes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

import anyio
from anyio import to_thread
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from chatbot.clock import Clock
from chatbot.errors import ChatbotError
from chatbot.live.actions import Controls, Outcome
from chatbot.live.security import Gate
from chatbot.live.snapshot import Snapshot, fingerprint, snapshot

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # how often the stream looks for changes (and ticks the clock)
MAX_FORM_BYTES = 16_384
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # post links must not carry the page's address away
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
_STATIC = {"live.css": "text/css; charset=utf-8", "live.js": "text/javascript; charset=utf-8"}


@dataclass
class LiveState:
    """What the handlers share: the store and event, the clock, the gate, the outcomes."""

    controls: Controls
    clock: Clock
    gate: Gate
    stopping: threading.Event = field(default_factory=threading.Event)
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # session -> last press
    poll_seconds: float = POLL_SECONDS
    _cache: tuple[str, Snapshot] | None = None  # the latest snapshot, shared by every stream
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def event_id(self) -> int:
        return self.controls.event_id

    def current(self) -> tuple[str, Snapshot, float]:
        """The fingerprint, the snapshot for it and the seconds reading it took (0 if cached).

        Several pages open at once share one reading per change.
        """
        engine = self.controls.engine
        with self._lock:
            seen = fingerprint(engine, self.event_id)
            if self._cache is not None and self._cache[0] == seen:
                return seen, self._cache[1], 0.0
            started = time.monotonic()
            made = snapshot(engine, self.event_id, now=self.clock.now())
            self._cache = (seen, made)
            return seen, made, time.monotonic() - started


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("chatbot.live", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


class _Guard:
    """Every response gets the security headers; a request for another host is refused."""

    def __init__(self, app: ASGIApp, gate: Gate):
        self.app, self.gate = app, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if not self.gate.host_ok(host):
            await _forbidden("this page answers only at 127.0.0.1")(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in _HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _forbidden(why: str) -> Response:
    return PlainTextResponse(f"Forbidden: {why}.\n", status_code=403)


def build_app(state: LiveState) -> ASGIApp:
    """The ASGI application of one live page."""
    env = _environment()
    gate = state.gate

    def session_of(request: Request) -> str | None:
        session = request.cookies.get(gate.cookie)
        return session if gate.csrf_of(session) is not None else None

    def signed_in(
        handler: Callable[[Request, str], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            session = session_of(request)
            if session is None:
                return _forbidden("open the address `chatbot live` printed, with its token")
            return await handler(request, session)

        return guarded

    async def page(request: Request) -> Response:
        if "token" in request.query_params:
            if not gate.token_ok(request.query_params.get("token")):
                return _forbidden("wrong token; open the address `chatbot live` printed")
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(
                gate.cookie, gate.open_session(), httponly=True, samesite="strict", path="/"
            )
            return response
        session = session_of(request)
        if session is None:
            return _forbidden("open the address `chatbot live` printed, with its token")
        try:
            _, made, _ = await to_thread.run_sync(state.current)
        except ChatbotError as error:
            return PlainTextResponse(f"{error}\n", status_code=410)
        html = env.get_template("live.html").render(
            data={**made.data, "clock": made.next.clock(state.clock.now())},
            csrf=gate.csrf_of(session),
            outcome=state.outcomes.pop(session, None),
        )
        return HTMLResponse(html)

    async def stream(request: Request, session: str) -> Response:
        return StreamingResponse(
            _events(state),
            media_type="text/event-stream",
            headers={"x-accel-buffering": "no"},
        )

    async def act(request: Request, session: str) -> Response:
        if not gate.origin_ok(request.headers):
            return _forbidden("a press must come from this page (Origin)")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return _forbidden("the form is too large")
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if not gate.csrf_ok(session, form.get("csrf")):
            return _forbidden("the form's CSRF token is missing or wrong; reload the page")
        action = request.path_params["action"]
        outcome = await to_thread.run_sync(
            lambda: state.controls.run(action, form, now=state.clock.now())
        )
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": outcome.ok, "message": outcome.message})
        state.outcomes[session] = outcome
        return RedirectResponse("/", status_code=303)

    async def static(request: Request, session: str) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return PlainTextResponse("Not found.\n", status_code=404)
        text = resources.files("chatbot.live").joinpath("static", name).read_text("utf-8")
        return Response(text, media_type=_STATIC[name])

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/stream", signed_in(stream), methods=["GET"]),
            Route("/act/{action}", signed_in(act), methods=["POST"]),
            Route("/static/{name}", signed_in(static), methods=["GET"]),
        ]
    )
    return _Guard(app, gate)


def _message(kind: str, data: dict[str, Any]) -> str:
    # json.dumps escapes no newline into the text: one data line per message.
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _events(state: LiveState) -> AsyncIterator[str]:
    """A snapshot whenever the store changes, the clock in between, until the server stops.

    Reading a snapshot of a big chat takes a while (the attribution runs
    again); after one that took T seconds the next waits at least T, so a
    busy chat keeps the page within half a core.
    """
    last = None
    upcoming = None
    not_before = 0.0
    yield "retry: 1000\n\n"
    while not state.stopping.is_set():
        if time.monotonic() >= not_before:
            try:
                seen, made, took = await to_thread.run_sync(state.current)
            except ChatbotError as error:  # the event is no longer in the store
                yield _message("gone", {"message": str(error)})
                return
            except SQLAlchemyError as error:  # busy or briefly unreachable: the next tick
                logger.warning("live page: reading the store failed (%s)", type(error).__name__)
                await anyio.sleep(state.poll_seconds)
                continue
            not_before = time.monotonic() + took
            if seen != last:
                last, upcoming = seen, made.next
                yield _message(
                    "snapshot", {**made.data, "clock": made.next.clock(state.clock.now())}
                )
                await anyio.sleep(state.poll_seconds)
                continue
        if upcoming is not None:
            yield _message("clock", upcoming.clock(state.clock.now()))
        await anyio.sleep(state.poll_seconds)


__all__ = ["CONTENT_SECURITY_POLICY", "LiveState", "build_app"]
