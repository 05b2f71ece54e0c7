"""Hiding a post at the moderator's word: a reason in the database, and on Bluesky a threadgate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from chatbot.collect.events import delivered
from chatbot.collect.lookup import find_post
from chatbot.db import session_scope
from chatbot.errors import ChatbotError, UsageError
from chatbot.eventref import resolve_event
from chatbot.models import utcnow
from chatbot.platforms.base import Platform, RemoteRef

BY_REQUEST = "by request:"


@dataclass(frozen=True)
class HideReport:
    """What ``hide_post`` did."""

    uri: str
    network: str
    reason: str
    threadgate: bool  # also hidden under the bot's post on Bluesky
    already: bool  # it was hidden before (the reason is replaced)
    threadgate_error: str | None = None  # why the threadgate could not be set (hidden anyway)

    def message(self) -> str:
        """What the moderator is told: where it is hidden, and what is left to do."""
        where = " and in the Bluesky thread (threadgate)" if self.threadgate else ""
        again = " (it was hidden already; reason replaced)" if self.already else ""
        text = f"Hidden {self.uri} from exports{where}{again}."
        if self.threadgate_error is not None:
            text += (
                f" Not hidden in the Bluesky thread: {self.threadgate_error}; run the same "
                "command again to set the threadgate."
            )
        return text


MAX_REASON = 1000  # characters: why a post is hidden, kept with it


def hide_post(
    engine: Engine,
    event_name: str,
    target: str,
    reason: str,
    *,
    by_request: bool = False,
    connect: Callable[[str], Platform] | None = None,
    now: datetime | None = None,
) -> HideReport:
    """Hide the post ``target`` (its URL, URI or id) of an event from every export.

    With ``connect`` (network -> adapter), a Bluesky reply in the thread of one
    of the bot's own posts is also added to that post's threadgate
    ``hiddenReplies``, so Bluesky apps hide it too.
    """
    reason = reason.strip()
    if not reason:
        raise UsageError("give a reason with --reason: hidden posts keep one")
    if len(reason) > MAX_REASON:  # the live page's form reaches here too
        raise UsageError(f"the reason is {len(reason):,} characters long; at most {MAX_REASON:,}")
    stored = f"{BY_REQUEST} {reason}" if by_request else reason
    with session_scope(engine) as session:
        event = resolve_event(session, event_name, purpose="record", now=now or utcnow())
        post = find_post(session, event, target, shown="shown in the transcript")
        already = post.hidden_reason is not None
        post.hidden_reason = stored
        post.last_seen_at = utcnow()
        session.add(post)
        own = {row.remote_uri: row for row in delivered(session, event.id or 0, "bluesky")}
        root = own.get(post.root_uri or "") or own.get(post.parent_uri or "")
        gate = None
        if post.network == "bluesky" and root is not None and root.remote_uri:
            gate = RemoteRef(
                "bluesky", root.remote_id or "", root.remote_uri, "", root.remote_cid or ""
            )
        uri, network = post.uri, post.network
    # Hidden in the store whatever the network does next: the threadgate is a second
    # place, and running the same hide again sets it (the reason is kept).
    done, error = False, None
    if gate is not None and connect is not None:
        try:
            platform = connect("bluesky")
            platform.hide_reply(gate, uri)  # type: ignore[attr-defined]
            done = True
        except ChatbotError as failure:
            error = str(failure)
    return HideReport(uri, network, stored, done, already, error)


__all__ = ["BY_REQUEST", "MAX_REASON", "HideReport", "hide_post"]
