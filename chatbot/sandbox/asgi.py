"""A :class:`SandboxApp` as an ASGI application: its sync handlers behind uvicorn.

HTTP requests go straight to a small ASGI callable: read the body, build our
:class:`Request`, dispatch, send the status line and headers, then the body.
Starlette's router, middleware and request/response objects added nothing the
app doesn't do itself (it routes, it answers its own 404 and 405) and cost
about a tenth of a millisecond a request. WebSocket handshakes use Starlette's
:class:`~starlette.websockets.WebSocket`, which the handlers' sessions wrap.

A handler runs on the event loop: handlers only compute, and a hop to a
worker thread would cost more than most of them take. What may block goes to
worker threads: every request while a slow fault can strike (it sleeps), each
step of a stream (it waits for its next event; streams end when the client
leaves or the server closes), and WebSocket handlers.

Dropping a connection needs the server: it puts an async callable under
:data:`ABORT` in the scope's extensions that resets the connection.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import anyio
from anyio import to_thread
from starlette.datastructures import Headers
from starlette.responses import Response as StarletteResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from chatbot.sandbox.messages import HttpError, Request, Response, StreamResponse
from chatbot.sandbox.websocket import WebSocketClosed, WebSocketSession

if TYPE_CHECKING:
    from chatbot.sandbox.web import SandboxApp, WebSocketHandler

ABORT = "chatbot.sandbox.abort"


def asgi_app(app: SandboxApp) -> ASGIApp:
    """The ASGI application serving ``app`` (HTTP and WebSocket; no lifespan events)."""
    bridge = _Bridge(app)

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await bridge.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await bridge.websocket(WebSocket(scope, receive, send))

    return serve


def sandbox_request(scope: Scope, body: bytes) -> Request:
    """Our :class:`Request` for an ASGI scope; the path stays percent-encoded, as sent."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    client = scope.get("client")
    return Request(
        method=scope.get("method", "GET"),
        path=path,
        query=parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
        headers=Headers(scope=scope),
        body=body,
        remote_addr=str(client[0]) if client else "",
    )


def _encode(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


class _Bridge:
    def __init__(self, app: SandboxApp):
        self.app = app

    def date(self) -> str:
        """The Date header from the app's clock, so clients that correct rate-limit
        reset times by the server's Date (Mastodon.py does) agree with a virtual clock."""
        return email.utils.format_datetime(self.app.clock.now().astimezone(UTC), usegmt=True)

    def _dispatch(self, request: Request) -> Response | StreamResponse | None:
        try:
            return self.app.dispatch(request)
        except Exception as error:  # a sandbox bug must not kill the server
            return self.app.error_response(
                HttpError(500, "InternalServerError", f"sandbox error: {error!r}")
            )

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        if body is None:
            return  # the client left before it finished sending
        request = sandbox_request(scope, body)
        answer: Response | StreamResponse | None
        if self.app.may_block(request):
            answer = await to_thread.run_sync(self._dispatch, request)
        else:
            answer = self._dispatch(request)  # a thread hop would cost more than most handlers
        if answer is None:
            await _drop(scope)
        elif isinstance(answer, StreamResponse):
            await _stream(answer, self.date(), receive, send)
        else:
            headers = {"Content-Type": answer.content_type, **answer.headers, "Date": self.date()}
            raw = _encode(headers)
            if _has_body(answer.status) and all(name != b"content-length" for name, _ in raw):
                raw.append((b"content-length", b"%d" % len(answer.body)))
            await send({"type": "http.response.start", "status": answer.status, "headers": raw})
            await send({"type": "http.response.body", "body": answer.body})

    async def websocket(self, websocket: WebSocket) -> None:
        request = sandbox_request(websocket.scope, b"")
        outcome = await to_thread.run_sync(self._dispatch_websocket, request)
        if outcome is None:
            await _drop(websocket.scope)
            return
        refusal: Response | None = None
        if isinstance(outcome, Response):
            refusal = outcome
        else:
            session = WebSocketSession(request, websocket, self.app.closing)
            refusal = await to_thread.run_sync(self._converse, outcome, session)
        if refusal is not None:
            headers = {"Content-Type": refusal.content_type, **refusal.headers, "Date": self.date()}
            await websocket.send_denial_response(
                StarletteResponse(refusal.body, refusal.status, headers)
            )

    def _dispatch_websocket(self, request: Request) -> WebSocketHandler | Response | None:
        try:
            return self.app.dispatch_websocket(request)
        except Exception as error:
            return self.app.error_response(
                HttpError(500, "InternalServerError", f"sandbox error: {error!r}")
            )

    def _converse(self, handler: WebSocketHandler, session: WebSocketSession) -> Response | None:
        """Run ``handler``; returns the response refusing the handshake if it never accepted."""
        try:
            handler(session)
        except HttpError as error:
            if not session.accepted:
                response = self.app.error_response(error)
                response.headers.update(error.headers)
                return response
            session.close(1008, error.message[:120])
        except WebSocketClosed:
            pass
        except Exception as error:
            if not session.accepted:
                return self.app.error_response(
                    HttpError(500, "InternalServerError", f"sandbox error: {error!r}")
                )
            session.close(1011)
        if not session.accepted:
            return self.app.error_response(HttpError(403, "Forbidden", "handshake refused"))
        session.close()
        return None


def _has_body(status: int) -> bool:
    """Whether a response with ``status`` carries a body (and so a Content-Length)."""
    return status >= 200 and status not in (204, 304)


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None if the client disconnected first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _drop(scope: Scope) -> None:
    """No answer at all: the server resets the connection, as a crashed server would."""
    abort = scope.get("extensions", {}).get(ABORT)
    if abort is None:
        raise RuntimeError("this server can't drop connections")
    await abort()


async def _stream(stream: StreamResponse, date: str, receive: Receive, send: Send) -> None:
    """Send a :class:`StreamResponse` chunk by chunk (server-sent events), chunked encoding."""
    headers = {
        "Content-Type": stream.content_type,
        "Cache-Control": "no-store",
        **stream.headers,
        "Date": date,
    }
    chunks = iter(stream.chunks)
    start = {"type": "http.response.start", "status": stream.status, "headers": _encode(headers)}
    await send(start)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
            while True:
                # Not cancellable mid-call: a stream's next() returns within its poll time.
                chunk = await to_thread.run_sync(next, chunks, None)
                if chunk is None:
                    break
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            group.cancel_scope.cancel()
    finally:
        close: Any = getattr(chunks, "close", None)
        if close is not None:
            close()  # runs the stream's own clean-up (unsubscribing) now


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


__all__ = ["ABORT", "asgi_app", "sandbox_request"]
