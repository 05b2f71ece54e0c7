"""Writing an event's exports to files: transcripts/<hashtag>-<date>/transcript.<format>."""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from chatbot.collect.events import own_accounts
from chatbot.collect.moderation import refresh_flags
from chatbot.db import session_scope
from chatbot.eventref import resolve_event
from chatbot.export.document import ExportOptions, build_document
from chatbot.export.folder import chat_dirname
from chatbot.export.markdown import iter_markdown, to_markdown
from chatbot.export.stream import counts_of
from chatbot.export.tabular import iter_csv, iter_json, iter_jsonl, to_csv, to_json, to_jsonl
from chatbot.models import Event, utcnow
from chatbot.transcript.counts import ChatCounts

FORMATS: dict[str, tuple[str, Any]] = {
    "json": ("transcript.json", to_json),
    "jsonl": ("transcript.jsonl", to_jsonl),
    "md": ("transcript.md", to_markdown),
    "csv": ("transcript.csv", to_csv),
}
# The same renderings in pieces: a file is written as it is rendered, never held whole.
PIECES: dict[str, Callable[[dict[str, Any]], Iterator[str]]] = {
    "json": iter_json,
    "jsonl": iter_jsonl,
    "md": iter_markdown,
    "csv": iter_csv,
}
CSV_ENCODING = "utf-8-sig"  # with a BOM, so spreadsheets read UTF-8 as UTF-8


def default_dir(event: Event, base: str | Path = "transcripts") -> Path:
    """``<base>/<hashtag>-<YYYY-MM-DD>`` with the date in the event's time zone.

    The recap's folder has the same name, so a chat's exports and recap land together.
    """
    return Path(base) / chat_dirname(event.hashtag, event.start_at, event.timezone)


def render(document: dict[str, Any], fmt: str) -> str:
    return FORMATS[fmt][1](document)  # type: ignore[no-any-return]


def _write(path: Path, pieces: Iterable[str], encoding: str) -> None:
    # Written beside and renamed, so a reader never sees half a transcript.
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding=encoding, newline="") as handle:
        handle.writelines(pieces)
    os.replace(temporary, path)


@dataclass(frozen=True, slots=True)
class Exported:
    """The files written and the transcript's count of posts and participants."""

    files: list[Path]
    counts: ChatCounts

    def message(self) -> str:
        """E.g. "Transcript of 112 posts by 7 participants (and 10 by the hosts)"."""
        return f"Transcript of {self.counts.phrase()}"


def write_exports(
    engine: Engine,
    event_name: str,
    formats: Iterable[str],
    *,
    out_dir: Path | None = None,
    base: str | Path = "transcripts",
    options: ExportOptions | None = None,
    now: datetime | None = None,
) -> Exported:
    """Build ``event_name``'s transcript once and write it in each format; returns the files.

    ``now`` (default: the system clock) is when "the chat running now" is judged.
    """
    now = now or utcnow()
    with session_scope(engine) as session:
        # The posts are made from the database on each file's pass: the session stays open.
        document, folder = _document(session, event_name, options, now, stream=True)
        target = out_dir or Path(base) / folder
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for fmt in dict.fromkeys(formats):
            path = target / FORMATS[fmt][0]
            _write(path, PIECES[fmt](document), CSV_ENCODING if fmt == "csv" else "utf-8")
            written.append(path)
        return Exported(written, counts_of(document))


def export_pieces(
    engine: Engine,
    event_name: str,
    fmt: str,
    *,
    options: ExportOptions | None = None,
    now: datetime | None = None,
) -> Iterator[bytes]:
    """``event_name``'s transcript in one format, the file's bytes in pieces (for stdout).

    The transcript is built first, so a bad event fails before any byte is out.
    """
    with session_scope(engine) as session:
        document, _ = _document(session, event_name, options, now or utcnow())
    encoder = codecs.getincrementalencoder(CSV_ENCODING if fmt == "csv" else "utf-8")()
    return (encoder.encode(piece) for piece in PIECES[fmt](document))


def _document(
    session: Session,
    event_name: str,
    options: ExportOptions | None,
    now: datetime,
    *,
    stream: bool = False,
) -> tuple[dict[str, Any], Path]:
    """The transcript document of ``event_name`` and its folder's name."""
    event = resolve_event(session, event_name, purpose="record", now=now)
    # Flags may be stale if nothing has collected since a change (an import, a hide).
    refresh_flags(session.connection(), event, now=now, moderators=own_accounts(session, event))
    document = build_document(session, event, options, now=now, stream=stream)
    return document, default_dir(event, "")


__all__ = [
    "CSV_ENCODING",
    "FORMATS",
    "Exported",
    "default_dir",
    "export_pieces",
    "render",
    "write_exports",
]
