"""Which question threads to read this pass: those whose reply count moved since the last read.

Reading every question's thread on every pass costs a request or two per
question per pass, hundreds over a chat, mostly to learn that nothing
changed. The posts' own reply counts come cheaper: Bluesky's getPosts takes
25 posts a request and Mastodon 4.3+'s GET /api/v1/statuses 40 (one request
per status elsewhere). So a pass reads those counts and then only the threads
whose count is not the one it had when the thread was last read, or that
did not answer (deleted, or the count could not be read). The counts at the
last read are kept in ``collection_cursor`` (source ``question_counts``),
written after the threads are stored, so a crash in between reads them again.

Replies deeper down (to an answer, not to the question) leave the question's
count alone: the periodic check of every known post (and the live streams)
finds those.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from chatbot.collect.pacing import OutOfBudget
from chatbot.collect.queries import load_cursor, save_cursor
from chatbot.db import session_scope
from chatbot.errors import PlatformError, RateLimitedError
from chatbot.platforms.base import RemoteRef

SOURCE = "question_counts"

__all__ = ["SOURCE", "QuestionCounts", "threads_to_read"]


def threads_to_read(
    questions: Sequence[RemoteRef], counts: dict[str, int] | None, last: dict[str, int]
) -> list[RemoteRef]:
    """The questions whose thread to read: all when ``counts`` is None (unknown), else those
    without a count now (gone, or not answered) or whose count is not ``last``'s."""
    if counts is None:
        return list(questions)
    return [
        ref for ref in questions if ref.uri not in counts or counts[ref.uri] != last.get(ref.uri)
    ]


class QuestionCounts:
    """One pass's use of the stored counts: ``to_read``, then ``read`` per thread, ``save``."""

    def __init__(self, engine: Engine, event_id: int, network: str) -> None:
        self.engine, self.event_id, self.network = engine, event_id, network
        with session_scope(engine) as session:
            state = load_cursor(session, event_id, network, SOURCE)
        raw = state.get("read") or {}
        self.last: dict[str, int] = {
            str(uri): count for uri, count in raw.items() if isinstance(count, int)
        } if isinstance(raw, dict) else {}  # fmt: skip
        self.counts: dict[str, int] | None = None
        self._changed = False

    def to_read(self, source: Any, questions: Sequence[RemoteRef], spend: Any) -> list[RemoteRef]:
        """The question threads this pass must read (reading the counts on the budget)."""
        counts_of = getattr(source, "reply_counts", None)
        if not questions or counts_of is None:
            return list(questions)
        try:
            self.counts = counts_of(questions, spend)
        except (OutOfBudget, RateLimitedError):
            raise
        except PlatformError:
            self.counts = None  # can't tell what moved: read them all
        return threads_to_read(questions, self.counts, self.last)

    def read(self, uri: str) -> None:
        """``uri``'s thread was read and stored: remember the count it had."""
        if self.counts is not None and uri in self.counts:
            self.last[uri] = self.counts[uri]
            self._changed = True

    def save(self, now: datetime) -> None:
        if self._changed:
            with session_scope(self.engine) as session:
                save_cursor(session, self.event_id, self.network, SOURCE, {"read": self.last}, now)
            self._changed = False
