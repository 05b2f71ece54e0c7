"""Writing a stored chat's recap and the archive of every chat (the I/O edge of the recap)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chatbot import db
from chatbot.defaults import OUTPUT_DIR as DEFAULT_OUT
from chatbot.errors import UsageError
from chatbot.export.folder import chat_dirname
from chatbot.models import Event, utcnow

from .archive import render_archive
from .data import Recap, Summary
from .render import DEFAULT_SPLIT_AT, site_files
from .sanitise import public_url
from .source import archive_events, recap_extras

__all__ = ["DEFAULT_OUT", "RecapResult", "read_transcript", "recap_event", "write_archive"]


@dataclass(frozen=True, slots=True)
class RecapResult:
    """Where the recap went and its headline figures."""

    path: Path
    pages: tuple[str, ...]
    summary: Summary

    def message(self) -> str:
        s = self.summary
        extra = len(self.pages) - 1
        pages = f" and {extra} question page{'s' if extra != 1 else ''}" if extra else ""
        return (
            f"Wrote {self.path}{pages}: {s.participants} participants, {s.posts} posts, "
            f"{s.posts_per_hour:.0f} per hour, conversation ratio {s.conversation_ratio:.0%}"
        )

    def as_dict(self) -> dict[str, Any]:
        s = self.summary
        return {
            "path": str(self.path),
            "pages": list(self.pages),
            "participants": s.participants,
            "posts": s.posts,
            "posts_per_hour": round(s.posts_per_hour, 2),
            "posts_per_participant": round(s.posts_per_participant, 2),
            "conversation_ratio": round(s.conversation_ratio, 4),
        }


def published_at(event: Event) -> str | None:
    """Where ``chatbot run --recap-url`` said the recap goes (its folder), if public."""
    url = public_url((event.settings or {}).get("recap_url"))
    if url is None:
        return None
    path = url.split("#", 1)[0].split("?", 1)[0]
    return url.rsplit("/", 1)[0] + "/" if path.endswith((".html", ".htm")) else url


def read_transcript(path: Path, data: bytes | None = None) -> dict[str, Any]:
    """A transcript document written by ``chatbot transcript`` (JSON).

    ``data``, when given, is the document (read from standard input), ``path`` its name.
    """
    try:
        document = json.loads(path.read_bytes() if data is None else data)
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a transcript JSON document ({error})") from error
    if not isinstance(document, dict) or not isinstance(document.get("event"), dict):
        raise UsageError(f"{path}: not a transcript document (no 'event' object)")
    return document


def _document(session: Any, event: Event, now: datetime) -> dict[str, Any]:
    # The export owns the document: the recap never rebuilds it from the posts.
    from chatbot.export import build_document

    # Its posts are made from the database a batch at a time on each pass (a PostStream):
    # the recap is built while the session is open.
    document: dict[str, Any] = build_document(session, event, store=False, now=now, stream=True)
    return document


def recap_event(
    name: str | None,
    *,
    database_url: str | None = None,
    transcript: Path | None = None,
    out_dir: Path | None = None,
    templates: Path | None = None,
    split_at: int = DEFAULT_SPLIT_AT,
    now: datetime | None = None,
    site_url: str | None = None,
    transcript_data: bytes | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RecapResult:
    """Render the recap of the event ``name`` (see :mod:`chatbot.eventref`).

    The transcript document comes from ``transcript`` when given, else from
    the database; the extras (Mastodon HTML, followers, series history,
    coverage counts) come from the database when the event is in it.
    ``progress(done, total)`` hears of each step: the document, the extras,
    the rendering and each file written.
    """
    step = _Steps(progress)
    if name is None and transcript is None:
        raise UsageError("name an EVENT, or give a transcript with --transcript FILE")
    if site_url is not None and public_url(site_url) is None:
        raise UsageError(f"--url {site_url!r}: give the public http(s) address the recap goes to")
    now = now or utcnow()
    document: Mapping[str, Any] | None = (
        read_transcript(transcript, transcript_data) if transcript else None
    )
    extras = None

    def build(document: Mapping[str, Any]) -> tuple[Recap, Iterator[tuple[str, bytes]]]:
        step.done(2)
        return site_files(
            document,
            extras,
            templates=templates,
            split_at=split_at,
            generated_at=now,
            site_url=site_url,
        )

    if name is not None:
        from chatbot.eventref import resolve_event

        with db.open_store(database_url) as engine, db.session_scope(engine) as session:
            event = resolve_event(session, name, purpose="record", now=now)
            site_url = site_url or published_at(event)
            if document is None:
                document = _document(session, event, now)
            step.done()
            extras = recap_extras(session, event, document)
            # Built here: a document from the database reads its posts from the session.
            recap, files = build(document)
    else:
        assert document is not None
        recap, files = build(document)
    document = None  # the recap holds what it shows: let the rest of the document go
    # One step per file: the pages known now (a question's may be cut finer as they render).
    step.more(2 + sum(len(section.pages) for section in recap.sections))
    step.done()
    event_info = recap.event
    if out_dir is None:
        out_dir = DEFAULT_OUT / chat_dirname(
            event_info.hashtag, event_info.start, event_info.timezone
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files:  # each written as it is rendered
        (out_dir / name).write_bytes(data)
        written.append(name)
        if step.count >= step.total:
            step.more(1)
        step.done()
    html = [name for name in written if name.endswith(".html")]
    pages = tuple(sorted(html, key=lambda name: name != "index.html"))  # index.html first
    return RecapResult(out_dir / "index.html", pages, recap.summary)


class _Steps:
    """Counts a recap's steps for a progress callback: three, then one per file."""

    def __init__(self, report: Callable[[int, int], None] | None) -> None:
        self.report, self.count, self.total = report, 0, 3

    def more(self, steps: int) -> None:
        self.total += steps

    def done(self, upto: int | None = None) -> None:
        self.count = max(self.count + 1, upto or 0)
        if self.report is not None:
            self.report(self.count, self.total)


def write_archive(
    *,
    database_url: str | None = None,
    out_dir: Path = DEFAULT_OUT,
    templates: Path | None = None,
    title: str = "Chat archive",
) -> tuple[Path, int, int]:
    """Write ``out_dir/index.html`` listing every event; returns (path, series, chats)."""
    with db.open_store(database_url) as engine, db.session_scope(engine) as session:
        events = archive_events(session, out_dir)
    html = render_archive(events, title=title, templates=templates, generated_at=utcnow())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(html, encoding="utf-8")
    series = len({event.hashtag.lower() for event in events})
    return path, series, len(events)
