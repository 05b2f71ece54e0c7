"""The recap's figures and thread layout, computed from the transcript document (pure)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from chatbot.transcript import (
    ChatPost,
    ModeratorAccount,
    build_forest,
    conversation_share,
    reply_pairs,
)
from chatbot.transcript.counts import ChatCounts, document_counts, host_keys

from .document import (
    Coverage,
    DocEvent,
    DocPost,
    DocQuestion,
    RecapExtras,
    read_event,
    read_posts,
    read_questions,
)
from .engagement import Engagement, build_engagement
from .interactions import Directory, Talk, directory, talk_of
from .layout import Item, Section, lay_out
from .pages import INDEX_BUDGET, anchor_pages, paginate, threads_weight

__all__ = ["Item", "PersonRow", "Recap", "Section", "Summary", "ThreadRow", "build_recap"]


@dataclass(frozen=True, slots=True)
class Summary:
    """The headline figures (the ones hosts compare: posts, participants, per hour, per person)."""

    participants: int
    posts: int
    host_posts: int
    hours: float
    posts_per_hour: float
    posts_per_participant: float
    answers: list[tuple[str, int]]
    replies_between: int
    conversation_ratio: float
    median_first_reply: timedelta | None
    new: int | None
    returning: int | None
    earlier_chats: int
    reach: int | None
    reach_unknown: int
    spam: int
    missing_parents: int


@dataclass(frozen=True, slots=True)
class PersonRow:
    """A participant's line: posts, answers, replies given and received."""

    key: str
    handle: str
    name: str
    network: str
    posts: int
    answers: int
    given: int
    received: int


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """One of the longest threads: where it starts, how big and deep it is."""

    post: DocPost
    posts: int
    depth: int
    people: int
    href: str


@dataclass(slots=True)
class Recap:
    """Everything the templates show."""

    event: DocEvent
    questions: list[DocQuestion]
    sections: list[Section]
    summary: Summary
    coverage: Coverage
    people: list[PersonRow]
    people_total: int
    threads: list[ThreadRow]
    pairs: list[tuple[str, str, int]]  # from handle, to handle, replies
    times: list[datetime]  # every shown post's time, for the timeline
    split: bool
    talk: Talk  # who replied to, mentioned or quoted whom: the whole chat
    talk_by_question: dict[str, Talk]  # the same within each question's posts
    engagement: Engagement  # counts, top posts, mentions, links, media, languages, networks


def _host_keys(event: DocEvent) -> set[str]:
    networks = event.networks or ("bluesky", "mastodon")
    return host_keys(event.moderators, event.accounts, networks)


def _with_extras(event: DocEvent, extras: RecapExtras) -> DocEvent:
    """The event block, completed from the database where the document says nothing."""
    return replace(
        event,
        moderators=event.moderators or extras.moderators,
        accounts=event.accounts or extras.accounts,
        language=extras.language or event.language,
    )


def _question_urls(questions: list[DocQuestion], posts: list[DocPost]) -> list[DocQuestion]:
    # The document names question posts by URI; their web addresses are on the posts.
    urls = {post.uri: post.url for post in posts if post.url}
    found: list[DocQuestion] = []
    for question in questions:
        merged = {net: urls[uri] for net, uri in question.uris.items() if uri in urls}
        merged.update(question.urls)
        found.append(replace(question, urls=merged))
    return found


def build_recap(
    document: Mapping[str, Any],
    extras: RecapExtras | None = None,
    *,
    split_at: int = 400,
    people_limit: int = 100,
    thread_limit: int = 5,
    pair_limit: int = 10,
) -> Recap:
    """Figures and threads of the recap; answers move to pages of their own past ``split_at``."""
    extras = extras or RecapExtras()
    event = _with_extras(read_event(document), extras)
    own = _host_keys(event)
    posts, spam, flagged = read_posts(document, extras, own)
    counts = document_counts(document, own)
    questions = _question_urls(read_questions(document), posts)
    question_uris = {uri: q.label for q in questions for uri in q.uris.values()}
    for post in posts:
        if post.method == "moderator" or post.is_question:
            post.is_host = True
        if post.is_question and post.question:
            question_uris.setdefault(post.uri, post.question)
    by_uri = {post.uri: post for post in posts}
    labels = [q.label for q in questions]
    for post in posts:
        if post.is_host and not post.is_question:
            post.question = host_post_question(post, by_uri, labels) or post.question
    chat = [
        ChatPost(
            post.network,
            post.uri,
            post.key,
            post.created_at,
            post.text,
            post.handle,
            parent_uri=post.parent_uri,
        )
        for post in posts
    ]
    forest = build_forest(chat)
    headings = {uri for uri in by_uri if uri in question_uris}
    for uri in headings:
        by_uri[uri].is_host = True  # a question's post is the hosts', whoever the document says
    shown = [by_uri[uri] for uri in forest.order if uri not in headings]
    people_posts = [post for post in shown if not post.is_host]
    sections = lay_out(questions, forest, by_uri, headings)
    posted = sum(section.posts for section in sections)
    paginate(sections, posted > split_at or threads_weight(sections) > INDEX_BUDGET)
    host_keys = {post.key for post in posts if post.is_host}
    hosts = [ModeratorAccount(p.network, p.key, p.handle) for p in posts if p.is_host]
    share = conversation_share(chat, forest, hosts, question_uris)
    coverage = extras.coverage or flagged
    if coverage.spam is not None:
        spam = coverage.spam  # the database knows the spam the export left out
    summary = _summary(event, counts, people_posts, share, sections, extras, spam, forest, by_uri)
    people, total = _people(people_posts, forest, by_uri, headings, people_limit)
    known = directory(people_posts)
    talk = talk_of(people_posts, by_uri, known)
    replies_shown = {uri: len(node.children) for uri, node in forest.nodes.items()}
    return Recap(
        event=event,
        questions=questions,
        sections=sections,
        summary=summary,
        coverage=coverage,
        people=people,
        people_total=total,
        threads=_threads(forest, by_uri, headings, sections, thread_limit),
        pairs=[
            (pair.from_handle, pair.to_handle, pair.count)
            for pair in reply_pairs(chat, forest)
            if pair.to_id not in host_keys and pair.from_id not in host_keys
        ][:pair_limit],
        times=sorted(post.created_at for post in shown),
        split=any(section.pages for section in sections),
        talk=talk,
        talk_by_question=talk_by_question(people_posts, by_uri, sections, known),
        engagement=build_engagement(people_posts, talk, replies_shown),
    )


def talk_by_question(
    people_posts: list[DocPost],
    by_uri: Mapping[str, DocPost],
    sections: list[Section],
    known: Directory,
) -> dict[str, Talk]:
    """Each question's links: made by the posts placed under it, among all participants."""
    grouped: dict[str, list[DocPost]] = {}
    for post in people_posts:
        if post.question:
            grouped.setdefault(post.question, []).append(post)
    return {
        section.label: talk_of(grouped.get(section.label, []), by_uri, known)
        for section in sections
        if section.label
    }


_LABEL = re.compile(r"(?<![\w@#])Q\d+[a-z]?(?!\w)")


def host_post_question(
    post: DocPost, by_uri: Mapping[str, DocPost], labels: list[str]
) -> str | None:
    """The question a host's own post (a reminder, a follow-up) names, when it names one.

    "Reminder: answer Q2 with A2 ..." belongs to Q2 whenever it was posted
    and whatever the timing guessed. A post that replies to a participant
    stays in that participant's thread; a post naming several questions is
    left where the transcript put it.
    """
    parent = by_uri.get(post.parent_uri or "")
    if parent is not None and not parent.is_host:
        return None
    named = {label for label in _LABEL.findall(post.text) if label in labels}
    return named.pop() if len(named) == 1 else None


def _summary(
    event: DocEvent,
    counts: ChatCounts,
    people_posts: list[DocPost],
    share: Any,
    sections: list[Section],
    extras: RecapExtras,
    spam: int,
    forest: Any,
    by_uri: dict[str, DocPost],
) -> Summary:
    # Posts and participants are the one count every report shows (chatbot.export.counts).
    keys = counts.people
    count = counts.posts
    end = event.end or max((p.created_at for p in people_posts), default=event.start)
    hours = max((end - event.start).total_seconds() / 3600, 1 / 60)
    answers = Counter(post.question for post in people_posts if post.question)
    labels = [section.label for section in sections if section.label]
    returning = new = None
    if extras.previous is not None:
        returning = len(keys & extras.previous)
        new = len(keys) - returning
    known = [extras.followers[key] for key in keys if key in extras.followers]
    return Summary(
        participants=len(keys),
        posts=count,
        host_posts=counts.host_posts,
        hours=hours,
        posts_per_hour=count / hours,
        posts_per_participant=count / len(keys) if keys else 0.0,
        answers=[(label, answers.get(label, 0)) for label in labels],
        replies_between=share.to_participants,
        conversation_ratio=share.ratio,
        median_first_reply=_median_first_reply(forest, by_uri),
        new=new,
        returning=returning,
        earlier_chats=extras.earlier_chats,
        reach=sum(known) if known else None,
        reach_unknown=len(keys) - len(known),
        spam=spam,
        missing_parents=sum(1 for uri in forest.roots if forest.nodes[uri].missing_parent),
    )


def _median_first_reply(forest: Any, by_uri: dict[str, DocPost]) -> timedelta | None:
    """Median wait from a participant's post to the first reply by someone else."""
    waits: list[float] = []
    for uri, node in forest.nodes.items():
        post = by_uri[uri]
        if post.is_host:
            continue
        for kid in node.children:  # in time order: the first other author is the first reply
            reply = by_uri[kid]
            if reply.key != post.key:
                waits.append((reply.created_at - post.created_at).total_seconds())
                break
    return timedelta(seconds=median(waits)) if waits else None


def _people(
    people_posts: list[DocPost],
    forest: Any,
    by_uri: dict[str, DocPost],
    headings: set[str],
    limit: int,
) -> tuple[list[PersonRow], int]:
    posts: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    given: Counter[str] = Counter()
    received: Counter[str] = Counter()
    first: dict[str, DocPost] = {}
    for post in people_posts:
        key = post.key
        first.setdefault(key, post)
        posts[key] += 1
        parent_uri = forest.nodes[post.uri].parent
        parent = by_uri[parent_uri] if parent_uri is not None else None
        if parent is None or parent_uri in headings or parent.is_host:
            if post.question:
                answers[key] += 1
        elif parent.key != key:
            given[key] += 1
            received[parent.key] += 1
    rows = [
        PersonRow(
            key,
            first[key].handle,
            first[key].name,
            first[key].network,
            posts[key],
            answers[key],
            given[key],
            received[key],
        )
        for key in first
    ]
    rows.sort(key=lambda row: (-row.posts, -row.received, row.handle))
    return rows[:limit], len(rows)


def _threads(
    forest: Any,
    by_uri: dict[str, DocPost],
    headings: set[str],
    sections: list[Section],
    limit: int,
) -> list[ThreadRow]:
    # A thread hanging off a question post is that question's conversation,
    # not one thread: threads start at roots and at replies to question posts.
    nodes = forest.nodes
    size: dict[str, int] = {}
    deepest: dict[str, int] = {}
    for uri in reversed(forest.order):
        node = nodes[uri]
        size[uri] = 1 + sum(size[kid] for kid in node.children)
        deepest[uri] = max((deepest[kid] for kid in node.children), default=node.depth)
    starts = [
        uri
        for uri in forest.order
        if uri not in headings and (nodes[uri].parent is None or nodes[uri].parent in headings)
    ]
    starts = [uri for uri in starts if size[uri] > 1]
    starts.sort(key=lambda uri: (-size[uri], nodes[uri].depth - deepest[uri], uri))
    pages = anchor_pages(sections)
    rows: list[ThreadRow] = []
    for start in starts[:limit]:
        post = by_uri[start]
        people = len({by_uri[uri].key for uri in _subtree(forest, start)})
        href = f"{pages.get(post.anchor, '')}#{post.anchor}"
        depth = deepest[start] - nodes[start].depth
        rows.append(ThreadRow(post, size[start], depth, people, href))
    return rows


def relink_threads(recap: Recap) -> None:
    """Point the longest threads at the pages their posts are on now."""
    pages = anchor_pages(recap.sections)
    recap.threads = [
        replace(row, href=f"{pages.get(row.post.anchor, '')}#{row.post.anchor}")
        for row in recap.threads
    ]
    recap.split = any(section.pages for section in recap.sections)


def _subtree(forest: Any, uri: str) -> list[str]:
    out: list[str] = []
    stack = [uri]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(forest.nodes[current].children)
    return out
