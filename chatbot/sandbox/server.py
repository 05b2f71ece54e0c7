"""Serve an ASGI app with uvicorn from background threads, on 127.0.0.1 and a free port.

The sandbox servers, and anything else the project serves, run this way:
``start()`` returns once the server listens, ``stop()`` ends open streams and
closes every connection within a second or two.

Two event loops, each in its own thread with its own uvicorn server, accept
from one listening socket: while one loop waits in the kernel (sending a
response over loopback costs tens of microseconds), the other runs Python,
as the threads of the stdlib server this replaced did (benchmarks/bench_sandbox.py).

uvicorn writes a response's head and its body as two sends: two system calls,
two packets and two wake-ups of the client for every answer. Our connections
hold a head that announces a Content-Length until the body's first write and
send both at once (:class:`_OneSend`); streamed (chunked) heads go out at once.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, cast

import uvicorn
from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import ClientDisconnected

from chatbot.sandbox.asgi import ABORT, asgi_app

if TYPE_CHECKING:
    from chatbot.sandbox.web import SandboxApp

# Handlers are blocking calls in worker threads (a slow fault sleeps in one, a WebSocket
# holds one); anyio's default of 40 would queue requests behind them.
WORKER_THREADS = 400
LOOPS = 2
KEEP_ALIVE_SECONDS = 3600
GRACE_SECONDS = 2.0  # how long stop() lets responses finish before resetting connections
_POLL_SECONDS = 0.01


class _Server(uvicorn.Server):
    """uvicorn's server, woken at once by :meth:`wake` and quick to shut down."""

    def __init__(self, config: uvicorn.Config):
        super().__init__(config)
        self.listening = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        await super().startup(sockets=sockets)
        self.listening.set()

    async def main_loop(self) -> None:
        assert self._stop is not None
        await self._stop.wait()

    def wake(self) -> None:
        """Ask the server to stop (from any thread)."""
        self.should_exit = True
        if self.loop is not None and self._stop is not None:
            with suppress(RuntimeError):  # the loop has already closed
                self.loop.call_soon_threadsafe(self._stop.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle ones close now, busy ones after their response
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GRACE_SECONDS
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(_POLL_SECONDS)
        for connection in list(state.connections):
            connection.transport.abort()
        for task in list(state.tasks):
            task.cancel()

    def abort(self, client: tuple[str, int] | None) -> None:
        """Reset the connection from ``client`` (an RST, no FIN), as a crashed server would."""
        for connection in list(self.server_state.connections):
            if client is not None and getattr(connection, "client", None) == client:
                transport = connection.transport
                raw = transport.get_extra_info("socket")
                if raw is not None:
                    with suppress(OSError):
                        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()


class _OneSend:
    """A connection's transport as one response sees it: a head that announces a body
    waits for the body's first write, and both go out in one send.

    Everything else passes straight through: heads of streams (chunked, no
    Content-Length) and of HEAD answers (no body follows), closing, aborting.
    """

    __slots__ = ("_head", "_transport")

    def __init__(self, transport: asyncio.Transport):
        self._transport = transport
        self._head = b""

    def write(self, data: bytes) -> None:
        if self._head:
            data, self._head = self._head + data, b""
        elif data.endswith(b"\r\n\r\n") and b"\r\ncontent-length: " in data:
            self._head = data  # uvicorn writes a head in one piece, names lower-cased
            return
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, sending each response's head and body together."""

    def on_headers_complete(self) -> None:
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not before and self.scope["method"] != "HEAD":
            self.cycle.transport = cast(asyncio.Transport, _OneSend(self.transport))


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound now so the URL is known before start() (Mastodon needs it).

    Made with an explicit IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets whose
    ``proto`` says TCP, and without it every keep-alive response after the first
    waits 40 ms for a delayed ACK (headers and body go out as two writes).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class ASGIThreadServer:
    """Runs ``asgi`` under uvicorn in ``loops`` daemon threads on ``host``:``port`` (0: free)."""

    def __init__(
        self,
        asgi: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "asgi",
        loops: int = LOOPS,
    ):
        self.name = name
        self._socket = _listen(host, port)
        self._asgi = asgi
        self._servers = [_Server(self._config()) for _ in range(loops)]
        self._threads: list[threading.Thread] = []

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self._app,
            http=_Protocol,  # httptools (a dependency): h11, pure Python, is slower
            ws="websockets-sansio",
            loop="asyncio",
            interface="asgi3",
            lifespan="off",
            log_config=None,  # leave the host program's logging alone
            log_level="warning",
            access_log=False,  # never log requests: they may carry tokens
            proxy_headers=False,  # remote_addr is the peer, whatever headers say
            server_header=False,
            date_header=False,  # the app sends its own, from its clock
            # Idle keep-alive connections stay open, as the stdlib server's did: closing them
            # after uvicorn's 5 s races a client reusing one (stop() closes them anyway).
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope.setdefault("extensions", {})[ABORT] = self._aborter(scope)
        await self._asgi(scope, receive, send)

    def _aborter(self, scope: Scope) -> Callable[[], Awaitable[None]]:
        async def abort() -> None:
            loop = asyncio.get_running_loop()
            for server in self._servers:
                if server.loop is loop:  # the connection belongs to the loop serving it
                    server.abort(scope.get("client"))
            await asyncio.sleep(0)  # let the protocol see the loss before the app returns
            if scope["type"] == "websocket":
                raise ClientDisconnected  # how uvicorn's WebSocket protocol expects to hear it

        return abort

    def start(self) -> Any:
        """Serve from background threads; returns once the server is listening."""
        for server in self._servers:
            thread = threading.Thread(
                target=server.run,
                kwargs={"sockets": [self._socket.dup()]},  # each loop closes its own
                name=f"sandbox-{self.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
            while not server.listening.wait(0.05):
                if not thread.is_alive():
                    raise RuntimeError(f"the {self.name} server did not start")
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket; safe to call twice."""
        for server in self._servers:
            server.wake()
        for thread in self._threads:
            thread.join(timeout=GRACE_SECONDS + 3)
        self._socket.close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SandboxHTTPServer(ASGIThreadServer):
    """Serves a :class:`SandboxApp` on 127.0.0.1 from background threads."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        super().__init__(asgi_app(app), host=host, port=port, name=app.name)

    def start(self) -> SandboxHTTPServer:
        super().start()
        return self

    def stop(self) -> None:
        self.app.closing.set()  # streams and WebSocket handlers end on their own
        super().stop()

    def __enter__(self) -> SandboxHTTPServer:
        return self.start()


__all__ = ["ASGIThreadServer", "SandboxHTTPServer"]
