"""Which chats answer requests for a question now, on which network: their windows.

A window opens with the chat's first post out on a network (the welcome) and
closes ``replies.GRACE`` after its last, once none is left to send.  Read by
the late-joiner job (``bot.latejoiners``) at every look, so it reads plain
columns, and a chat's posts only when they changed since the last look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, func
from sqlalchemy import select as core_select

from chatbot import db
from chatbot.bot.asking import PostedQuestion
from chatbot.bot.replies import GRACE, REPLY_EVENT_STATES
from chatbot.models import Event, PostDelivery, ScheduledPost, table_of
from chatbot.text.length import MASTODON_DEFAULT_LIMIT


@dataclass
class Window:
    """One chat on one network while requests are answered there."""

    event_id: int
    network: str
    tag: str  # hashtag_key
    opens: datetime  # the first post of the chat there (the welcome)
    closes: datetime | None  # the last post plus the grace period; None: still going
    questions: list[PostedQuestion]
    own: set[str]  # the chat's posts there: URIs and ids, for replies to them
    limit: int  # the network's post length (Mastodon: the event's max_characters)

    def covers(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        return moment >= self.opens and (self.closes is None or moment <= self.closes)


_EVENT, _DELIVERY, _PLANNED = table_of(Event), table_of(PostDelivery), table_of(ScheduledPost)
# What a chat has out on a network, kept between looks: (how many, the last when) -> the
# questions and the addresses of its posts.
Posted = dict[tuple[int, str], tuple[tuple[int, Any], list[PostedQuestion], set[str]]]


def open_windows(
    engine: Engine,
    now: datetime,
    event_ids: tuple[int, ...] | None,
    known: Posted | None = None,
) -> list[Window]:
    """Every (chat, network) whose requests are answered now: welcome posted, not over.

    A window opens with the chat's first post out on the network (the welcome)
    and closes :data:`GRACE` after its last, once none is left to send (as
    ``replies.reply_closes`` says).  Plain columns, whatever the number of
    chats: the chats, how far each is on each network, and the posts of those
    open whose posts changed since the last look (``known`` keeps them).
    """
    known = {} if known is None else known
    with db.session_scope(engine) as session:
        connection = session.connection()
        query = core_select(_EVENT.c.id, _EVENT.c.hashtag_key, _EVENT.c.settings).where(
            _EVENT.c.state.in_(REPLY_EVENT_STATES),
            _EVENT.c.start_at <= now + timedelta(hours=1),
            _EVENT.c.end_at >= now - timedelta(days=1),
        )
        if event_ids is not None:
            query = query.where(_EVENT.c.id.in_(event_ids))
        events = {
            row.id: row
            for row in connection.execute(query)
            if (row.settings or {}).get("late_joiners") is not False
        }
        if not events:
            return []
        still_open = case((_DELIVERY.c.state.in_(("pending", "posting")), 1), else_=0)
        progress = connection.execute(
            core_select(
                _DELIVERY.c.event_id, _DELIVERY.c.network, func.sum(still_open).label("left"),
                func.count(_DELIVERY.c.posted_at).label("done"),
                func.min(_DELIVERY.c.posted_at).label("first"),
                func.max(_DELIVERY.c.posted_at).label("last"),
            )
            .where(_DELIVERY.c.event_id.in_(list(events)))
            .group_by(_DELIVERY.c.event_id, _DELIVERY.c.network)
        ).all()  # fmt: skip
        spans: dict[tuple[int, str], tuple[datetime, datetime | None, tuple[int, Any]]] = {}
        for row in progress:
            if row.first is None:
                continue  # nothing out there yet: before the welcome
            closes = None if row.left else row.last + GRACE
            if closes is None or now <= closes:
                spans[(row.event_id, row.network)] = (row.first, closes, (row.done, row.last))
        changed = {
            chat[0] for chat, span in spans.items() if known.get(chat, (None,))[0] != span[2]
        }
        stale = sorted(changed)
        fresh: dict[tuple[int, str], tuple[list[PostedQuestion], set[str]]] = {}
        if stale:
            rows = connection.execute(
                core_select(
                    _DELIVERY.c.event_id, _DELIVERY.c.network, _DELIVERY.c.remote_uri,
                    _DELIVERY.c.remote_id, _DELIVERY.c.remote_url, _DELIVERY.c.text,
                    _PLANNED.c.kind, _PLANNED.c.label, _PLANNED.c.number, _PLANNED.c.suffix,
                    _PLANNED.c.position,
                )
                .join(_PLANNED, _PLANNED.c.id == _DELIVERY.c.scheduled_post_id)
                .where(_DELIVERY.c.event_id.in_(stale), _DELIVERY.c.state == "posted")
            ).all()  # fmt: skip
            for item in rows:
                questions, own = fresh.setdefault((item.event_id, item.network), ([], set()))
                own.update(x for x in (item.remote_uri, item.remote_id) if x)
                if item.kind == "question" and item.number is not None:
                    questions.append(
                        PostedQuestion(
                            item.label, item.number, item.suffix or "", item.text,
                            item.remote_url or "", item.position,
                        )
                    )  # fmt: skip
    for gone in set(known) - set(spans):
        del known[gone]  # over, or switched off
    windows = []
    for chat, (opens, closes, key) in spans.items():
        if chat[0] in changed:
            questions, own = fresh.get(chat, ([], set()))
            known[chat] = (key, questions, own)
        _, questions, own = known[chat]
        event = events[chat[0]]
        limit = int((event.settings or {}).get("mastodon_limit") or MASTODON_DEFAULT_LIMIT)
        windows.append(
            Window(chat[0], chat[1], event.hashtag_key, opens, closes, questions, own, limit)
        )
    return windows


__all__ = ["Posted", "Window", "open_windows"]
