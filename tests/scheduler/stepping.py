"""Stepping a real ``chatbot run`` through a chat on a clock only the test moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.clock import FileClock
from chatbot.models import PostDelivery
from tests.scheduler.conftest import wait_for


def file_clock(tmp: Path) -> FileClock:
    """A clock shared through a file in ``tmp``, standing at the current second."""
    return FileClock(tmp / "clock", start=datetime.now(UTC).replace(microsecond=0))


def due_times(engine: Engine, event_id: int) -> list[datetime]:
    """Every distinct due time of the event's posts, earliest first."""
    with Session(engine) as session:
        rows = session.exec(select(PostDelivery.due_at).where(PostDelivery.event_id == event_id))
        dues = sorted(set(rows))
    assert dues  # a chat with posts to step through
    return dues


def open_due_by(engine: Engine, event_id: int, when: datetime) -> list[str]:
    """The states of the deliveries due by ``when`` that are not final yet."""
    with Session(engine) as session:
        rows = session.exec(
            select(PostDelivery.state).where(
                PostDelivery.event_id == event_id, PostDelivery.due_at <= when
            )
        )
        return [state for state in rows if state in ("pending", "posting")]


def step_to(engine: Engine, clock: FileClock, event_id: int, due: datetime) -> None:
    """Move the clock to ``due`` (never back); wait until the run has posted all due by then."""
    clock.set(max(clock.now(), due))
    wait_for(lambda: not open_due_by(engine, event_id, due), timeout=90, step=0.1)


def step_through_posts(
    engine: Engine,
    clock: FileClock,
    event_id: int,
    around: Callable[[int], object] | None = None,
) -> None:
    """Step to each due time in turn; ``around(index)`` runs before each step if given."""
    for index, due in enumerate(due_times(engine, event_id)):
        if around is not None:
            around(index)
        step_to(engine, clock, event_id, due)
