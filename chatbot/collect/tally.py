"""What each source did for an event, summed over passes in ``source_tally`` (for the report)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from chatbot.collect.report import NetworkReport
from chatbot.models import SourceTally, table_of

TALLY = table_of(SourceTally)


def save_tallies(
    connection: Connection, event_id: int, network: str, part: NetworkReport, now: datetime
) -> None:
    """Add a pass's pages, requests and errors per server and source; keep the last feed state.

    Called once per pass and network with that pass's report (a few rows: one
    per server and kind of reading), in the caller's transaction.
    """
    counts = {key: count for key, count in part.sources.items() if key[0] and key[1]}
    if not counts:
        return
    stored = {
        (row.instance, row.source): row
        for row in connection.execute(
            select(TALLY).where(TALLY.c.event_id == event_id, TALLY.c.network == network)
        )
    }
    for (instance, source), count in counts.items():
        row = stored.get((instance, source))
        values: dict[str, object] = {"updated_at": now}
        if count.feed:
            values["feed"] = count.feed
        if count.last_error:
            values["last_error"] = count.last_error
        if count.tag_history is not None:
            values["tag_history"] = count.tag_history
        if row is None:
            connection.execute(
                insert(TALLY).values(
                    event_id=event_id,
                    network=network,
                    instance=instance,
                    source=source,
                    pages=count.pages,
                    requests=count.requests,
                    errors=count.errors,
                    **values,
                )
            )
        else:
            connection.execute(
                update(TALLY)
                .where(TALLY.c.id == row.id)
                .values(
                    pages=TALLY.c.pages + count.pages,
                    requests=TALLY.c.requests + count.requests,
                    errors=TALLY.c.errors + count.errors,
                    **values,
                )
            )


__all__ = ["save_tallies"]
