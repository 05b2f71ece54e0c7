"""``chatbot run`` in a process that dies right after a network accepted a post (test hook).

Run as ``python -m tests.scheduler.crashing_run RATE run ARGS...``: the real
command line, except that each adapter's ``post`` exits the process at once
(exit code :data:`CRASHED`) with probability RATE after the network accepted
the post and before the database records it, as a crash there would. The
adapters are handed in through the click context object that ``chatbot
run`` reads its ``connect`` from; nothing of the clients is patched.
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any

from chatbot.cli import cli
from chatbot.platforms import Platform, connect
from chatbot.platforms.credentials import Credentials

CRASHED = 86


class CrashAfterSend:
    """A platform adapter that may end the process right after a successful post."""

    def __init__(self, inner: Platform, rate: float, rng: random.Random):
        self._inner, self._rate, self._rng = inner, rate, rng

    def post(self, *args: Any, **kwargs: Any) -> Any:
        ref = self._inner.post(*args, **kwargs)
        if self._rng.random() < self._rate:
            os._exit(CRASHED)
        return ref

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def main(argv: list[str]) -> None:
    rate, args = float(argv[0]), argv[1:]
    rng = random.Random()

    def crashing_connect(network: str, credentials: Credentials, **options: Any) -> Any:
        return CrashAfterSend(connect(network, credentials, **options), rate, rng)

    cli.main(args=args, prog_name="chatbot", obj={"connect": crashing_connect})


if __name__ == "__main__":
    main(sys.argv[1:])
