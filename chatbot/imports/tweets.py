"""Reading archived tweets: twarc JSONL (API v1.1 and v2) and a plain CSV, as NormalisedPosts."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from chatbot.errors import UsageError
from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.normalise import parse_time
from chatbot.text.postrefs import tweet_refs
from chatbot.text.posturls import tweet_uri

NETWORK = "twitter"
CSV_FIELDS = ("id", "author", "created_at", "text", "in_reply_to_id")
# Read when present: the tweet's language, its expanded links (space-separated) and
# the id of the tweet it quotes.
CSV_OPTIONAL = ("lang", "urls", "quoted_id")
_TAG = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)
_LINK = re.compile(r"https?://\S+")


def status_uri(tweet_id: str) -> str:
    """A tweet's URI that needs no author: Twitter redirects it to the tweet."""
    return tweet_uri(tweet_id)


def tweet(
    tweet_id: str,
    *,
    author: str,
    author_id: str = "",
    name: str = "",
    followers: int | None = None,
    created_at: datetime | None,
    text: str,
    reply_to: str | None = None,
    quote_of: str | None = None,
    tags: tuple[str, ...] | None = None,
    mentions: tuple[str, ...] | None = None,
    lang: str | None = None,
    raw: Mapping[str, Any],
    unescape: bool = True,
) -> NormalisedPost:
    """A NormalisedPost for one tweet; ids stay strings (the API escapes ``&<>`` in text)."""
    text = html.unescape(text or "") if unescape else text or ""
    found_tags = tags if tags is not None else tuple(_TAG.findall(text))
    # Mentions and quote targets as migration 5 reads them from ``raw`` too.
    found_mentions, quotes = tweet_refs(raw)
    if quote_of and status_uri(quote_of) not in quotes:
        quotes = (status_uri(quote_of), *quotes)
    return NormalisedPost(
        network=NETWORK,
        uri=status_uri(tweet_id),
        id=tweet_id,
        url=f"https://twitter.com/{author}/status/{tweet_id}" if author else status_uri(tweet_id),
        cid="",
        author_id=author_id or author,
        author_handle=author,
        author_display_name=name,
        author_followers=followers,
        author_flags=frozenset(),
        created_at=created_at,
        edited_at=None,
        text=text,
        html="",
        links=tuple(_LINK.findall(text)),
        tags=tuple(dict.fromkeys(t.lower() for t in found_tags)),
        mentions=tuple(dict.fromkeys(mentions)) if mentions is not None else found_mentions,
        parent_uri=status_uri(reply_to) if reply_to else None,
        root_uri=None,
        quote_uri=quotes[0] if quotes else None,
        visibility="public",
        lang=lang,
        raw=dict(raw),
        quote_uris=quotes,
    )


def _v1_time(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        except ValueError:
            return parse_time(value)
    return None


def from_v1(data: Mapping[str, Any]) -> NormalisedPost | None:
    """A v1.1 tweet object; None for a retweet (it repeats another post)."""
    if data.get("retweeted_status"):
        return None
    user = data.get("user") or {}
    extended = data.get("extended_tweet") or {}
    text = extended.get("full_text") or data.get("full_text") or data.get("text") or ""
    entities = extended.get("entities") or data.get("entities") or {}
    followers = user.get("followers_count")
    return tweet(
        str(data.get("id_str") or data.get("id")),
        author=str(user.get("screen_name") or ""),
        author_id=str(user.get("id_str") or user.get("id") or ""),
        name=str(user.get("name") or ""),
        followers=followers if isinstance(followers, int) else None,
        created_at=_v1_time(data.get("created_at")),
        text=text,
        reply_to=_s(data.get("in_reply_to_status_id_str") or data.get("in_reply_to_status_id")),
        quote_of=_s(data.get("quoted_status_id_str")),
        tags=tuple(str(h.get("text", "")) for h in entities.get("hashtags") or []),
        mentions=tuple(str(m.get("screen_name", "")) for m in entities.get("user_mentions") or []),
        lang=_s(data.get("lang")),
        raw=data,
    )


def from_v2(
    data: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]
) -> NormalisedPost | None:
    """A v2 tweet object with the page's ``includes.users``; None for a retweet."""
    refs = {str(r.get("type")): _s(r.get("id")) for r in data.get("referenced_tweets") or []}
    if "retweeted" in refs:
        return None
    user = users.get(str(data.get("author_id")), {})
    entities = data.get("entities") or {}
    followers = (user.get("public_metrics") or {}).get("followers_count")
    text = (data.get("note_tweet") or {}).get("text") or data.get("text") or ""
    return tweet(
        str(data.get("id")),
        author=str(user.get("username") or ""),
        author_id=str(data.get("author_id") or ""),
        name=str(user.get("name") or ""),
        followers=followers if isinstance(followers, int) else None,
        created_at=parse_time(data.get("created_at")),
        text=text,
        reply_to=refs.get("replied_to"),
        quote_of=refs.get("quoted"),
        tags=tuple(str(h.get("tag", "")) for h in entities.get("hashtags") or []),
        mentions=tuple(str(m.get("username", "")) for m in entities.get("mentions") or []),
        lang=_s(data.get("lang")),
        raw=data,
    )


def _s(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _line_posts(item: Any) -> Iterator[NormalisedPost | None]:
    if isinstance(item, list):  # a page of v1.1 tweets
        for one in item:
            yield from _line_posts(one)
        return
    if not isinstance(item, dict):
        raise ValueError("not a tweet, a list of tweets or a v2 page")
    if "data" in item:  # a v2 page (or a single-tweet response)
        includes = item.get("includes") or {}
        users = {str(u.get("id")): u for u in includes.get("users") or []}
        data = item["data"]
        for one in data if isinstance(data, list) else [data]:
            yield from_v2(one, users)
    elif "user" in item or "id_str" in item:
        yield from_v1(item)
    elif "author_id" in item:
        yield from_v2(item, {})
    elif "statuses" in item:  # a v1.1 search page
        for one in item["statuses"]:
            yield from_v1(one)
    else:
        raise ValueError("not a tweet, a list of tweets or a v2 page")


class _Tally(io.RawIOBase):
    """A file that tells ``on_bytes`` how many bytes each read took (for a progress bar)."""

    def __init__(self, inner: BinaryIO, on_bytes: Callable[[int], None]):
        self.inner, self.on_bytes = inner, on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.inner.readinto(buffer)  # type: ignore[attr-defined]
        self.on_bytes(count or 0)
        return int(count or 0)

    def close(self) -> None:
        self.inner.close()
        super().close()


def _open_text(
    path: Path, encoding: str, on_bytes: Callable[[int], None] | None
) -> io.TextIOWrapper:
    raw: BinaryIO = path.open("rb")
    if on_bytes is not None:
        raw = io.BufferedReader(_Tally(raw, on_bytes))
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def check_utf8(path: Path, name: str | None = None) -> None:
    """A :class:`UsageError` naming the line if ``path`` is not UTF-8 text.

    Read a line at a time (a newline byte is never part of a longer UTF-8
    character), so a file of any size costs one line of memory. ``name`` is
    what messages call the file (``<stdin>`` for a copy of standard input).
    """
    label = name or str(path)
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise UsageError(
                    f"{label}:{number}: not UTF-8 text (byte 0x{line[error.start]:02x}); save "
                    "the file as UTF-8 (in a spreadsheet: CSV UTF-8) and import it again"
                ) from None


def iter_twarc(
    path: Path, name: str | None = None, on_bytes: Callable[[int], None] | None = None
) -> Iterator[NormalisedPost | None]:
    """Every tweet of a twarc JSONL file, one at a time; None for each retweet (skipped).

    ``name`` is what messages call the file; ``on_bytes`` hears of each chunk read.
    """
    label = name or str(path)
    check_utf8(path, name)
    with _open_text(path, "utf-8", on_bytes) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                found = list(_line_posts(json.loads(line)))
            except (ValueError, AttributeError, TypeError) as error:
                raise UsageError(
                    f"{label}:{number}: not twarc JSON ({error}); expect one API v1.1 tweet or "
                    "one v2 page per line"
                ) from None
            yield from found


def read_twarc(path: Path) -> tuple[list[NormalisedPost], int]:
    """Every tweet of a twarc JSONL file (one tweet or one page per line); retweets skipped."""
    posts: list[NormalisedPost] = []
    retweets = 0
    for post in iter_twarc(path):
        if post is None:
            retweets += 1
        else:
            posts.append(post)
    return posts, retweets


def read_csv(path: Path) -> list[NormalisedPost]:
    """A CSV with the columns id, author, created_at, text, in_reply_to_id (ids as text).

    The optional columns of ``CSV_OPTIONAL`` are read when present.
    """
    return list(iter_csv(path))


def iter_csv(
    path: Path, name: str | None = None, on_bytes: Callable[[int], None] | None = None
) -> Iterator[NormalisedPost]:
    """The posts of a CSV (see ``read_csv``), one row at a time (``name``, ``on_bytes``: as
    for :func:`iter_twarc`)."""
    label = name or str(path)
    check_utf8(path, name)
    with _open_text(path, "utf-8-sig", on_bytes) as handle:
        reader = csv.DictReader(handle)
        try:
            yield from _csv_rows(reader, label)
        except csv.Error as error:  # a field over csv's limit, a NUL, a stray quote
            raise UsageError(
                f"{label}:{reader.line_num + 1}: not a CSV row ({error}); expected the columns "
                f"{', '.join(CSV_FIELDS)}, one post a row"
            ) from None


def _csv_rows(reader: csv.DictReader[str], label: str) -> Iterator[NormalisedPost]:
    """The posts of an open CSV reader; a bad row is a UsageError naming its line."""
    missing = [f for f in CSV_FIELDS[:4] if f not in (reader.fieldnames or [])]
    if missing:
        raise UsageError(
            f"{label}:1: the CSV lacks column(s) {', '.join(missing)}; "
            f"expected {', '.join(CSV_FIELDS)}"
        )
    for number, row in enumerate(reader, start=2):
        tweet_id = (row.get("id") or "").strip().lstrip("'").strip('="')
        if not tweet_id:
            raise UsageError(f"{label}:{number}: a row without an id")
        when = parse_time(row.get("created_at"))
        if when is None:
            raise UsageError(
                f"{label}:{number}: created_at {row.get('created_at')!r} is not an ISO time"
            )
        yield tweet(
            tweet_id,
            author=(row.get("author") or "").lstrip("@"),
            created_at=when,
            text=row.get("text") or "",
            reply_to=(row.get("in_reply_to_id") or "").strip() or None,
            lang=(row.get("lang") or "").strip() or None,
            raw=dict(row),
            unescape=False,
        )


__all__ = [
    "CSV_FIELDS",
    "CSV_OPTIONAL",
    "NETWORK",
    "from_v1",
    "from_v2",
    "iter_csv",
    "iter_twarc",
    "read_csv",
    "read_twarc",
    "status_uri",
]
