"""Which bot process collects an event when several share one PostgreSQL database.

Every ``chatbot run`` collects the events in their collection windows. Run
several (posting spreads over them) and each used to collect every event:
nothing was stored twice, but every request was paid once per process, and on
Bluesky, whose answers carry no budget to follow, P processes could spend P
times the collector's half of the limit. Now one process collects an event:
the one holding the event's session-level advisory lock. The lock lives as
long as the process's own connection, so a process that stops or dies lets
go of its events at once, and another takes them over at its next look (and
a lost connection, found by a ping at each look, lets go too). SQLite has no
such locks; there every job collects, as one process on one machine does.
"""

from __future__ import annotations

import logging
import threading
from contextlib import suppress

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

# The first key of the two-key advisory locks taken here ("CHAT"); the second is the
# event's id. Other lock users of the database pick other first keys.
LOCK_SPACE = 0x43484154

__all__ = ["LOCK_SPACE", "CollectionLocks"]


class CollectionLocks:
    """The events this process collects, by advisory locks on a connection of its own."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.enabled = engine.dialect.name == "postgresql"
        self.held: set[int] = set()
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Make sure the locks held are still held (a ping); forget them all if not."""
        if not self.enabled or self._connection is None:
            return
        with self._lock:
            try:
                self._connect().execute(text("SELECT 1"))
            except SQLAlchemyError as error:
                log.info("collection locks lost with their connection: %s", error)
                self._drop()

    def claim(self, event_id: int) -> bool:
        """True when this process collects ``event_id``: it holds the lock, or takes it now."""
        if not self.enabled:
            return True
        with self._lock:
            if event_id in self.held:
                return True
            try:
                taken = self._connect().execute(
                    text("SELECT pg_try_advisory_lock(:space, :event)"),
                    {"space": LOCK_SPACE, "event": event_id},
                )
                if taken.scalar():
                    self.held.add(event_id)
                    return True
            except SQLAlchemyError as error:
                log.info("could not ask who collects event %s: %s", event_id, error)
                self._drop()
            return False

    def close(self) -> None:
        """Let go of every event (the runner is stopping)."""
        with self._lock:
            if self._connection is not None:
                # Closing the connection lets go of them anyway, should this fail.
                with suppress(SQLAlchemyError):
                    self._connection.execute(text("SELECT pg_advisory_unlock_all()"))
            self._drop()

    def _connect(self) -> Connection:
        if self._connection is None:
            # Autocommit: the connection must not sit idle inside a transaction for hours.
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    def _drop(self) -> None:
        self.held.clear()
        if self._connection is not None:
            with suppress(SQLAlchemyError):
                self._connection.close()
            self._connection = None
