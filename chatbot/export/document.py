"""The transcript document of an event: what may be published, threaded and attributed."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from chatbot.collect.events import delivered, own_accounts, planned_questions
from chatbot.collect.hide import BY_REQUEST
from chatbot.collect.rowbatches import live_post_ids, row_batches
from chatbot.export.chatposts import chat_posts
from chatbot.export.overrides import apply_overrides, load_overrides
from chatbot.export.postparts import links_of, media_of
from chatbot.export.stream import PostStream, counts_of
from chatbot.models import Event, Post, PostDelivery, ScheduledPost, table_of
from chatbot.transcript import (
    ChatQuestion,
    ModeratorAccount,
    Transcript,
    build_transcript,
)

FORMAT = "chatbot-transcript"
RAW_BATCH = 1_000  # rows read at a time; raw JSON fetched per batch
# Every column of a post but the heavy two, as ORM attributes (so pending rows are flushed first).
_ROW_COLUMNS = [
    getattr(Post, column.name) for column in table_of(Post).c if column.name not in ("raw", "html")
]
# What attribution and the export's choice of posts read: the rest is read again per batch.
_CHAT_COLUMNS = [
    getattr(Post, name)
    for name in (
        *("id", "network", "uri", "url", "author_id", "author_handle", "created_at", "text"),
        *("parent_uri", "root_uri", "quote_uri", "quote_uris", "mentions", "tags"),
        *("deleted_at", "visibility", "opted_out", "hidden_reason", "spam_reason"),
    )
]
# What a document's post entry reads (``_entry``, the review's reasons, the anonymiser).
_ENTRY_COLUMNS = (
    *("id", "network", "uri", "remote_id", "url", "author_handle", "author_display_name"),
    *("created_at", "text", "lang", "quote_uri", "mentions", "quote_uris", "edited_at"),
    *("hidden_reason", "spam_reason", "opted_out", "like_count", "repost_count"),
    *("quote_count", "reply_count", "counts_at"),
)
_ATTRIBUTION_COLUMNS = (
    "question_label", "question_number", "attribution_method", "attribution_confidence",
)  # fmt: skip
VERSION = 1


@dataclass(frozen=True)
class ExportOptions:
    """What an export leaves out or changes.

    Deleted, opted-out (unless anonymised), non-public and hidden-by-request
    posts never appear. ``review`` keeps spam and moderator-hidden posts, with
    their flags, for the moderator's own use; never publish such an export.
    """

    anonymise_opted_out: bool = False
    review: bool = False


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def exclusion(post: Post, options: ExportOptions) -> str | None:
    """Why ``post`` is left out of an export, or None when it is in."""
    hidden = post.hidden_reason or ""
    return left_out(
        PostState(
            deleted=post.deleted_at is not None,
            public=(post.visibility or "public") == "public",
            opted_out=bool(post.opted_out),
            hidden=bool(hidden),
            by_request=hidden.startswith(BY_REQUEST),
            spam=bool(post.spam_reason),
        ),
        options,
    )


@dataclass(frozen=True, slots=True)
class PostState:
    """What decides whether a stored post is in an export (a database can group by it)."""

    deleted: bool
    public: bool
    opted_out: bool
    hidden: bool  # by a moderator, or by request
    by_request: bool  # its author asked: never shown
    spam: bool


def left_out(state: PostState, options: ExportOptions) -> str | None:
    """Why a post in ``state`` is left out of an export, or None when it is in."""
    if state.deleted:
        return "deleted"
    if not state.public:
        return "not public"
    if state.opted_out and not options.anonymise_opted_out:
        return "opted out"
    if state.by_request:
        return "hidden by request"
    if state.hidden and not options.review:
        return "hidden"
    if state.spam and not options.review:
        return "spam"
    return None


def chat_questions(session: Session, event: Event) -> list[ChatQuestion]:
    """The event's questions with the URIs and times they were posted per network."""
    assert event.id is not None
    posted: dict[int, list[PostDelivery]] = {}
    for delivery in delivered(session, event.id):
        posted.setdefault(delivery.scheduled_post_id, []).append(delivery)
    result = []
    for question in planned_questions(session, event.id):
        if question.number is None:
            continue
        rows = posted.get(question.id or 0, [])
        result.append(
            ChatQuestion(
                number=question.number,
                suffix=question.suffix,
                text=_question_text(question.label, rows),
                posted_at={d.network: d.posted_at or question.due_at for d in rows},
                uris={d.network: d.remote_uri or "" for d in rows},
                # Not out yet: its window opens when it is due, live delays included.
                due_at=None if _dropped(session, question) else question.due_at,
            )
        )
    return result


def _deliveries(session: Session, post: ScheduledPost) -> list[PostDelivery]:
    query = select(PostDelivery).where(col(PostDelivery.scheduled_post_id) == post.id)
    return list(session.execute(query).scalars())


def _dropped(session: Session, post: ScheduledPost) -> bool:
    """Skipped, or failed everywhere: the post will not go out."""
    if post.skipped:
        return True
    states = {d.state for d in _deliveries(session, post)}
    return bool(states) and states <= {"skipped", "failed"}


def window_end(session: Session, event: Event) -> datetime:
    """When the last question's window closes: the wrap-up, else the scheduled end.

    The wrap-up closes it when it was posted (on the first network to have
    it), else when it is now due (live delays move that). Without one, the
    event's scheduled end, moved by the delay the plan's last post was given.
    """
    assert event.id is not None
    query = (
        select(ScheduledPost)
        .where(col(ScheduledPost.event_id) == event.id)
        .order_by(col(ScheduledPost.original_due_at), col(ScheduledPost.position))
    )
    plan: list[ScheduledPost] = list(session.execute(query).scalars())
    for post in plan:
        if post.kind == "wrapup" and not _dropped(session, post):
            posted = [d.posted_at for d in _deliveries(session, post) if d.posted_at]
            end: datetime = min(posted) if posted else post.due_at
            return end
    kept = [post for post in plan if not post.skipped]
    if kept:
        return event.end_at + (kept[-1].due_at - kept[-1].original_due_at)
    return event.end_at


def _question_text(label: str, rows: Iterable[PostDelivery]) -> str:
    for row in rows:
        text = row.text.strip()
        return text[len(label) :].lstrip(" :.-") if text.startswith(label) else text
    return ""


def attributed(session: Session, event: Event) -> tuple[list[Post], list[ChatQuestion], Transcript]:
    """The event's live posts, planned questions and transcript, moderator decisions applied.

    The rows are plain result rows (read-only, each column by its name as on
    a ``Post``), not ORM objects, and come without their raw JSON and HTML
    (the bulk of a stored post, which attribution never reads): a row weighs
    about a third of a loaded ``Post``. ``rows_by_id`` reads rows again with
    their raw JSON, a batch at a time, where it is wanted.
    """
    found = _live_rows(session, event, _ROW_COLUMNS)
    # Duck-typed as Post: every reader only reads columns by name.
    rows = cast("list[Post]", list(found))
    planned, transcript = _attribute(session, event, rows)
    return rows, planned, transcript


def _live_rows(session: Session, event: Event, columns: Sequence[Any]) -> Iterator[Any]:
    """``columns`` of the event's live posts, ``RAW_BATCH`` at a time (read from the first next)."""
    assert event.id is not None
    query = select(*columns).where(col(Post.event_id) == event.id, col(Post.deleted_at).is_(None))
    yield from session.execute(query.execution_options(yield_per=RAW_BATCH))


def _attribute(
    session: Session, event: Event, rows: Iterable[Any]
) -> tuple[list[ChatQuestion], Transcript]:
    """The planned questions, and the transcript of ``rows`` (read once, none kept)."""
    assert event.id is not None
    planned = chat_questions(session, event)
    mods = [ModeratorAccount(net, account_id=key) for net, key in own_accounts(session, event)]
    ends_at = window_end(session, event)
    transcript = build_transcript(chat_posts(rows), planned, mods, ends_at=ends_at)
    apply_overrides(transcript.attributions, load_overrides(session, event.id))
    return planned, transcript


def rows_by_id(session: Session, ids: Sequence[int], *, raw: bool = True) -> Iterator[Post]:
    """The rows ``ids`` in that order, ``RAW_BATCH`` at a time: the columns a post's entry reads,
    and its raw JSON if ``raw``."""
    table = table_of(Post)
    columns = [table.c[name] for name in _ENTRY_COLUMNS]
    if raw:
        columns.append(table.c.raw)
    connection = session.connection()
    for start in range(0, len(ids), RAW_BATCH):
        batch = ids[start : start + RAW_BATCH]
        query = select(*columns).where(table.c.id.in_(list(batch)))
        found: dict[int | None, Any] = {row.id: row for row in connection.execute(query)}
        for row_id in batch:
            yield cast("Post", found[row_id])


class _Parts:
    """Each kept post's links and media, read from its raw JSON on the first full pass only.

    Most posts share neither, so only the others are kept; later passes read
    the rows without their raw JSON (the bulk of a row, and of reading it).
    """

    def __init__(self) -> None:
        self.found: dict[int, tuple[list[str], list[dict[str, Any]]]] = {}
        self.known = False

    def of(self, row: Any, known: bool) -> tuple[list[str], list[dict[str, Any]]]:
        """``row``'s links and media: from its raw JSON, or if ``known`` from what was kept."""
        if known:
            links, media = self.found.get(row.id, ((), ()))
            return list(links), [dict(item) for item in media]
        links, media = links_of(row.network, row.raw), media_of(row.network, row.raw)
        if links or media:
            self.found[row.id] = (list(links), [dict(item) for item in media])
        return links, media


def build_document(
    session: Session,
    event: Event,
    options: ExportOptions | None = None,
    *,
    store: bool = True,
    now: datetime | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """The transcript of ``event`` as plain JSON data (see docs/transcript-format.md).

    Attribution runs over every live post (so a reply to a left-out post is
    still attributed through it); then left-out posts are dropped and each
    kept reply hangs under its nearest kept ancestor. With ``store`` the
    attribution is also written to the post rows. ``now`` (default: the
    system clock) is the document's ``generated_at``: a sandbox chat's own.
    With ``stream`` the posts are a :class:`PostStream`, made afresh from the
    database on each pass while ``session`` is open, never held all at once.
    """
    options = options or ExportOptions()
    # Attribution reads the columns it needs, a batch at a time, and keeps no row:
    # of each kept post only its time, URI and id (its place in the document).
    Opted = tuple[str, str, str, str]  # uri, network, handle, account id
    kept: dict[str, tuple[datetime, int, Opted | None]] = {}

    def chosen(rows: Iterator[Any]) -> Iterator[Any]:
        for row in rows:
            if exclusion(row, options) is None:
                opted = (row.uri, row.network, row.author_handle, row.author_id)
                kept[row.uri] = (row.created_at, row.id or 0, opted if row.opted_out else None)
            yield row

    live = _live_rows(session, event, _CHAT_COLUMNS)
    planned, transcript = _attribute(session, event, chosen(live))
    if store:
        _store_attribution(session, event, transcript.attributions)
    # The kept rows' ids in the document's order, read again a batch at a time as
    # the posts are made.
    ordered = sorted((at, uri, row_id) for uri, (at, row_id, _) in kept.items())
    order = array("q", (row_id for _, _, row_id in ordered))
    opted_out = [opted for _, _, opted in kept.values() if opted is not None]
    kept_uris = set(kept)
    kept.clear()
    del ordered
    nodes = transcript.forest.nodes
    anonymous = _Anonymiser() if options.anonymise_opted_out else None

    def kept_parent(uri: str) -> str | None:
        parent = nodes[uri].parent if uri in nodes else None
        while parent is not None and parent not in kept_uris:
            parent = nodes[parent].parent if parent in nodes else None
        return parent

    parents = {uri: kept_parent(uri) for uri in kept_uris}
    depth: dict[str, int] = {}
    for uri in transcript.forest.order:  # parents first
        if uri in kept_uris:
            parent = parents[uri]
            depth[uri] = depth.get(parent, -1) + 1 if parent is not None else 0
    accounts = {
        name: f"{network}:{handle}"
        for _, network, handle, author_id in opted_out
        for name in (handle, "@" + handle, author_id)
    }
    hidden_uris = {uri for uri, *_ in opted_out}
    # The posts' pass needs the attributions alone: the forest and its posts (every
    # post's text again) go with the transcript once this function returns.
    attributions = transcript.attributions

    parts = _Parts()

    def entries() -> Iterator[dict[str, Any]]:
        complete = parts.known
        for row in rows_by_id(session, order, raw=not complete):
            result = attributions.get(row.uri)
            links, media = parts.of(row, complete)
            entry = _entry(row, links, media, result, parents[row.uri], depth.get(row.uri, 0))
            if options.review:
                entry["reasons"] = {"spam": row.spam_reason, "hidden": row.hidden_reason}
            entry["flags"]["anonymised"] = bool(row.opted_out and anonymous)
            if anonymous is not None:
                anonymous.apply([entry], hidden_uris, accounts)
            yield entry
        parts.known = True  # a pass that stops early reads the raw JSON again next time

    posts: list[dict[str, Any]] = PostStream(entries, len(order)) if stream else list(entries())
    known = {question.label for question in planned}
    questions = [_question_entry(q) for q in planned]
    questions += [_question_entry(q) for q in transcript.questions if q.label not in known]
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": _iso(now or datetime.now(UTC)),
        "event": {
            "hashtag": event.hashtag,
            "title": event.title,
            "start": _iso(event.start_at),
            "end": _iso(event.end_at),
            "timezone": event.timezone,
            "networks": list(event.networks),
        },
        "questions": questions,
        "posts": posts,
        "review": options.review,
    }
    # The one count (the recap's, the archive's, status'): what this document's posts make.
    document["counts"] = counts_of(document).as_dict()
    return document


def _entry(
    row: Post,
    links: list[str],
    media: list[dict[str, Any]],
    result: Any,
    parent: str | None,
    depth: int,
) -> dict[str, Any]:
    """One post of the document (its ``anonymised`` flag is the caller's)."""
    entry: dict[str, Any] = {
        "network": row.network,
        "id": row.remote_id,
        "uri": row.uri,
        "url": row.url or "",
        "author": {"handle": row.author_handle, "display_name": row.author_display_name},
        "created_at": _iso(row.created_at),
        "text": row.text,
        "question": result.question if result else None,
        "questions": list(result.questions) if result else [],
        "method": result.method if result else "none",
        "confidence": round(result.confidence, 3) if result else 0.0,
        "is_question": bool(result and result.is_question),
        "via": result.via if result else None,
        "parent_uri": parent,
        "depth": depth,
        "mentions": list(row.mentions or ()),
        "quotes": list(row.quote_uris or ([row.quote_uri] if row.quote_uri else [])),
        "lang": row.lang,
        # As the network last gave them (None: never given); see docs/collection.md.
        "engagement": {
            "likes": row.like_count,
            "reposts": row.repost_count,
            "quotes": row.quote_count,
            "replies": row.reply_count,
            "counted_at": _iso(row.counts_at),
        },
        "links": links,
        "media": media,
        "flags": {
            "spam": bool(row.spam_reason),
            "hidden": bool(row.hidden_reason),
            "edited": row.edited_at is not None,
            "anonymised": False,
        },
    }
    return entry


def _question_entry(question: ChatQuestion) -> dict[str, Any]:
    return {
        "label": question.label,
        "number": question.number,
        "text": question.text,
        "posted": {
            network: {"uri": uri, "at": _iso(question.posted_at.get(network))}
            for network, uri in sorted(question.uris.items())
        },
        # Skipped, or failed on every network: it never went out.
        "skipped": question.due_at is None and not any(question.uris.values()),
    }


WRITE_BATCH = 1_000  # attribution rows written back per statement


def _store_attribution(session: Session, event: Event, attributions: dict[str, Any]) -> None:
    """Write the attribution back to the rows it changed, in bulk (executemany per batch).

    The rows are read again, ``WRITE_BATCH`` at a time by id (no cursor stays
    open while they are written), with only what tells a change.
    """
    table = table_of(Post)
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            question_label=bindparam("label"),
            question_number=bindparam("number"),
            attribution_method=bindparam("method"),
            attribution_confidence=bindparam("confidence"),
        )
    )
    current = [table.c[name] for name in _ATTRIBUTION_COLUMNS]
    connection = session.connection()
    assert event.id is not None
    ids = live_post_ids(connection, event.id)
    for rows in row_batches(connection, [table.c.uri, *current], ids, WRITE_BATCH):
        changed: list[dict[str, Any]] = []
        for row_id, uri, *now in rows:
            result = attributions.get(uri)
            if result is None:
                continue
            values = (result.question, _number(result.question), result.method, result.confidence)
            if values != tuple(now):
                changed.append(
                    {"row_id": row_id, "label": values[0], "number": values[1]}
                    | {"method": values[2], "confidence": values[3]}
                )
        if changed:
            connection.execute(statement, changed)


def _number(label: str | None) -> int | None:
    digits = "".join(ch for ch in (label or "")[1:] if ch.isdigit())
    return int(digits) if digits else None


class _Anonymiser:
    """Stable stand-ins for opted-out authors and their post URIs within one export."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _uri(self, uri: str) -> str:
        return "anonymous:" + hashlib.sha256(uri.encode()).hexdigest()[:20]

    def apply(
        self, posts: list[dict[str, Any]], uris: set[str], accounts: Mapping[str, str]
    ) -> None:
        """Stand-ins for the posts ``uris`` and the ``accounts`` (handle or id -> network:handle).

        Other posts keep no trace of them either: replies, quotes, the
        evidence a post was placed by, and mentions point at the stand-ins.
        """
        for post in posts:
            if post["uri"] in uris:
                key = post["network"] + ":" + post["author"]["handle"]
                post["author"] = {"handle": self._name(key), "display_name": ""}
                post["uri"], post["url"], post["id"] = self._uri(post["uri"]), "", ""
            for field in ("parent_uri", "via"):
                if post[field] in uris:
                    post[field] = self._uri(post[field])
            post["quotes"] = [self._uri(q) if q in uris else q for q in post["quotes"]]
            post["mentions"] = [
                self._name(accounts[m]) if m in accounts else m for m in post["mentions"]
            ]

    def _name(self, key: str) -> str:
        return self.names.setdefault(key, f"anonymous-{len(self.names) + 1}")


__all__ = [
    "BY_REQUEST",
    "FORMAT",
    "VERSION",
    "ExportOptions",
    "PostState",
    "attributed",
    "build_document",
    "exclusion",
    "left_out",
]
