"""A moderator's decisions about which question a post answers: stored, undone, applied."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlmodel import Session, col

from chatbot.collect.events import planned_questions
from chatbot.collect.lookup import find_post
from chatbot.db import session_scope
from chatbot.errors import UsageError
from chatbot.eventref import resolve_event
from chatbot.models import AttributionOverride, Event, Post, utcnow
from chatbot.transcript import Attribution

NONE = "none"  # the QUESTION that says "this post answers no question"

SHOWN = "`chatbot review EVENT` shows it"  # where a moderator sees a post's address


@dataclass(frozen=True)
class Decision:
    """One post's moderator decision, as stored (or, for ``removed``, as it was)."""

    uri: str
    network: str
    question: str | None  # the label, or None for "no question"
    set_by: str
    set_at: datetime
    removed: bool = False  # ``--auto``: the decision was taken back

    def as_dict(self) -> dict[str, object]:
        return {
            "uri": self.uri,
            "network": self.network,
            "question": self.question,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat(timespec="seconds"),
            "removed": self.removed,
        }


MAX_NOTE = 1000  # characters of a decision's note: a reason, not a document


def load_overrides(session: Session, event_id: int) -> dict[str, str | None]:
    """The event's decisions: post URI -> question label (None: no question)."""
    rows = session.execute(
        select(AttributionOverride).where(col(AttributionOverride.event_id) == event_id)
    ).scalars()
    return {row.uri: row.question_label for row in rows}


def apply_overrides(
    attributions: dict[str, Attribution], overrides: Mapping[str, str | None]
) -> None:
    """Put the moderator's decisions in place of the automatic ones (question posts excepted)."""
    for uri, label in overrides.items():
        current = attributions.get(uri)
        if current is None or current.is_question:
            continue
        labels = (label,) if label is not None else ()
        attributions[uri] = Attribution(uri, label, labels, "assigned", 1.0)


def event_questions(session: Session, event: Event) -> list[str]:
    """The labels a post of ``event`` may be assigned to (the plan's questions)."""
    assert event.id is not None
    return [q.label for q in planned_questions(session, event.id) if q.number is not None]


def parse_question(text: str, labels: Sequence[str], hashtag: str) -> str | None:
    """QUESTION as a label of the event (case-insensitive) or None for ``none``."""
    wanted = text.strip()
    if wanted.lower() == NONE:
        return None
    by_key = {label.lower(): label for label in labels}
    label = by_key.get(wanted.lower())
    if label is None:
        known = ", ".join(labels) if labels else "none stored"
        raise UsageError(
            f"{wanted!r} is not a question of #{hashtag} (its questions: {known}); "
            f"give one of them, or `{NONE}` for a post that answers no question"
        )
    return label


def _store(
    session: Session,
    event: Event,
    post: Post,
    label: str | None,
    by: str,
    now: datetime,
    note: str = "",
) -> Decision:
    assert event.id is not None
    row = session.execute(
        select(AttributionOverride).where(
            col(AttributionOverride.event_id) == event.id,
            col(AttributionOverride.network) == post.network,
            col(AttributionOverride.uri) == post.uri,
        )
    ).scalar_one_or_none()
    if row is None:
        row = AttributionOverride(event_id=event.id, network=post.network, uri=post.uri)
    row.question_label, row.set_by, row.set_at, row.note = label, by, now, note
    session.add(row)
    return Decision(post.uri, post.network, label, by, now)


def assign(
    engine: Engine,
    event_ref: str,
    target: str,
    question: str,
    *,
    by: str,
    now: datetime | None = None,
) -> Decision:
    """Decide that post ``target`` answers ``question`` (a label such as Q3, or ``none``)."""
    moment = now or utcnow()
    with session_scope(engine) as session:
        event = resolve_event(session, event_ref, purpose="record", now=moment)
        post = find_post(session, event, target, shown=SHOWN)
        label = parse_question(question, event_questions(session, event), event.hashtag)
        return _store(session, event, post, label, by, moment)


def unassign(
    engine: Engine, event_ref: str, target: str, *, now: datetime | None = None
) -> Decision | None:
    """Take back the decision about post ``target``; None when there was none."""
    moment = now or utcnow()
    with session_scope(engine) as session:
        event = resolve_event(session, event_ref, purpose="record", now=moment)
        post = find_post(session, event, target, shown=SHOWN)
        table = AttributionOverride
        mine = (
            col(table.event_id) == event.id,
            col(table.network) == post.network,
            col(table.uri) == post.uri,
        )
        row = session.execute(select(table).where(*mine)).scalar_one_or_none()
        if row is None:
            return None
        session.execute(delete(table).where(*mine))
        return Decision(post.uri, post.network, row.question_label, row.set_by, row.set_at, True)


def assign_from_csv(
    engine: Engine,
    event_ref: str,
    path: Path | str,
    *,
    by: str,
    text: str | None = None,
    now: datetime | None = None,
) -> list[Decision]:
    """Apply every row of a CSV file (``post,question[,note]``), all or nothing.

    ``text`` is the file's content when it does not come from ``path`` (stdin);
    ``path`` then only names it in errors. A header row ``post,question`` is optional.
    """
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as error:
            raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
    moment = now or utcnow()
    decisions: list[Decision] = []
    with session_scope(engine) as session:
        event = resolve_event(session, event_ref, purpose="record", now=moment)
        labels = event_questions(session, event)
        seen: dict[str, int] = {}
        for line, row in _rows(name, text):
            where = f"{name}:{line}"
            try:
                post = find_post(session, event, row[0], shown=SHOWN)
                label = parse_question(row[1], labels, event.hashtag)
            except UsageError as error:
                raise UsageError(f"{where}: {error}; nothing was changed") from None
            if post.uri in seen:
                raise UsageError(
                    f"{where}: the post is already on line {seen[post.uri]}; keep one line per "
                    "post; nothing was changed"
                )
            seen[post.uri] = line
            note = row[2] if len(row) > 2 else ""
            decisions.append(_store(session, event, post, label, by, moment, note))
        if not decisions:
            raise UsageError(f"{name}: no rows; write one `post,question` line per post")
    return decisions


def _rows(name: str, text: str) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if not rows and [c.lower() for c in cells[:2]] == ["post", "question"]:
                rows.append((line, []))  # the header: dropped below
                continue
            if len(cells) not in (2, 3) or not cells[0] or not cells[1]:
                raise UsageError(
                    f"{name}:{line}: expected 2 or 3 columns (post,question[,note]), "
                    f"found {len(cells)}: {','.join(cells)[:200]!r}; fix the line, e.g. "
                    "`https://bsky.app/profile/ana.example/post/3kq,Q3`; nothing was changed"
                )
            if len(cells) == 3 and len(cells[2]) > MAX_NOTE:
                raise UsageError(
                    f"{name}:{line}: the note is {len(cells[2]):,} characters long; at most "
                    f"{MAX_NOTE:,}; nothing was changed"
                )
            rows.append((line, cells))
    except csv.Error as error:
        raise UsageError(
            f"{name}:{reader.line_num}: not valid CSV ({error}); quote cells with commas"
            "; nothing was changed"
        ) from None
    return [(line, cells) for line, cells in rows if cells]


__all__ = [
    "MAX_NOTE",
    "NONE",
    "Decision",
    "apply_overrides",
    "assign",
    "assign_from_csv",
    "event_questions",
    "load_overrides",
    "parse_question",
    "unassign",
]
