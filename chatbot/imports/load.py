"""Storing an imported chat as an event like any other: posts, participants, questions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from chatbot.collect.events import own_accounts
from chatbot.collect.moderation import refresh_flags
from chatbot.collect.participants import upsert_participants
from chatbot.collect.sightings import FoundBy
from chatbot.collect.store import upsert_posts
from chatbot.db import session_scope
from chatbot.errors import UsageError
from chatbot.imports.tweets import NETWORK, read_csv, read_twarc
from chatbot.models import Event, Post, PostDelivery, ScheduledPost, hashtag_key, utcnow
from chatbot.platforms.base import NormalisedPost
from chatbot.questionfile.fields import MAX_TITLE
from chatbot.text.posturls import PostIndex
from chatbot.transcript import (
    ChatPost,
    ChatQuestion,
    ModeratorAccount,
    chat_end,
    discover_questions,
)


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


def _chat_posts(posts: list[NormalisedPost]) -> list[ChatPost]:
    """The posts as the transcript core reads them; a quote names an imported post if it can."""
    index = PostIndex.of(posts)
    chat = []
    for post in posts:
        assert post.created_at is not None
        chat.append(
            ChatPost(
                network=post.network,
                uri=post.uri,
                author_id=post.author_id,
                created_at=post.created_at,
                text=post.text,
                author_handle=post.author_handle,
                parent_uri=post.parent_uri,
                quote_uri=index.first(post.quote_uris),
                mentions=post.mentions,
                tags=post.tags,
            )
        )
    return chat


def read_file(path: Path, fmt: str | None) -> tuple[list[NormalisedPost], int]:
    """The posts of ``path`` (format from ``fmt`` or the file's extension) and retweets skipped."""
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "twarc")
    if fmt == "csv":
        return read_csv(path), 0
    if fmt == "twarc":
        return read_twarc(path)
    raise UsageError(f"unknown import format {fmt!r}; use twarc or csv")


def import_file(
    engine: Engine,
    path: Path,
    *,
    hashtag: str,
    host: str,
    fmt: str | None = None,
    title: str | None = None,
    question_posts: Sequence[str] = (),
) -> ImportReport:
    """Import an archived chat: the host's "Q1 ..." posts become the event's questions.

    In an open-format chat the host asks in plain words: ``question_posts``
    (tweet ids or addresses) name the posts that ask, which become Q1, Q2, ...
    in time order. Importing the same file again updates the same event
    (matched by hashtag and file) and stores no post twice.
    """
    tag = hashtag.lstrip("#")
    host = host.lstrip("@")
    if title is not None and len(title) > MAX_TITLE:
        raise UsageError(f"--title is {len(title):,} characters long; at most {MAX_TITLE}")
    posts, retweets = read_file(path, fmt)
    posts = [p for p in posts if p.created_at is not None]
    if not posts:
        raise UsageError(f"{path}: no posts to import")
    chat = _chat_posts(posts)
    hosts = [ModeratorAccount(NETWORK, handle=host)]
    if question_posts:
        questions = _named_questions(path, chat, question_posts)
    else:
        questions = discover_questions(chat, hosts)
    if not questions:
        raise UsageError(
            f'{path}: no numbered questions ("Q1 ...") posted by @{host}; check --host'
        )
    first = min(p.created_at for p in posts if p.created_at)
    last = max(p.created_at for p in posts if p.created_at)
    start = min(min(q.posted_at.values()) for q in questions)
    # The chat ends at the host's wrap-up (else one question gap after the
    # last question), not at the last tweet: spam hours later changes nothing.
    end = chat_end(chat, questions, hosts) or start
    now = utcnow()
    with session_scope(engine) as session:
        event = _event(session, tag, str(path), start)
        event.title = title or event.title or f"#{tag}"
        event.end_at = max(end, start)
        event.collect_from, event.collect_until = first, last + timedelta(seconds=1)
        event.networks, event.accounts, event.moderators = [NETWORK], {NETWORK: host}, [host]
        event.state, event.updated_at = "finished", now
        session.add(event)
        session.flush()
        assert event.id is not None
        connection = session.connection()
        found_by = FoundBy("import", f"file:{path.name}")
        stored = upsert_posts(connection, posts, event_id=event.id, now=now, found_by=found_by)
        upsert_participants(connection, posts, now=now)
        by_uri = {p.uri: p for p in posts}
        for position, question in enumerate(questions):
            _question(session, event, position, question, by_uri)
        session.flush()
        refresh_flags(connection, event, now=now, moderators=own_accounts(session, event))
        spam = _spam_count(session, event.id)
        return ImportReport(
            event.id, tag, len(posts), stored.new, retweets, tuple(q.label for q in questions), spam
        )


def _named_questions(
    path: Path, chat: Sequence[ChatPost], wanted: Sequence[str]
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


__all__ = ["ImportReport", "import_file", "read_file"]
