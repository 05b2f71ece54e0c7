"""Questions' threads laid out for the page: sections, nesting, open/close items (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .document import DocPost, DocQuestion

__all__ = ["MAX_NESTING", "OTHER", "Item", "Section", "lay_out"]

OTHER = "other"  # the section of posts that answer no question
MAX_NESTING = 8  # deeper replies are shown at this depth, saying whom they reply to


@dataclass(frozen=True, slots=True)
class Item:
    """One step of a section's threads, flattened so templates never recurse.

    ``open``: a post (``replies`` below it nested if > 0, closed by as many
    ``close`` items); ``close`` ends the innermost reply list.
    """

    kind: str  # "open" or "close"
    post: DocPost | None = None
    replies: int = 0  # posts in the nested list that follows
    reply_to: str = ""  # handle, when nesting was capped or the parent sits elsewhere


@dataclass(slots=True)
class Section:
    """A question (or the unattributed posts) and its threads."""

    slug: str  # "q1", "q2a", "other": anchors and page names
    label: str  # "Q1", or "" for other posts
    number: int
    text: str
    urls: dict[str, str]
    posted_at: datetime | None
    posts: int = 0
    threads: int = 0
    items: list[Item] = field(default_factory=list)
    page: str | None = None  # "question-1.html" when the answers have pages of their own
    pages: list[str] = field(default_factory=list)  # every page of them, the first is ``page``
    parts: list[list[Item]] = field(default_factory=list)  # the items of each of those pages
    skipped: bool = False  # never posted: shown as skipped, without counts


def _slug(label: str) -> str:
    return "".join(ch for ch in label.lower() if ch.isalnum()) or OTHER


def lay_out(
    questions: list[DocQuestion],
    forest: Any,
    by_uri: dict[str, DocPost],
    headings: set[str],
) -> list[Section]:
    """One section per question (and one for posts answering none), threads in time order.

    A post opens a thread when its parent is missing, is a question post, or
    belongs to another question. Pages of their own: :mod:`.pages`.
    """
    sections = {
        q.label: Section(_slug(q.label), q.label, q.number, q.text, dict(q.urls), q.posted_at)
        for q in questions
    }
    unposted = {q.label for q in questions if q.skipped or not (q.uris or q.posted_at)}
    other = Section(OTHER, "", 0, "", {}, None)
    nodes = forest.nodes

    def section_of(post: DocPost) -> Section:
        if post.question is None:
            return other
        if post.question not in sections:  # a label the plan lacks: give it a section
            sections[post.question] = Section(
                _slug(post.question), post.question, len(sections) + 1, "", {}, None
            )
        return sections[post.question]

    starts: list[tuple[DocPost, str]] = []
    for root_uri in forest.order:
        if root_uri in headings:
            continue
        post = by_uri[root_uri]
        parent = nodes[root_uri].parent
        under = parent is not None and parent not in headings  # below another post
        if under and by_uri[parent].question == post.question:
            continue  # nested under its parent
        starts.append((post, by_uri[parent].handle if under else ""))
    # Threads in the order they began, whichever way they hang off the question.
    starts.sort(key=lambda start: (start[0].created_at, start[0].uri))
    for post, reply_to in starts:
        section = section_of(post)
        section.threads += 1
        section.posts += _emit(section.items, post, reply_to, nodes, by_uri)
    found = sorted(sections.values(), key=lambda s: (s.number, s.label))
    for section in found:
        # Skipped: the plan says so, or nothing shows it went out and nobody answered.
        section.skipped = section.label in unposted and section.posts == 0
    if other.posts:
        found.append(other)
    return found


def _emit(
    items: list[Item], root: DocPost, reply_to: str, nodes: Any, by_uri: dict[str, DocPost]
) -> int:
    """Append ``root``'s thread to ``items`` depth first, without recursion; count its posts."""
    label = root.question
    sizes: dict[str, int] = {}
    # Pass 1: the posts of this thread (same question) and their subtree sizes.
    order: list[str] = []
    stack = [root.uri]
    while stack:
        uri = stack.pop()
        order.append(uri)
        stack.extend(kid for kid in nodes[uri].children if by_uri[kid].question == label)
    for uri in reversed(order):
        sizes[uri] = 1 + sum(
            sizes[kid] for kid in nodes[uri].children if by_uri[kid].question == label
        )
    # Pass 2: open/close items; past MAX_NESTING children join their parent's list.
    work: list[tuple[str, int, str] | None] = [(root.uri, 0, reply_to)]
    while work:
        entry = work.pop()
        if entry is None:
            items.append(Item("close"))
            continue
        uri, level, note = entry
        kids = [kid for kid in nodes[uri].children if by_uri[kid].question == label]
        if kids and level < MAX_NESTING:
            items.append(Item("open", by_uri[uri], sizes[uri] - 1, note))
            work.append(None)
            work.extend((kid, level + 1, "") for kid in reversed(kids))
        else:
            items.append(Item("open", by_uri[uri], 0, note))
            handle = by_uri[uri].handle
            work.extend((kid, level, handle) for kid in reversed(kids))
    return sizes[root.uri]
