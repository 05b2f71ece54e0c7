"""The sandbox servers' web layer: routes, fault injection and ``/_sandbox/`` control endpoints.

A :class:`SandboxApp` maps ``{name}`` path patterns to small synchronous
handlers (HTTP ones and WebSocket ones), asks the fault injector about every
request before routing, and answers the control endpoints that faults never
touch (health, clock, faults). ``chatbot.sandbox.server.SandboxHTTPServer`` serves it with
uvicorn, through a small ASGI bridge (``chatbot/sandbox/asgi.py``), from
background threads; the handlers' types live in ``chatbot/sandbox/messages.py``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Literal

from chatbot.clock import Clock, SystemClock
from chatbot.sandbox.faults import Fault, FaultInjector
from chatbot.sandbox.messages import HttpError, Request, Response, StreamResponse, json_response
from chatbot.sandbox.websocket import WebSocketClosed, WebSocketSession

CONTROL_PREFIX = "/_sandbox/"

Handler = Callable[[Request], Response | StreamResponse]
WebSocketHandler = Callable[[WebSocketSession], None]


def _compile(pattern: str) -> re.Pattern[str]:
    escaped = re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", escaped) + "$")


class Router:
    """Maps (method, path pattern) to handlers; ``{name}`` matches one segment.

    Routes are tried in the order they were added; a path that matches only
    with other methods is a 405.  WebSocket routes are a separate table.
    """

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._websockets: list[tuple[re.Pattern[str], WebSocketHandler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), _compile(pattern), handler))

    def add_websocket(self, pattern: str, handler: WebSocketHandler) -> None:
        self._websockets.append((_compile(pattern), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        allowed = False
        for route_method, regex, handler in self._routes:
            found = regex.match(path)
            if found:
                if route_method == method:
                    return handler, found.groupdict()
                allowed = True
        if allowed:
            raise HttpError(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
        return None

    def match_websocket(self, path: str) -> tuple[WebSocketHandler, dict[str, str]] | None:
        for regex, handler in self._websockets:
            found = regex.match(path)
            if found:
                return handler, found.groupdict()
        return None


class SandboxApp:
    """Routing, faults and control endpoints; subclasses add a network's API."""

    name = "sandbox"

    def __init__(self, *, clock: Clock | None = None, faults: FaultInjector | None = None):
        self.clock = clock or SystemClock()
        self.faults = faults or FaultInjector()
        self.router = Router()
        # Set when the server stops: streams and WebSocket handlers end when they see it.
        self.closing = threading.Event()
        self.router.add("GET", "/_sandbox/health", lambda r: json_response({"ok": True}))
        self.router.add("GET", "/_sandbox/clock", self._get_clock)
        self.router.add("GET", "/_sandbox/faults", self._get_faults)
        self.router.add("POST", "/_sandbox/faults", self._set_faults)

    def websocket(self, pattern: str, handler: WebSocketHandler) -> None:
        """Serve WebSockets at ``pattern`` (``{name}`` segments as for HTTP routes).

        ``handler(session)`` runs in a worker thread: it may raise
        :class:`HttpError` before ``session.accept()`` to refuse the handshake,
        and should return once ``session.receive``/``send`` raise
        :class:`WebSocketClosed` or :attr:`closing` is set.
        """
        self.router.add_websocket(pattern, handler)

    # -- hooks a network overrides -------------------------------------
    def error_response(self, error: HttpError) -> Response:
        return json_response({"error": error.error, "message": error.message}, error.status)

    def fault_response(self, fault: Fault, request: Request) -> Response:
        """The response a network gives when ``fault`` (429/5xx) strikes."""
        status = {
            Fault.RATE_LIMIT: 429,
            Fault.SERVER_ERROR: 500,
            Fault.BAD_GATEWAY: 502,
            Fault.UNAVAILABLE: 503,
        }[fault]
        return self.error_response(HttpError(status, "Fault", "injected fault"))

    def finish(self, request: Request, response: Response | StreamResponse) -> None:
        """Add headers every answer carries (rate limits); default: nothing."""

    # -- dispatch -------------------------------------------------------
    def may_block(self, request: Request) -> bool:
        """Whether :meth:`dispatch` may sleep on ``request`` now (a slow fault or a hang).

        The server then runs it in a worker thread instead of on its event loop;
        control requests never wait, so a hang can always be lifted.
        """
        if request.path.startswith(CONTROL_PREFIX):
            return False
        settings = self.faults.settings
        return bool(settings.hang) or (
            settings.rate > 0 and settings.weights.get(Fault.SLOW, 0.0) > 0
        )

    def _hang(self, when: str) -> bool:
        """Hold a request while ``hang`` is ``when``; True if it was held (then drop it)."""
        if self.faults.settings.hang != when:
            return False
        self.faults.count(f"hang_{when}")  # a test can wait until a request is held
        while self.faults.settings.hang == when and not self.closing.wait(0.05):
            pass
        return True

    def injected_fault(self, request: Request) -> Response | Literal["drop"] | None:
        """What fault injection does to ``request``: nothing (None), "drop", or an answer.

        A slow fault sleeps here (real seconds), then lets the request through.
        """
        if self.faults.settings.unreachable or self._hang("request"):
            return "drop"
        fault = self.faults.decide()
        if fault is Fault.DROP:
            return "drop"
        if fault is Fault.SLOW:
            time.sleep(self.faults.settings.slow_seconds)
        elif fault is not None:
            return self.fault_response(fault, request)
        return None

    def dispatch(self, request: Request) -> Response | StreamResponse | None:
        """Answer a request; ``None`` means drop the connection."""
        control = request.path.startswith(CONTROL_PREFIX)
        if not control:
            fault = self.injected_fault(request)
            if fault == "drop":
                return None
            if fault is not None:
                self.finish(request, fault)
                return fault
        try:
            found = self.router.match(request.method, request.path)
            if found is None:
                raise HttpError(404, "NotFound", f"no such endpoint: {request.path}")
            handler, request.path_params = found
            response = handler(request)
        except HttpError as error:
            response = self.error_response(error)
            response.headers.update(error.headers)
        if not control:
            if self._hang("response"):
                return None  # the work is done, its answer never sent
            self.finish(request, response)
        return response

    def dispatch_websocket(self, request: Request) -> WebSocketHandler | Response | None:
        """The handler for a WebSocket handshake, a response refusing it, or None to drop it.

        Faults strike handshakes as they strike other requests.
        """
        control = request.path.startswith(CONTROL_PREFIX)
        fault = None if control else self.injected_fault(request)
        if fault == "drop":
            return None
        if fault is not None:
            return fault
        found = self.router.match_websocket(request.path)
        if found is None:
            missing = HttpError(404, "NotFound", f"no such stream: {request.path}")
            return self.error_response(missing)
        handler, request.path_params = found
        return handler

    def _get_clock(self, request: Request) -> Response:
        describe = getattr(self.clock, "describe", lambda: "system")
        return json_response({"clock": describe(), "now": self.clock.now().isoformat()})

    def _get_faults(self, request: Request) -> Response:
        body = self.faults.settings.as_dict() | {"counts": dict(self.faults.counts)}
        return json_response(body)

    def _set_faults(self, request: Request) -> Response:
        try:
            self.faults.settings.update(request.json())
        except (ValueError, TypeError) as error:
            raise HttpError(400, "InvalidRequest", str(error)) from None
        return self._get_faults(request)


__all__ = [
    "CONTROL_PREFIX",
    "Handler",
    "HttpError",
    "Request",
    "Response",
    "Router",
    "SandboxApp",
    "StreamResponse",
    "WebSocketClosed",
    "WebSocketHandler",
    "WebSocketSession",
    "json_response",
]
