"""Stopping a long-running command on SIGINT or SIGTERM: within 2 s, losing nothing.

A service manager sends SIGTERM and waits a little before SIGKILL, whatever
the networks do; so a first signal asks the command's work to stop
(``on_stop``), which then has :data:`STOP_GRACE` seconds to finish what it is
doing. Work still waiting on a network after that is left behind in a state
the next run resumes from (a post being sent is given back and sent again with
the same key, which the networks deduplicate), and :func:`leave` ends the
process without waiting for the threads stuck on the network. Before the work
runs (while connecting, checking accounts), there is nothing to finish: the
signal raises :class:`StopRequested` where the main thread is. A second
signal ends the process at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType

import click

from chatbot.defaults import STOP_GRACE

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(BaseException):
    """A stop signal arrived before the command's work took over stopping.

    A BaseException, as KeyboardInterrupt: the clients' broad ``except Exception``
    must not take it for a network error and carry on.
    """

    def __init__(self, number: int):
        super().__init__(signal.Signals(number).name)
        self.number = number


class StopSignals:
    """The handlers of SIGINT and SIGTERM for one long-running command.

    Until :meth:`attach` names how to stop the work, a signal raises
    :class:`StopRequested` in the main thread; afterwards it calls that
    function. A second signal says ``at_once`` and leaves with 130.
    """

    def __init__(self, at_once: str = "Stopped at once."):
        self.at_once = at_once
        self.number: int | None = None  # the first signal received
        self._on_stop: Callable[[], None] | None = None

    @property
    def requested(self) -> bool:
        return self.number is not None

    def attach(self, on_stop: Callable[[], None]) -> None:
        """From now on, a signal calls ``on_stop()`` (at once if one came already)."""
        self._on_stop = on_stop
        if self.requested:
            on_stop()

    def handle(self, number: int, frame: FrameType | None) -> None:
        if self.requested:
            say(self.at_once)
            os._exit(130)  # a second signal: out now, whatever is in flight
        self.number = number
        if self._on_stop is None:
            raise StopRequested(number)
        self._on_stop()


@contextmanager
def stop_signals(at_once: str = "Stopped at once.") -> Iterator[StopSignals]:
    """Install :class:`StopSignals` for SIGINT and SIGTERM; the old handlers come back after.

    Signals can be handled in the main thread only: elsewhere (a command run
    by a test in a thread) this installs nothing and the signals keep their
    handlers.
    """
    handlers = StopSignals(at_once)
    if threading.current_thread() is not threading.main_thread():
        yield handlers
        return
    previous = {number: signal.signal(number, handlers.handle) for number in SIGNALS}
    try:
        yield handlers
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def say(line: str) -> None:
    """One line on standard error (stdout may carry a --json document), flushed."""
    click.echo(line, err=True)
    sys.stderr.flush()


def leave(code: int, *, promptly: bool = True) -> None:
    """End the command with ``code``; ``promptly``: even while threads wait on a network.

    At exit the interpreter waits for every worker thread of a thread pool,
    daemon or not (a request to a server that never answers: until its 30 s
    timeout). After a stop their work is stored or given back, so nothing is
    lost by not waiting. Without ``promptly`` (no stop was asked for) this is
    a plain exit.
    """
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    if promptly:
        os._exit(code)
    sys.exit(code)


__all__ = ["SIGNALS", "STOP_GRACE", "StopRequested", "StopSignals", "leave", "say", "stop_signals"]
