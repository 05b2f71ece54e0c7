"""Storing an imported chat as an event like any other: posts, participants, questions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select
from sqlmodel import Session, col

from chatbot.collect.events import own_accounts
from chatbot.collect.moderation import refresh_flags
from chatbot.collect.participants import upsert_participants
from chatbot.collect.sightings import FoundBy
from chatbot.collect.store import upsert_posts
from chatbot.db import session_scope
from chatbot.errors import UsageError
from chatbot.imports.tweets import NETWORK, iter_csv, iter_twarc
from chatbot.models import Event, Post, PostDelivery, ScheduledPost, hashtag_key, utcnow
from chatbot.platforms.base import NormalisedPost
from chatbot.questionfile.fields import MAX_TITLE
from chatbot.transcript import (
    ChatPost,
    ChatQuestion,
    ModeratorAccount,
    chat_end,
    discover_questions,
)
from chatbot.transcript.questions import moderator_keys, norm_handle


@dataclass(frozen=True)
class ImportReport:
    """What ``import_file`` stored."""

    event_id: int
    hashtag: str
    posts: int
    new: int
    retweets: int  # skipped: a retweet repeats another post
    questions: tuple[str, ...]
    spam: int


BATCH = 2_000  # posts stored per batch: memory stays flat however long the file


def _chat_post(post: NormalisedPost) -> ChatPost:
    """A host's post as the transcript core reads it (questions and the wrap-up come from these)."""
    assert post.created_at is not None
    return ChatPost(
        network=post.network,
        uri=post.uri,
        author_id=post.author_id,
        created_at=post.created_at,
        text=post.text,
        author_handle=post.author_handle,
        parent_uri=post.parent_uri,
        mentions=post.mentions,
        tags=post.tags,
    )


def iter_file(
    path: Path,
    fmt: str | None,
    name: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[NormalisedPost | None]:
    """The posts of ``path`` (format from ``fmt`` or the extension), None for each retweet.

    ``name`` is what messages call the file; ``on_bytes`` hears of each chunk read.
    """
    fmt = fmt or guess_format(path)
    if fmt == "csv":
        return iter_csv(path, name, on_bytes)
    if fmt == "twarc":
        return iter_twarc(path, name, on_bytes)
    raise UsageError(f"unknown import format {fmt!r}; use twarc or csv")


def guess_format(path: Path) -> str:
    """csv for a .csv file; else twarc, unless the file does not open with JSON's ``{``/``[``."""
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() in (".jsonl", ".json"):
        return "twarc"
    with path.open("rb") as handle:
        start = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "twarc" if start[:1] in (b"{", b"[", b"") else "csv"


def read_file(path: Path, fmt: str | None) -> tuple[list[NormalisedPost], int]:
    """The posts of ``path`` (format from ``fmt`` or the file's extension) and retweets skipped."""
    posts: list[NormalisedPost] = []
    retweets = 0
    for post in iter_file(path, fmt):
        if post is None:
            retweets += 1
        else:
            posts.append(post)
    return posts, retweets


@dataclass(frozen=True)
class _Source:
    """The file to import, what messages call it, and who hears of the bytes read."""

    path: Path
    fmt: str | None
    name: str
    progress: Callable[[int, int], None] | None

    def on_bytes_for(self) -> Callable[[int], None] | None:
        if self.progress is None:
            return None
        report, total, done = self.progress, self.path.stat().st_size, [0]

        def on_bytes(count: int) -> None:
            done[0] += count
            report(min(done[0], total), total)

        return on_bytes


@dataclass
class _Pass:
    """What one pass over the file keeps: counts, the time span, and the few posts it needs.

    Only the host's posts (questions and wrap-up come from them) and the
    posts named with ``--question`` are kept whole; the rest are stored in
    batches and forgotten.
    """

    hosts: Sequence[ModeratorAccount]
    wanted_ids: frozenset[str]
    posts: int = 0
    new: int = 0
    retweets: int = 0
    first: datetime | None = None
    last: datetime | None = None
    kept: dict[str, NormalisedPost] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keys = moderator_keys(self.hosts)

    def see(self, post: NormalisedPost) -> None:
        assert post.created_at is not None
        self.posts += 1
        when = post.created_at
        self.first = when if self.first is None else min(self.first, when)
        self.last = when if self.last is None else max(self.last, when)
        bucket = self.keys.get(post.network, set())
        own = post.author_id in bucket or norm_handle(post.author_handle) in bucket
        if own or post.id in self.wanted_ids:
            self.kept[post.uri] = post  # the last sighting wins, as in the store

    def chat(self) -> list[ChatPost]:
        return [_chat_post(post) for post in self.kept.values()]


def _store_file(
    connection: Connection,
    source: _Source,
    event_id: int,
    seen: _Pass,
    now: datetime,
) -> None:
    """Store every post of ``source`` in batches of ``BATCH``, noting what ``seen`` keeps."""
    found_by = FoundBy("import", f"file:{Path(source.name).name}")
    batch: list[NormalisedPost] = []

    def flush() -> None:
        stored = upsert_posts(connection, batch, event_id=event_id, now=now, found_by=found_by)
        upsert_participants(connection, batch, now=now)
        seen.new += stored.new
        batch.clear()

    for post in iter_file(source.path, source.fmt, source.name, source.on_bytes_for()):
        if post is None:
            seen.retweets += 1
        elif post.created_at is not None:
            seen.see(post)
            batch.append(post)
            if len(batch) >= BATCH:
                flush()
    if batch:
        flush()


def import_file(
    engine: Engine,
    path: Path,
    *,
    hashtag: str,
    host: str,
    fmt: str | None = None,
    title: str | None = None,
    question_posts: Sequence[str] = (),
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import an archived chat: the host's "Q1 ..." posts become the event's questions.

    In an open-format chat the host asks in plain words: ``question_posts``
    (tweet ids or addresses) name the posts that ask, which become Q1, Q2, ...
    in time order. Importing the same file again updates the same event
    (matched by hashtag and file) and stores no post twice.

    The file is read once and stored in batches (memory stays flat however
    long it is), all in one transaction: a bad line anywhere leaves the
    database as it was. ``name`` is what messages and the event call the file
    (``<stdin>`` for a copy of standard input); ``progress(done, total)``
    hears how many of the file's bytes are stored.
    """
    tag = hashtag.lstrip("#")
    host = host.lstrip("@")
    if title is not None and len(title) > MAX_TITLE:
        raise UsageError(f"--title is {len(title):,} characters long; at most {MAX_TITLE}")
    source = _Source(path, fmt, name or str(path), progress)
    path_name = source.name
    hosts = [ModeratorAccount(NETWORK, handle=host)]
    wanted = frozenset(filter(None, (_tweet_id(given) for given in question_posts)))
    now = utcnow()
    with session_scope(engine) as session:
        event = _event(session, tag, path_name, now)
        session.add(event)
        session.flush()
        assert event.id is not None
        connection = session.connection()
        seen = _Pass(hosts, wanted)
        _store_file(connection, source, event.id, seen, now)
        if not seen.posts or seen.first is None or seen.last is None:
            raise UsageError(f"{path_name}: no posts to import")
        chat = seen.chat()
        if question_posts:
            questions = _named_questions(path_name, chat, question_posts)
        else:
            questions = discover_questions(chat, hosts)
        if not questions:
            raise UsageError(
                f'{path_name}: no numbered questions ("Q1 ...") posted by @{host}; check --host'
            )
        start = min(min(q.posted_at.values()) for q in questions)
        # The chat ends at the host's wrap-up (else one question gap after the
        # last question), not at the last tweet: spam hours later changes nothing.
        end = chat_end(chat, questions, hosts) or start
        event.start_at = start
        event.title = title or event.title or f"#{tag}"
        event.end_at = max(end, start)
        event.collect_from, event.collect_until = seen.first, seen.last + timedelta(seconds=1)
        event.networks, event.accounts, event.moderators = [NETWORK], {NETWORK: host}, [host]
        event.state, event.updated_at = "finished", now
        session.add(event)
        session.flush()
        for position, question in enumerate(questions):
            _question(session, event, position, question, seen.kept)
        session.flush()
        refresh_flags(connection, event, now=now, moderators=own_accounts(session, event))
        spam = _spam_count(session, event.id)
        return ImportReport(
            event.id, tag, seen.posts, seen.new, seen.retweets,
            tuple(q.label for q in questions), spam,
        )  # fmt: skip


def _named_questions(
    path: str, chat: Sequence[ChatPost], wanted: Sequence[str]
) -> tuple[ChatQuestion, ...]:
    """The posts ``wanted`` names (ids or tweet addresses), as Q1, Q2, ... in time order."""
    by_id = {post.uri.rsplit("/", 1)[-1]: post for post in chat}
    found: dict[str, ChatPost] = {}
    for given in wanted:
        tweet_id = _tweet_id(given)
        post = by_id.get(tweet_id) if tweet_id else None
        if post is None:
            raise UsageError(
                f"{path}: --question {given!r} is not a tweet of this file; "
                "give the id or address of the host's post that asks it"
            )
        found[post.uri] = post
    ordered = sorted(found.values(), key=lambda p: (p.created_at, p.uri))
    return tuple(
        ChatQuestion(number, "", post.text, {NETWORK: post.created_at}, {NETWORK: post.uri})
        for number, post in enumerate(ordered, start=1)
    )


def _tweet_id(given: str) -> str | None:
    # "1489660336672329734", or https://twitter.com/x/status/1489660336672329734 (x.com too).
    text = given.strip().rstrip("/")
    tail = text.rsplit("/", 1)[-1].split("?", 1)[0]
    return tail if tail.isdigit() and tail.isascii() else None


def _event(session: Session, tag: str, source: str, start: datetime) -> Event:
    query = select(Event).where(
        col(Event.hashtag_key) == hashtag_key(tag),
        col(Event.source_path) == source,
    )
    event = session.execute(query).scalars().first()
    if event is None:
        event = Event(
            hashtag=tag, hashtag_key=hashtag_key(tag), title="", timezone="UTC",
            start_at=start, end_at=start, source_path=source,
            collect_from=start, collect_until=start,
        )  # fmt: skip
    event.start_at = start
    return event


def _question(
    session: Session,
    event: Event,
    position: int,
    question: ChatQuestion,
    by_uri: dict[str, NormalisedPost],
) -> None:
    uri = question.uris.get(NETWORK, "")
    post = by_uri.get(uri)
    when = question.posted_at[NETWORK]  # discovered from this network's posts: always there
    query = select(ScheduledPost).where(
        col(ScheduledPost.event_id) == event.id,
        col(ScheduledPost.key) == question.label,
    )
    row = session.execute(query).scalars().first() or ScheduledPost(
        event_id=event.id or 0, key=question.label, kind="question", label=question.label,
        position=position, due_at=when, original_due_at=when,
    )  # fmt: skip
    row.number, row.suffix, row.position = question.number, question.suffix, position
    row.due_at = row.original_due_at = when
    session.add(row)
    session.flush()
    delivery = session.execute(
        select(PostDelivery).where(col(PostDelivery.scheduled_post_id) == row.id)
    ).scalars().first() or PostDelivery(
        scheduled_post_id=row.id or 0, event_id=event.id or 0, network=NETWORK, text="",
        due_at=when, idempotency_key=f"import:{event.id}:{question.label}",
    )  # fmt: skip
    delivery.text = post.text if post else question.text
    delivery.state, delivery.due_at, delivery.posted_at = "posted", when, when
    delivery.remote_id = post.id if post else None
    delivery.remote_uri, delivery.remote_url = uri or None, (post.url if post else None)
    session.add(delivery)


def _spam_count(session: Session, event_id: int) -> int:
    query = select(func.count()).where(
        col(Post.event_id) == event_id,
        col(Post.spam_reason).is_not(None),
    )
    return int(session.execute(query).scalar() or 0)


__all__ = ["BATCH", "ImportReport", "import_file", "iter_file", "read_file"]
