"""JSON, JSON Lines and CSV renderings of a transcript document."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chatbot.zones import zone_or_utc

CSV_COLUMNS: tuple[str, ...] = (
    "network", "id", "uri", "url", "author_handle", "author_display_name", "created_at",
    "question", "questions", "method", "confidence", "is_question", "parent_uri", "depth",
    "spam", "hidden", "edited", "text", "likes", "reposts", "quotes", "replies",
    "created_local", "created_utc", "timezone", "question_number", "question_text",
)  # fmt: skip
ENGAGEMENT = ("likes", "reposts", "quotes", "replies")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 1 << 16  # characters handed to the file at a time by the iter_* renderings


def iter_json(document: dict[str, Any]) -> Iterator[str]:
    """``to_json`` in pieces, so a big document is written without one big string."""
    yield from json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(document)
    yield "\n"


def to_json(document: dict[str, Any]) -> str:
    """The whole document, pretty-printed, UTF-8 characters kept."""
    return "".join(iter_json(document))


def iter_jsonl(document: dict[str, Any]) -> Iterator[str]:
    """``to_jsonl`` a line at a time."""
    head = {k: v for k, v in document.items() if k not in ("questions", "posts", "event")}
    yield json.dumps({"type": "event", **head, **document["event"]}, ensure_ascii=False) + "\n"
    for question in document["questions"]:
        yield json.dumps({"type": "question", **question}, ensure_ascii=False) + "\n"
    for post in document["posts"]:
        yield json.dumps({"type": "post", **post}, ensure_ascii=False) + "\n"


def to_jsonl(document: dict[str, Any]) -> str:
    """One object per line: the event, then each question, then each post (``type`` says)."""
    return "".join(iter_jsonl(document))


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: formula-like values get a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def id_cell(value: str) -> str:
    """An id a spreadsheet keeps exact: an all-digit id as a text formula ``="123..."``.

    Without it, spreadsheets read 18-digit ids as numbers and show 1.22585E+18.
    """
    return f'="{value}"' if value.isdigit() else safe_cell(value)


def _counts(post: dict[str, Any]) -> list[str]:
    """Likes, reposts, quotes, replies as numbers; empty where the network never said."""
    counts = post.get("engagement") or {}
    return ["" if counts.get(name) is None else str(counts[name]) for name in ENGAGEMENT]


def _times(stamp: str | None, zone: ZoneInfo) -> list[str]:
    """The post's time in the event's zone and in UTC, as spreadsheets read a date and time."""
    try:
        moment = datetime.fromisoformat(stamp or "")
    except ValueError:
        return ["", ""]
    return [
        f"{moment.astimezone(zone):%Y-%m-%d %H:%M:%S}",
        f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
    ]


def to_csv(document: dict[str, Any]) -> str:
    """One row per post, ``CSV_COLUMNS`` in order (the caller writes it with a BOM).

    Besides ``created_at`` (ISO 8601, UTC, for programs) each row has its time
    as a spreadsheet reads one, in the event's zone (named in ``timezone``) and
    in UTC, and its question's number and text.
    """
    return "".join(iter_csv(document))


def iter_csv(document: dict[str, Any]) -> Iterator[str]:
    """``to_csv`` in pieces of about ``CHUNK`` characters."""
    event = document.get("event") or {}
    zone = zone_or_utc(event.get("timezone"))
    questions = {q.get("label"): q for q in document.get("questions") or ()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for post in document["posts"]:
        question = (questions.get(post["question"]) or {}) if post["question"] else {}
        number = question.get("number")
        flags = post["flags"]
        writer.writerow(
            [
                post["network"],
                id_cell(post["id"]),
                safe_cell(post["uri"]),
                safe_cell(post["url"]),
                safe_cell(post["author"]["handle"]),
                safe_cell(post["author"]["display_name"]),
                post["created_at"] or "",
                post["question"] or "",
                " ".join(post["questions"]),
                post["method"],
                f"{post['confidence']:.3f}",
                "yes" if post["is_question"] else "",
                safe_cell(post["parent_uri"] or ""),
                str(post["depth"]),
                "yes" if flags["spam"] else "",
                "yes" if flags["hidden"] else "",
                "yes" if flags["edited"] else "",
                safe_cell(post["text"]),
                *_counts(post),
                *_times(post["created_at"], zone),
                zone.key,
                str(number) if isinstance(number, int) else "",
                safe_cell(str(question.get("text") or "")),
            ]
        )
        if out.tell() >= CHUNK:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


__all__ = [
    "CSV_COLUMNS",
    "id_cell",
    "iter_csv",
    "iter_json",
    "iter_jsonl",
    "safe_cell",
    "to_csv",
    "to_json",
    "to_jsonl",
]
