"""The shared core of the normalisers: reading times and fields, building a NormalisedPost.

What both networks' converters use: timestamps as aware UTC datetimes, JSON-ready
copies of client values, string coercion, bio opt-out flags, and a fast
``NormalisedPost`` constructor (plus the tombstone of a deleted post).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from chatbot.platforms.base import NormalisedPost

_BIO_OPT_OUT = re.compile(r"(?<![\w#])#(nobot|noindex)\b", re.IGNORECASE)


_FRACTION_TAIL = re.compile(r"(\.\d{6})\d+")


def parse_time(value: Any) -> datetime | None:
    """A timestamp from either network as an aware UTC datetime (None if absent/unreadable)."""
    if isinstance(value, str):
        try:
            # The usual case, straight away: Python 3.11 reads "…Z" and cuts
            # fractions past 6 digits itself, as the fallback below would.
            moment = datetime.fromisoformat(value)
        except ValueError:
            loose = _parse_loose(value)
            if loose is None:
                return None
            moment = loose
    elif isinstance(value, datetime):
        moment = value
    else:
        return None
    zone = moment.tzinfo
    if zone is UTC:
        return moment
    if zone is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_loose(value: str) -> datetime | None:
    """What ``fromisoformat`` refuses: spaces around, a lower-case "z"."""
    text = value.strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # atproto allows more than 6 fractional digits.
    text = _FRACTION_TAIL.sub(r"\1", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def plain(value: Any) -> Any:
    """JSON-ready copy of a client's return value (Mastodon.py entities, datetimes, ids)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        moment = parse_time(value)
        assert moment is not None
        return moment.isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        return str(value)  # drops str subclasses such as Mastodon.py's id type
    if hasattr(value, "model_dump"):  # atproto's pydantic models
        return plain(value.model_dump(by_alias=True, exclude_none=True))
    return value


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _opt_s(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _bio_flags(bio: str) -> set[str]:
    flags = set()
    for word in _BIO_OPT_OUT.findall(bio or ""):
        flags.add("nobot" if word.lower() == "nobot" else "noindex-bio")
    return flags


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


_set_attribute = object.__setattr__
_FIELDS = tuple(NormalisedPost.__dataclass_fields__)


def _new_post(**values: Any) -> NormalisedPost:
    """``NormalisedPost(**values)`` without the frozen dataclass's per-field ``__setattr__``.

    A frozen dataclass sets each of its 25 fields through
    ``object.__setattr__``, which cost as much as the rest of normalising a
    post. ``values`` must name every field: what ``__init__`` would store is
    stored as is. Falls back to the constructor if the class ever gains
    slots or a ``__post_init__``.
    """
    if not _PLAIN_FIELDS or len(values) != len(_FIELDS):
        return NormalisedPost(**values)
    post = object.__new__(NormalisedPost)
    _set_attribute(post, "__dict__", values)  # the instance keeps ``values`` as its namespace
    return post


_PLAIN_FIELDS = (
    not hasattr(NormalisedPost, "__slots__")
    and not hasattr(NormalisedPost, "__post_init__")
    and all(field.init for field in NormalisedPost.__dataclass_fields__.values())
)


def tombstone(
    network: str, uri: str, id: str, *, author_id: str = "", raw: Mapping[str, Any] | None = None
) -> NormalisedPost:
    """A post known only to be deleted."""
    return NormalisedPost(
        network=network,
        uri=uri,
        id=id,
        url="",
        cid="",
        author_id=author_id,
        author_handle="",
        author_display_name="",
        author_followers=None,
        author_flags=frozenset(),
        created_at=None,
        edited_at=None,
        text="",
        html="",
        links=(),
        tags=(),
        mentions=(),
        parent_uri=None,
        root_uri=None,
        quote_uri=None,
        visibility="",
        lang=None,
        raw=dict(raw or {}),
        deleted=True,
    )


__all__ = ["parse_time", "plain", "tombstone"]
