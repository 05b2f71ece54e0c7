"""A WebSocket as a sandbox handler sees it: blocking calls from a worker thread."""

from __future__ import annotations

import threading
from contextlib import suppress
from typing import Any

import anyio
from anyio import from_thread
from starlette.websockets import WebSocket, WebSocketDisconnect

from chatbot.sandbox.messages import Request

# What a send or receive raises once the other side has gone (uvicorn's ClientDisconnected
# is an OSError; Starlette raises RuntimeError for a socket it already saw close).
_GONE = (WebSocketDisconnect, OSError, RuntimeError)


class WebSocketClosed(Exception):
    """The WebSocket is closed: by the client, or because the server is stopping."""

    def __init__(self, code: int = 1000):
        self.code = code
        super().__init__(f"WebSocket closed ({code})")


class WebSocketSession:
    """One WebSocket connection, driven by a synchronous handler in a worker thread.

    The handler sees the handshake as a :class:`Request` (path parameters,
    query, headers, bearer token), calls :meth:`accept`, then :meth:`send` and
    :meth:`receive` until they raise :class:`WebSocketClosed` or
    :attr:`closing` (the server stopping) is set. Each call waits for the
    event loop, so the handler's own pace never blocks other connections.
    """

    def __init__(self, request: Request, websocket: WebSocket, closing: threading.Event):
        self.request = request
        self.closing = closing
        self.subprotocols: list[str] = list(websocket.scope.get("subprotocols") or [])
        self.accepted = False
        self.closed = False
        self._websocket = websocket

    def accept(self, subprotocol: str | None = None) -> None:
        from_thread.run(self._websocket.accept, subprotocol)
        self.accepted = True

    def send(self, data: str | bytes) -> None:
        """Send one text (``str``) or binary (``bytes``) message."""
        if self.closed:
            raise WebSocketClosed()
        try:
            if isinstance(data, str):
                from_thread.run(self._websocket.send_text, data)
            else:
                from_thread.run(self._websocket.send_bytes, data)
        except _GONE:
            self.closed = True
            raise WebSocketClosed(1006) from None

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The next message from the client; None if none came within ``timeout`` seconds."""
        if self.closed:
            raise WebSocketClosed()
        try:
            message = from_thread.run(self._receive, timeout)
        except _GONE:
            self.closed = True
            raise WebSocketClosed(1006) from None
        if message is None:
            return None
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise WebSocketClosed(int(message.get("code") or 1000))
        text = message.get("text")
        return text if text is not None else bytes(message.get("bytes") or b"")

    async def _receive(self, timeout: float | None) -> dict[str, Any] | None:
        with anyio.move_on_after(timeout):
            return dict(await self._websocket.receive())
        return None

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (safe to call twice, or after the client left)."""
        if self.closed:
            return
        self.closed = True
        with suppress(*_GONE):
            from_thread.run(self._websocket.close, code, reason)


__all__ = ["WebSocketClosed", "WebSocketSession"]
