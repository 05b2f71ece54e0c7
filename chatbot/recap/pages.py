"""Threads cut into pages that stay small, whatever the chat's size (pure).

A page's weight is estimated per post before anything is rendered: its
content (escaping can grow a ``<`` five-fold, so those are weighed as such),
its names and address, and the markup around it. A question's threads fill a
page up to :data:`PAGE_BUDGET` and go on to the next; a thread too big for
one page is cut between two replies, its open reply lists closed at the
page's end and reopened on the next under a line that says whose replies
continue there. Rendered pages then stay under :data:`PAGE_LIMIT`, which the
tests check on a chat far larger than any real one.
"""

from __future__ import annotations

from collections.abc import Sequence

from .document import DocPost
from .layout import OTHER, Item, Section

__all__ = [
    "INDEX_BUDGET",
    "PAGE_BUDGET",
    "PAGE_LIMIT",
    "anchor_pages",
    "cut",
    "paginate",
    "post_weight",
    "recut",
    "threads_weight",
]

PAGE_LIMIT = 1_000_000  # bytes: no page of a recap is larger
PAGE_BUDGET = 600_000  # estimated bytes of threads on one page; the rest is head room
INDEX_BUDGET = 800_000  # threads the main page holds before questions get pages of their own
MARKUP = 300  # the list item, meta line, time, link and reply list around each post
_GROWING = frozenset("<>&\"'\n")


def post_weight(post: DocPost) -> int:
    """About how many bytes ``post`` takes in a page, erring on the heavy side."""
    content = post.html if post.html is not None else post.text
    grown = sum(map(content.count, _GROWING))
    links = content.count("<a") + len(post.facets)
    facet_urls = sum(len(str(facet)) for facet in post.facets)
    size = len(content.encode("utf-8", "surrogatepass")) + 5 * grown + 60 * links + facet_urls
    names = 2 * len(post.handle.encode()) + len(post.name.encode()) + len(post.url.encode())
    return MARKUP + size + names


def cut(items: Sequence[Item], budget: int = PAGE_BUDGET) -> list[list[Item]]:
    """``items`` in pages of about ``budget`` bytes each, every page well formed.

    An ``open`` item with replies starts a nested list ended by a ``close``;
    a page that ends inside such lists gets their closes, and the next page
    starts with a ``resume`` item for each, outermost first.
    """
    pages: list[list[Item]] = []
    page: list[Item] = []
    weight = 0
    stack: list[Item] = []  # the open items whose reply lists are not closed yet
    for item in items:
        if item.kind == "close":
            page.append(item)
            stack.pop()
            continue
        assert item.post is not None
        cost = post_weight(item.post)
        if weight and weight + cost > budget:
            page.extend(Item("close") for _ in stack)
            pages.append(page)
            page = [Item("resume", post=open_.post) for open_ in stack]
            weight = sum(MARKUP for _ in stack)
        page.append(item)
        weight += cost
        if item.replies:
            stack.append(item)
    if page:
        pages.append(page)
    return pages


def threads_weight(sections: Sequence[Section]) -> int:
    """The estimated bytes of every thread of ``sections``."""
    return sum(
        post_weight(item.post)
        for section in sections
        for item in section.items
        if item.post is not None
    )


def paginate(sections: Sequence[Section], split: bool, budget: int = PAGE_BUDGET) -> None:
    """Give each question's answers pages of their own (``split``), or none."""
    for section in sections:
        if not split or section.skipped:
            section.page, section.pages, section.parts = None, [], []
            continue
        recut(section, budget)


def recut(section: Section, budget: int) -> None:
    """Cut ``section``'s threads into pages of ``budget`` estimated bytes."""
    base = f"question-{section.slug.removeprefix('q') or OTHER}"
    section.parts = cut(section.items, budget) or [[]]
    section.pages = [f"{base}.html"] + [
        f"{base}-{number}.html" for number in range(2, len(section.parts) + 1)
    ]
    section.page = section.pages[0]


def anchor_pages(sections: Sequence[Section]) -> dict[str, str]:
    """Which page each post's anchor is on, for posts not on the main page."""
    found: dict[str, str] = {}
    for section in sections:
        for name, items in zip(section.pages, section.parts, strict=True):
            for item in items:
                if item.kind == "open" and item.post is not None:
                    found[item.post.anchor] = name
    return found
