"""An event's live posts read again a batch at a time by id, so they can be written meanwhile.

A pass that writes back what it found (spam flags, attribution) reads the
rows again in batches with no cursor open while it writes. Paging with
``id > last ORDER BY id LIMIT n`` sorts the event's posts again for every
batch (the event's index is by time): quadratic. So the ids are read once
(8 bytes a post) and each batch is fetched by primary key.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select

from chatbot.collect.store import POST

STREAM_ROWS = 2_000  # ids read at a time (a server-side cursor on PostgreSQL)


def live_post_ids(connection: Connection, event_id: int) -> array[int]:
    """The ids of the event's posts not deleted, in id order."""
    query = (
        select(POST.c.id)
        .where(POST.c.event_id == event_id, POST.c.deleted_at.is_(None))
        .order_by(POST.c.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    return array("q", (row_id for (row_id,) in connection.execute(query)))


def row_batches(
    connection: Connection, columns: Sequence[Any], ids: Sequence[int], size: int
) -> Iterator[list[Any]]:
    """``columns`` of the posts ``ids``, ``size`` at a time in that order, each batch read whole."""
    for start in range(0, len(ids), size):
        batch = list(ids[start : start + size])
        query = select(POST.c.id, *columns).where(POST.c.id.in_(batch))
        found = {row.id: row for row in connection.execute(query)}
        yield [found[row_id] for row_id in batch if row_id in found]


__all__ = ["live_post_ids", "row_batches"]
