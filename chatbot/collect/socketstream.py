"""A stream received over one WebSocket in a background thread: the part every stream shares.

The subclass makes the connections (its ``_run`` loop: address, backoff,
what a refusal means) and says what a message means (``_handle``). Shared
here: starting and stopping the thread, the connected state the collector
reads, and receiving with a ping after ``receive_timeout`` seconds of silence,
so a dead link whose ping goes unanswered within ``pong_timeout`` is dropped
(and made again by the subclass) rather than trusted. Messages that have
already arrived when one is read are handled with it, in one batch.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

from websockets.sync.client import ClientConnection

log = logging.getLogger(__name__)
BATCH = 512  # messages already received, handled together


class SocketStream(ABC):
    """Thread, state and receive loop of a WebSocket stream (see the module)."""

    network = ""
    transport = "websocket"
    thread_name = "websocket-stream"
    label = "WebSocket stream"  # how log lines name it
    # websockets' ``decode``: None gives text messages as str; False as the bytes
    # received, so a parser that reads UTF-8 itself is spared a decoding of each.
    decode_text: bool | None = None

    def __init__(self, *, receive_timeout: float, pong_timeout: float, max_backoff: float):
        self.receive_timeout = receive_timeout
        self.pong_timeout = pong_timeout
        self.max_backoff = max_backoff
        self.connections = 0  # handshakes that succeeded
        self.stalls = 0  # connections given up for want of an answer to a ping
        self._gaps = 0  # reconnections not yet taken (see take_gaps)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._socket: ClientConnection | None = None
        self._thread: threading.Thread | None = None

    # -- the surface the collector uses ---------------------------------------
    def start(self) -> bool:
        """Start the background connection unless it runs; False when it may not start."""
        if not self._may_start():
            return False
        if self.running():
            return True
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return True

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def take_gaps(self) -> int:
        """Reconnections since the last call: each one is a stretch the stream missed."""
        with self._lock:
            gaps, self._gaps = self._gaps, 0
        return gaps

    def close(self, wait: float = 5.0) -> None:
        """Stop the stream; wait up to ``wait`` seconds for its thread (a daemon) to end."""
        self._stop.set()
        socket = self._socket
        if socket is not None:
            socket.close()
        if self._thread is not None:
            self._thread.join(timeout=wait)
            self._thread = None

    # -- for subclasses ----------------------------------------------------------
    def _may_start(self) -> bool:
        return True

    @abstractmethod
    def _run(self) -> None:
        """The connection loop: connect, :meth:`_opened`, :meth:`_receive`, :meth:`_closed`."""

    @abstractmethod
    def _handle(self, message: str | bytes) -> None:
        """What one message means."""

    def _opened(self, socket: ClientConnection) -> None:
        """Call once a handshake succeeded: the socket becomes the one to close."""
        self._socket = socket
        with self._lock:
            self.connections += 1
            if self.connections > 1:
                self._gaps += 1  # each reconnection: a stretch the stream may have missed
        self._connected.set()
        if self._stop.is_set():
            socket.close()

    def _closed(self) -> None:
        """Call when a connection ends, however it ended."""
        self._connected.clear()
        self._socket = None

    def _handle_batch(self, messages: list[str | bytes]) -> None:
        """What messages that came together mean (a subclass may take them in one go)."""
        for message in messages:
            self._handle(message)

    def _receive(self, socket: ClientConnection) -> None:
        while not self._stop.is_set():
            try:
                message = socket.recv(self.receive_timeout, self.decode_text)
            except TimeoutError:
                answered = socket.ping()
                if not answered.wait(self.pong_timeout):
                    self.stalls += 1
                    log.info("%s silent and unanswered; reconnecting", self.label)
                    return
                continue
            # What has come in behind it is taken in the same go (a replay, a busy
            # stream): one lock and one loop for the lot instead of one per message.
            batch = [message]
            try:
                while len(batch) < BATCH:
                    batch.append(socket.recv(0, self.decode_text))
            except TimeoutError:
                pass
            finally:  # a closed connection still hands over what came before it
                self._handle_batch(batch)


__all__ = ["SocketStream"]
