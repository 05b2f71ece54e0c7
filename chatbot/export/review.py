"""The moderator's review list: posts the attribution is unsure of, with a guess and a runner-up."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from chatbot.db import session_scope
from chatbot.eventref import resolve_event
from chatbot.export.document import ExportOptions, attributed, exclusion
from chatbot.models import Post, utcnow
from chatbot.transcript import Attribution, ChatQuestion, Transcript

DEFAULT_BELOW = 0.6


@dataclass(frozen=True)
class ReviewItem:
    """One post to look at: what it says, who and when, and what the attribution thinks."""

    uri: str
    url: str
    network: str
    author: str  # the handle, without '@'
    created_at: datetime
    text: str
    guess: str | None  # the attribution's question, None when it found none
    method: str
    confidence: float
    runner_up: str | None  # the next most likely question, None when there is no other
    via: str | None = None  # the post the guess came from (its address), if one did

    def as_dict(self) -> dict[str, object]:
        return {
            "uri": self.uri,
            "url": self.url,
            "network": self.network,
            "author": self.author,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "text": self.text,
            "guess": self.guess,
            "method": self.method,
            "confidence": round(self.confidence, 3),
            "runner_up": self.runner_up,
            "via": self.via,
        }


@dataclass(frozen=True)
class Review:
    """The review list of one event."""

    hashtag: str
    below: float
    items: list[ReviewItem]
    questions: list[str]  # the labels QUESTION may take


def review(
    engine: Engine, event_ref: str, *, below: float = DEFAULT_BELOW, now: datetime | None = None
) -> Review:
    """The published posts of an event attributed with confidence under ``below``, or to none.

    Posts a moderator already decided, the moderators' own posts, and posts no
    transcript shows (deleted, opted out, hidden, spam) are not listed.
    """
    with session_scope(engine) as session:
        event = resolve_event(session, event_ref, purpose="record", now=now or utcnow())
        rows, planned, transcript = attributed(session, event)
        items = unsure_items(rows, transcript, below)
        return Review(event.hashtag, below, items, [question.label for question in planned])


def unsure_items(rows: Sequence[Post], transcript: Transcript, below: float) -> list[ReviewItem]:
    """The review list from an attribution already made (``attributed``'s rows and transcript)."""
    addresses = {row.uri: row.url or row.uri for row in rows}
    return [
        _item(row, result, transcript.questions, addresses)
        for row in sorted(rows, key=lambda r: (r.created_at, r.uri))
        if exclusion(row, ExportOptions()) is None
        and (result := transcript.attributions.get(row.uri)) is not None
        and _unsure(result, below)
    ]


def _unsure(result: Attribution, below: float) -> bool:
    # No question with nothing to go on, or any guess (a question, or "this
    # is a hello") held with less than ``below``.
    if result.is_question or result.method in ("moderator", "assigned"):
        return False
    return result.method == "none" or result.confidence < below


def _item(
    row: Post,
    result: Attribution,
    questions: Sequence[ChatQuestion],
    addresses: Mapping[str, str],
) -> ReviewItem:
    return ReviewItem(
        uri=row.uri,
        url=row.url or "",
        network=row.network,
        author=row.author_handle.lstrip("@"),
        created_at=row.created_at,
        text=row.text,
        guess=result.question,
        method=result.method,
        confidence=result.confidence,
        runner_up=runner_up(result, row.network, row.created_at, questions),
        via=addresses.get(result.via, result.via) if result.via else None,
    )


def runner_up(
    result: Attribution, network: str, when: datetime, questions: Sequence[ChatQuestion]
) -> str | None:
    """The question next most likely after the attribution's own.

    Another question the post names, else the question whose time window the
    post falls in, else the one before it (a late answer) or, for the first,
    the one after; for a post outside every window, the nearest question.
    """
    others = [label for label in result.questions if label != result.question]
    if others:
        return others[0]
    timeline = sorted(
        (posted, question.label)
        for question in questions
        if (posted := question.posted_at.get(network) or _any_time(question)) is not None
    )
    if not timeline:
        return None
    labels = [label for _, label in timeline]
    at = bisect_right([moment for moment, _ in timeline], when) - 1
    window = labels[max(at, 0)]
    if window != result.question:
        return window
    for candidate in (at - 1, at + 1):
        if 0 <= candidate < len(labels) and labels[candidate] != result.question:
            return labels[candidate]
    return None


def _any_time(question: ChatQuestion) -> datetime | None:
    return min(question.posted_at.values(), default=None)


__all__ = ["DEFAULT_BELOW", "Review", "ReviewItem", "review", "runner_up", "unsure_items"]
