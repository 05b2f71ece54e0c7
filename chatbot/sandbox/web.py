"""A small threaded HTTP layer shared by the sandbox servers.

Standard library only: a router with ``{name}`` path parameters, JSON and
streaming responses, fault injection before routing, and ``/_sandbox/``
control endpoints that faults never touch (health, clock, faults).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chatbot.clock import Clock, SystemClock
from chatbot.sandbox.faults import Fault, FaultInjector

CONTROL_PREFIX = "/_sandbox/"


class HttpError(Exception):
    """Raised by handlers to answer with an error; the app renders the body."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str = "",
        headers: dict[str, str] | None = None,
    ):
        self.status = status
        self.error = error
        self.message = message or error
        self.headers = headers or {}
        super().__init__(f"{status} {error}: {self.message}")


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    _form: dict[str, list[str]] | None = None
    remote_addr: str = ""  # the client's IP, for per-IP rate limits

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def bearer_token(self) -> str | None:
        value = self.header("Authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise HttpError(400, "InvalidRequest", f"body is not valid JSON: {error}") from None

    def form(self) -> dict[str, list[str]]:
        """Body parameters from a urlencoded, multipart or JSON body."""
        if self._form is None:
            self._form = self._parse_form()
        return self._form

    def _parse_form(self) -> dict[str, list[str]]:
        content_type = (self.header("Content-Type") or "").lower()
        if not self.body:
            return {}
        if content_type.startswith("application/json"):
            data = self.json()
            if not isinstance(data, dict):
                raise HttpError(400, "InvalidRequest", "JSON body must be an object")
            result: dict[str, list[str]] = {}
            for key, value in data.items():
                values = value if isinstance(value, list) else [value]
                result[key] = [_scalar(v) for v in values]
            return result
        if content_type.startswith("multipart/form-data"):
            head = f"Content-Type: {self.header('Content-Type')}\r\n\r\n".encode()
            message = BytesParser(policy=HTTP).parsebytes(head + self.body)
            result = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name:
                    payload = part.get_payload(decode=True) or b""
                    result.setdefault(str(name), []).append(payload.decode("utf-8", "replace"))
            return result
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def _values(self, source: dict[str, list[str]], name: str) -> list[str]:
        return source.get(name, []) + source.get(f"{name}[]", [])

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter (``name`` or ``name[]``)."""
        values = self._values(self.query, name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self._values(self.query, name)

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a body parameter, falling back to the query string."""
        values = self._values(self.form(), name) or self._values(self.query, name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return self._values(self.form(), name) or self._values(self.query, name)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResponse:
    """A response written chunk by chunk (server-sent events)."""

    chunks: Iterator[bytes]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status=status, body=body, headers=dict(headers or {}))


Handler = Callable[[Request], Response | StreamResponse]


class Router:
    """Maps (method, path pattern) to handlers; ``{name}`` matches one segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        escaped = re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", escaped)
        self._routes.append((method.upper(), re.compile(f"^{regex}$"), handler))

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


class SandboxApp:
    """Routing, faults and control endpoints; subclasses add a network's API."""

    name = "sandbox"

    def __init__(self, *, clock: Clock | None = None, faults: FaultInjector | None = None):
        self.clock = clock or SystemClock()
        self.faults = faults or FaultInjector()
        self.router = Router()
        self.closing = threading.Event()
        self.router.add("GET", "/_sandbox/health", lambda r: json_response({"ok": True}))
        self.router.add("GET", "/_sandbox/clock", self._get_clock)
        self.router.add("GET", "/_sandbox/faults", self._get_faults)
        self.router.add("POST", "/_sandbox/faults", self._set_faults)

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
    def dispatch(self, request: Request) -> Response | StreamResponse | None:
        """Answer a request; ``None`` means drop the connection."""
        control = request.path.startswith(CONTROL_PREFIX)
        if not control:
            if self.faults.settings.unreachable:
                return None
            fault = self.faults.decide()
            if fault is Fault.DROP:
                return None
            if fault is Fault.SLOW:
                time.sleep(self.faults.settings.slow_seconds)
            elif fault is not None:
                response = self.fault_response(fault, request)
                self.finish(request, response)
                return response
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
            self.finish(request, response)
        return response

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body go out as two writes: no 40 ms stall
    server: _Server

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header from the app's clock, so clients that correct rate-limit
        reset times by the server's Date (Mastodon.py does) agree with a virtual clock."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return email.utils.format_datetime(self.server.app.clock.now().astimezone(UTC), usegmt=True)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the sandbox never logs requests (they may carry tokens)."""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            remote_addr=str(self.client_address[0]),
        )
        try:
            response = self.server.app.dispatch(request)
        except Exception as error:  # a sandbox bug must not kill the server
            response = self.server.app.error_response(
                HttpError(500, "InternalServerError", f"sandbox error: {error!r}")
            )
        if response is None:
            self._drop()
            return
        if isinstance(response, StreamResponse):
            self._stream(response)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _stream(self, response: StreamResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            for chunk in response.chunks:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _drop(self) -> None:
        """Reset the connection, as a crashed or unreachable server would."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp):
        self.app = app
        super().__init__(address, _Handler)


class SandboxHTTPServer:
    """Serves a :class:`SandboxApp` on 127.0.0.1 from a background thread."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self._server = _Server((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxHTTPServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sandbox-{self.app.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.app.closing.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = [
    "HttpError",
    "Request",
    "Response",
    "Router",
    "SandboxApp",
    "SandboxHTTPServer",
    "StreamResponse",
    "json_response",
]
