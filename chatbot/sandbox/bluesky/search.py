"""searchPosts as the production search service answers it: tags, authors, time windows, paging."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chatbot.sandbox.bluesky import views
from chatbot.sandbox.bluesky.richtext import record_mentions
from chatbot.sandbox.bluesky.times import parse_datetime

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.store import BlueskyStore, StoredRecord


class SearchError(ValueError):
    """A query the service refuses (400 BadQueryString / InvalidRequest)."""


@dataclass
class Query:
    """A parsed searchPosts request."""

    words: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)  # DIDs
    mentions: set[str] = field(default_factory=set)  # DIDs
    langs: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    since: datetime | None = None
    until: datetime | None = None
    unknown_actor: bool = False  # an author/mention that matches nobody: no results


def _when(value: str, name: str) -> datetime:
    try:
        return parse_datetime(value)
    except ValueError:
        raise SearchError(f"{name} must be a datetime, got {value!r}") from None


def parse_query(
    store: BlueskyStore,
    q: str,
    *,
    tags: list[str] | None = None,
    author: str | None = None,
    mentions: str | None = None,
    since: str | None = None,
    until: str | None = None,
    lang: str | None = None,
    domain: str | None = None,
) -> Query:
    """Combine ``q`` (with ``#tag``, ``from:``, ``mentions:``, ``lang:``, ``since:``,
    ``until:``, ``domain:`` operators and quoted phrases) with the explicit parameters."""
    query = Query()
    try:
        terms = shlex.split(q)
    except ValueError:
        terms = q.split()  # an unbalanced quote is searched for literally

    def actor(value: str) -> None:
        account = store.account(value)
        if account is None:
            query.unknown_actor = True
        else:
            query.authors.add(account.did)

    def mention(value: str) -> None:
        account = store.account(value)
        if account is None:
            query.unknown_actor = True
        else:
            query.mentions.add(account.did)

    for term in terms:
        key, sep, value = term.partition(":")
        if term.startswith(("#", "＃")) and len(term) > 1:
            query.tags.add(term[1:].lower())
        elif sep and value and key == "from":
            actor(value)
        elif sep and value and key == "mentions":
            mention(value)
        elif sep and value and key == "lang":
            query.langs.add(value.lower())
        elif sep and value and key == "domain":
            query.domains.add(value.lower())
        elif sep and value and key in ("since", "until"):
            setattr(query, key, _when(value, key))
        elif term != "*":
            query.words.append(term.lower())
    query.tags.update(tag.lower().lstrip("#＃") for tag in tags or [] if tag)
    if author:
        actor(author)
    if mentions:
        mention(mentions)
    if lang:
        query.langs.add(lang.lower())
    if domain:
        query.domains.add(domain.lower())
    if since:
        query.since = _when(since, "since")
    if until:
        query.until = _when(until, "until")
    return query


def matches(query: Query, post: StoredRecord) -> bool:
    value = post.value
    if query.authors and post.did not in query.authors:
        return False
    # Production matches tags case-insensitively against tag facets (and #tags in text).
    if query.tags and not query.tags <= post.tags:
        return False
    if query.mentions and not query.mentions <= record_mentions(value):
        return False
    if query.langs and not query.langs & {str(lang).lower() for lang in value.get("langs") or []}:
        return False
    text = str(value.get("text", "")).lower()
    if any(word not in text for word in query.words):
        return False
    if query.domains and not any(domain in text for domain in query.domains):
        return False
    sort_at = post.sort_at
    if query.since and sort_at < query.since:  # since is inclusive
        return False
    return not (query.until and sort_at >= query.until)  # until is exclusive


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _latest_key(post: StoredRecord) -> tuple[int, str]:
    # The reference AppView's keyset: sortAt in milliseconds, then the CID.
    return (post.sort_at - _EPOCH) // timedelta(milliseconds=1), post.cid


def _engagement(store: BlueskyStore, post: StoredRecord) -> int:
    return sum(
        len(store.referrers(post.uri, kind)) for kind in ("like", "repost", "reply", "quote")
    )


def search_posts(
    store: BlueskyStore,
    query: Query,
    *,
    sort: str = "latest",
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``{posts, cursor?, hitsTotal}``; the ``latest`` cursor is a position, not an offset,
    so posts arriving while a client pages never make it skip or repeat one."""
    if sort not in ("latest", "top"):
        raise SearchError(f"sort must be 'latest' or 'top', got {sort!r}")
    visible_before = store.clock.now() - store.search_lag
    hits = [
        post
        for post in ([] if query.unknown_actor else store.posts())
        if post.indexed_at <= visible_before and matches(query, post)
    ]
    # However it is paged, one query gives at most ``search_cap`` results: past them the
    # last page has no cursor, as if the results had ended.
    reachable = min(len(hits), store.search_cap)
    if sort == "top":
        hits.sort(key=lambda p: (_engagement(store, p), _latest_key(p)), reverse=True)
        try:
            offset = int(cursor) if cursor else 0
        except ValueError:
            raise SearchError(f"malformed cursor {cursor!r}") from None
        page = hits[offset : max(offset, min(offset + limit, reachable))]
        next_cursor = str(offset + limit) if offset + limit < reachable else None
    else:
        hits.sort(key=_latest_key, reverse=True)
        remaining = hits
        if cursor:
            millis, sep, cid = cursor.partition("__")
            if not sep or not millis.isdigit() or not cid or "__" in cid:
                raise SearchError("Malformed cursor")
            after = (int(millis), cid)
            remaining = [p for p in hits if _latest_key(p) < after]
        position = len(hits) - len(remaining)  # results the earlier pages gave
        page = remaining[: max(0, min(limit, reachable - position))]
        next_cursor = None
        if page and position + len(page) < reachable:
            millis_last, cid_last = _latest_key(page[-1])
            next_cursor = f"{millis_last}__{cid_last}"
    result: dict[str, Any] = {"posts": [views.post_view(store, p) for p in page]}
    if next_cursor:
        result["cursor"] = next_cursor
    result["hitsTotal"] = len(hits)
    return result


__all__ = ["Query", "SearchError", "matches", "parse_query", "search_posts"]
