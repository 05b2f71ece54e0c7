"""Posts left ``posting`` by a process of this machine that has ended: given back at start-up.

A run that is killed (a second Ctrl-C, SIGKILL, a crash, the machine going
down) leaves the posts it was sending in ``posting``. Until now the next run
took them again only after the lease (five minutes), and each one held up its
chat's later posts on that network as long. A claim names its process
(``claimed_by`` is host:pid:tag, ``scheduler.worker_name``): when that host is
this one and no process with that pid runs, nobody is sending the post, and
the next run gives it back at once (pending, same key, tries kept), exactly
as a stop that could not wait for it does. The networks keep one copy of a
post sent again with its key, and the key's hour still counts from the first
try (``delivery.decide``). A pid that runs again (reused by another program)
or a claim from another machine is left to the lease.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy
from sqlalchemy import Connection, Engine
from sqlmodel import col

from chatbot import db
from chatbot.models import Event, LateReply, PostDelivery, ScheduledPost

__all__ = ["GivenBack", "give_back_orphans", "process_gone"]


@dataclass(frozen=True)
class GivenBack:
    """A post (or late joiner's reply) a stopped process of this machine was sending."""

    label: str
    network: str
    timezone: str


def process_gone(worker: str | None, host: str | None = None) -> bool:
    """True when ``worker`` names a process of this host (``host``) that no longer runs.

    Anything else is False: another host's process, a name not in the
    host:pid:tag form, this very process, or a pid in use (by the same run
    or by a program that took the number since).
    """
    if not worker:
        return False
    parts = worker.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    name, pid = parts[0], int(parts[1])
    if name != (host if host is not None else socket.gethostname()) or pid in (0, os.getpid()):
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user's process
        return False
    return False


def give_back_orphans(engine: Engine, *, now: datetime) -> list[GivenBack]:
    """Give back every post and reply in ``posting`` whose process of this host has ended."""
    found: list[GivenBack] = []
    with db.session_scope(engine) as session:
        connection = session.connection()
        posts = connection.execute(
            sqlalchemy.select(
                col(PostDelivery.id), col(PostDelivery.claimed_by), col(PostDelivery.network),
                col(ScheduledPost.label), col(Event.timezone),
            )
            .join(ScheduledPost, col(ScheduledPost.id) == col(PostDelivery.scheduled_post_id))
            .join(Event, col(Event.id) == col(PostDelivery.event_id))
            .where(col(PostDelivery.state) == "posting")
        ).all()  # fmt: skip
        replies = connection.execute(
            sqlalchemy.select(
                col(LateReply.id), col(LateReply.claimed_by), col(LateReply.network),
                col(LateReply.label), col(Event.timezone),
            )
            .join(Event, col(Event.id) == col(LateReply.event_id))
            .where(col(LateReply.state) == "posting")
        ).all()  # fmt: skip
        for table, rows, prefix in ((PostDelivery, posts, ""), (LateReply, replies, "reply: ")):
            for row_id, worker, network, label, timezone in rows:
                if row_id is None or worker is None or not process_gone(worker):
                    continue
                if _give_back(connection, table, row_id, worker, now):
                    found.append(GivenBack(f"{prefix}{label}", network, timezone))
    return found


def _give_back(
    connection: Connection,
    table: type[PostDelivery] | type[LateReply],
    row_id: int,
    worker: str,
    now: datetime,
) -> bool:
    """Pending again, same key and tries, if still claimed by ``worker``; True if it was."""
    changed = connection.execute(
        sqlalchemy.update(table)
        .where(
            col(table.id) == row_id, col(table.state) == "posting",
            col(table.claimed_by) == worker,
        )
        .values(state="pending", claimed_by=None, updated_at=now)
    )  # fmt: skip
    return bool(changed.rowcount)
