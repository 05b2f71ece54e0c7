"""The sandbox PDS's record keys: monotonic TIDs from its (possibly accelerated) clock.

What a TID is, and how it is written, is :mod:`chatbot.text.tid`'s; only the
generator, which reads the sandbox's clock, lives here.
"""

from __future__ import annotations

import random
import threading

from chatbot.clock import Clock
from chatbot.text.tid import MAX_CLOCK_ID, encode_tid, to_microseconds


class TidGenerator:
    """Monotonic TIDs from a (possibly accelerated) clock: never the same key twice."""

    def __init__(self, clock: Clock, seed: int | None = None):
        self.clock = clock
        self.clock_id = random.Random(seed).randrange(MAX_CLOCK_ID + 1)
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            now = to_microseconds(self.clock.now())
            # Two posts in the same microsecond (common with a fast clock) still get
            # distinct, increasing keys, as the reference PDS guarantees.
            self._last = max(now, self._last + 1)
            return encode_tid(self._last, self.clock_id)


__all__ = ["TidGenerator"]
