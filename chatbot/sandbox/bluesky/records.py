"""Checks a record against its lexicon the way the PDS does before it writes it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from chatbot.sandbox.bluesky.cid import is_valid_cid
from chatbot.text.tid import is_valid_tid
from chatbot.text.unicode import grapheme_count, utf8_length

POST = "app.bsky.feed.post"
THREADGATE = "app.bsky.feed.threadgate"
PROFILE = "app.bsky.actor.profile"
LIKE = "app.bsky.feed.like"
REPOST = "app.bsky.feed.repost"
STRONG_REF = "com.atproto.repo.strongRef"
IMAGES = "app.bsky.embed.images"
MAX_IMAGES = 4
MAX_POST_GRAPHEMES = 300
MAX_POST_BYTES = 3000
# Record keys: 1-512 characters of this set, never "." or ".." (atproto record-key syntax).
_RKEY_RE = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
_NSID_RE = re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*)?)+$")
_AT_URI_RE = re.compile(r"^at://([^/]+)/([^/]+)/([^/]+)$")
# Collections whose lexicon says key "tid"; the PDS refuses any other key for them.
TID_KEYED = {POST, THREADGATE, LIKE, REPOST, "app.bsky.graph.follow", "app.bsky.feed.postgate"}


class RecordError(ValueError):
    """A record or key the PDS would refuse with 400 InvalidRequest."""


def parse_at_uri(uri: str) -> tuple[str, str, str]:
    """``(repo, collection, rkey)`` of an ``at://`` URI; RecordError otherwise."""
    match = _AT_URI_RE.match(uri or "")
    if not match:
        raise RecordError(f"Invalid at-uri: {uri!r}")
    return match.group(1), match.group(2), match.group(3)


def check_collection(collection: str) -> None:
    if not _NSID_RE.match(collection or ""):
        raise RecordError(f"Invalid collection: {collection!r} is not an NSID")


def check_rkey(collection: str, rkey: str) -> None:
    if not _RKEY_RE.match(rkey) or rkey in {".", ".."}:
        raise RecordError(f"Invalid record key: {rkey!r}")
    if collection in TID_KEYED and not is_valid_tid(rkey):
        raise RecordError(f"Invalid record key for {collection}: {rkey!r} is not a TID")
    if collection == PROFILE and rkey != "self":
        raise RecordError(f"Invalid record key for {collection}: must be 'self'")


def _datetime(record: dict[str, Any], key: str, prefix: str) -> None:
    value = record.get(key)
    if value is None:
        raise RecordError(f'{prefix}: Record must have the property "{key}"')
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"{prefix}: Record/{key} must be an valid atproto datetime") from None
    if parsed.tzinfo is None:
        raise RecordError(f"{prefix}: Record/{key} must have a timezone")


def _strong_ref(value: Any, path: str, prefix: str) -> None:
    if not isinstance(value, dict):
        raise RecordError(f"{prefix}: {path} must be an object")
    try:
        parse_at_uri(str(value.get("uri", "")))
    except RecordError:
        raise RecordError(f"{prefix}: {path}/uri must be a valid at-uri") from None
    if not is_valid_cid(value.get("cid")):
        raise RecordError(f"{prefix}: {path}/cid must be a cid string")


def _blob(value: Any, path: str, prefix: str) -> None:
    link = (value.get("ref") or {}).get("$link") if isinstance(value, dict) else None
    if not isinstance(value, dict) or value.get("$type") != "blob" or not is_valid_cid(link):
        raise RecordError(f"{prefix}: {path} should be a blob ref")
    if not isinstance(value.get("mimeType"), str) or not isinstance(value.get("size"), int):
        raise RecordError(f"{prefix}: {path} should be a blob ref")


def _check_images(embed: dict[str, Any], prefix: str) -> None:
    # app.bsky.embed.images: 1-4 images, each a blob with its alt text (maybe empty).
    images = embed.get("images")
    where = "Record/embed/images"
    if not isinstance(images, list):
        raise RecordError(f'{prefix}: Record/embed must have the property "images"')
    if len(images) > MAX_IMAGES:
        raise RecordError(f"{prefix}: {where} must not have more than {MAX_IMAGES} elements")
    for index, image in enumerate(images):
        path = f"{where}/{index}"
        if not isinstance(image, dict):
            raise RecordError(f"{prefix}: {path} must be an object")
        for name in ("image", "alt"):
            if name not in image:
                raise RecordError(f'{prefix}: {path} must have the property "{name}"')
        _blob(image["image"], f"{path}/image", prefix)
        if not isinstance(image["alt"], str):
            raise RecordError(f"{prefix}: {path}/alt must be a string")
        ratio = image.get("aspectRatio")
        if ratio is not None:
            sides = [ratio.get(k) if isinstance(ratio, dict) else None for k in ("width", "height")]
            if not all(isinstance(side, int) and side >= 1 for side in sides):
                raise RecordError(
                    f"{prefix}: {path}/aspectRatio must have integer width and height >= 1"
                )


def _check_post(record: dict[str, Any], prefix: str) -> None:
    text = record.get("text")
    if not isinstance(text, str):
        raise RecordError(f'{prefix}: Record must have the property "text"')
    if utf8_length(text) > MAX_POST_BYTES:
        raise RecordError(f"{prefix}: Record/text must not be longer than {MAX_POST_BYTES} bytes")
    if grapheme_count(text) > MAX_POST_GRAPHEMES:
        raise RecordError(
            f"{prefix}: Record/text must not be longer than {MAX_POST_GRAPHEMES} graphemes"
        )
    _datetime(record, "createdAt", prefix)
    reply = record.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            raise RecordError(f"{prefix}: Record/reply must be an object")
        for part in ("root", "parent"):
            _strong_ref(reply.get(part), f"Record/reply/{part}", prefix)
    for index, facet in enumerate(record.get("facets") or []):
        where = f"Record/facets/{index}"
        span = facet.get("index") if isinstance(facet, dict) else None
        if not isinstance(span, dict):
            raise RecordError(f'{prefix}: {where} must have the property "index"')
        start, end = span.get("byteStart"), span.get("byteEnd")
        if not isinstance(start, int) or not isinstance(end, int) or start < 0 or end < 0:
            raise RecordError(f"{prefix}: {where}/index must have integer byteStart/byteEnd >= 0")
        if not isinstance(facet.get("features"), list):
            raise RecordError(f'{prefix}: {where} must have the property "features"')
    embed = record.get("embed")
    if isinstance(embed, dict) and embed.get("$type") == IMAGES:
        _check_images(embed, prefix)
    langs = record.get("langs")
    if langs is not None and (not isinstance(langs, list) or len(langs) > 3):
        raise RecordError(f"{prefix}: Record/langs must not have more than 3 elements")
    tags = record.get("tags")
    if tags is not None and (not isinstance(tags, list) or len(tags) > 8):
        raise RecordError(f"{prefix}: Record/tags must not have more than 8 elements")


def _check_threadgate(record: dict[str, Any], prefix: str) -> None:
    try:
        parse_at_uri(str(record.get("post", "")))
    except RecordError:
        raise RecordError(f'{prefix}: Record must have the property "post" (an at-uri)') from None
    _datetime(record, "createdAt", prefix)
    hidden = record.get("hiddenReplies")
    if hidden is not None and (not isinstance(hidden, list) or len(hidden) > 300):
        raise RecordError(f"{prefix}: Record/hiddenReplies must not have more than 300 elements")


def check_record(collection: str, rkey: str, record: Any) -> dict[str, Any]:
    """The record with ``$type`` set, or RecordError with the PDS's kind of message."""
    check_collection(collection)
    check_rkey(collection, rkey)
    if not isinstance(record, dict):
        raise RecordError("Invalid record: must be an object")
    record_type = record.get("$type", collection)
    if record_type != collection:
        raise RecordError(f"Invalid $type: expected {collection}, got {record_type}")
    checked: dict[str, Any] = {"$type": collection, **record}
    prefix = f"Invalid {collection} record"
    if collection == POST:
        _check_post(checked, prefix)
    elif collection == THREADGATE:
        _check_threadgate(checked, prefix)
    elif collection == PROFILE:
        for key, limit in (("displayName", 64), ("description", 256)):
            value = checked.get(key)
            if value is not None and grapheme_count(str(value)) > limit:
                raise RecordError(
                    f"{prefix}: Record/{key} must not be longer than {limit} graphemes"
                )
    return checked


__all__ = [
    "LIKE",
    "POST",
    "PROFILE",
    "REPOST",
    "STRONG_REF",
    "THREADGATE",
    "RecordError",
    "check_record",
    "check_rkey",
    "parse_at_uri",
]
