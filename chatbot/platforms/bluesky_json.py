"""Bluesky JSON (records, post views, getRecord, Jetstream, threads) as NormalisedPosts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chatbot.platforms.base import AuthorProfile, NormalisedPost, Thread
from chatbot.platforms.bluesky_uris import BLUESKY_WEB, _shown, rkey_of
from chatbot.platforms.postfields import (
    _bio_flags,
    _dedupe,
    _new_post,
    _opt_s,
    _s,
    parse_time,
    tombstone,
)
from chatbot.text.bluesky import LINK, TAG
from chatbot.text.postrefs import _list, _map, bluesky_refs

_HTTP = ("http://", "https://")
_NO_FLAGS: frozenset[str] = frozenset()


def from_bluesky_record(
    uri: str,
    cid: str,
    record: Mapping[str, Any],
    *,
    author: Mapping[str, Any] | None = None,
    raw: Mapping[str, Any] | None = None,
    web: str = BLUESKY_WEB,
) -> NormalisedPost:
    """Normalise an ``app.bsky.feed.post`` record (getRecord value, Jetstream, postView).

    ``web`` is the base of the post's web link, without a trailing slash.
    """
    author = author or {}
    links: list[str] = []
    tags: list[str] = []
    for facet in _list(record.get("facets")):
        for feature in _list(_map(facet).get("features")):
            if type(feature) is not dict and not isinstance(feature, Mapping):
                continue
            kind = feature.get("$type", "")
            if kind == TAG:
                tag = feature.get("tag")
                if tag:
                    tags.append(_s(tag).lstrip("#").lower())
            elif kind == LINK:
                link = _s(feature.get("uri"))
                if link.lower().startswith(_HTTP):
                    links.append(link)
    mentions, quotes = bluesky_refs(record)
    reply = _map(record.get("reply"))
    langs = _list(record.get("langs"))
    handle = _s(author.get("handle"))
    flags = _bluesky_flags(author)
    followers = author.get("followersCount")
    # One look at the URI for the DID, the record key and the web link.
    did, rkey, url = "", uri, ""
    if uri.startswith("at://"):
        parts = uri[5:].split("/")
        did = parts[0]
        if len(parts) == 3 and parts[2]:
            rkey = parts[2]
        if did and "/app.bsky.feed.post/" in uri:
            url = f"{web}/profile/{_shown(handle, did)}/post/{rkey}"
    return _new_post(
        network="bluesky",
        uri=uri,
        id=rkey,
        url=url,
        cid=_s(cid),
        author_id=_s(author.get("did")) or did,
        author_handle=handle,
        author_display_name=_s(author.get("displayName")),
        author_followers=followers if isinstance(followers, int) else None,
        author_flags=flags,
        created_at=parse_time(record.get("createdAt")),
        edited_at=None,
        text=_s(record.get("text")),
        html="",
        links=_dedupe(links) if links else (),
        tags=_dedupe(tags) if tags else (),
        mentions=mentions,
        parent_uri=_opt_s(_map(reply.get("parent")).get("uri")) if reply else None,
        root_uri=_opt_s(_map(reply.get("root")).get("uri")) if reply else None,
        quote_uri=quotes[0] if quotes else None,
        visibility="public",
        lang=_opt_s(langs[0]) if langs else None,
        raw=dict(raw if raw is not None else record),
        parent_id=None,
        deleted=False,
        quote_uris=quotes,
    )


def _bluesky_flags(author: Mapping[str, Any]) -> frozenset[str]:
    """Consent flags of a Bluesky author or profile view: its self-labels and bio."""
    labels = author.get("labels")
    description = author.get("description")
    if not labels and not description:
        return _NO_FLAGS
    found = {
        "no-unauthenticated"
        for label in labels or ()
        if isinstance(label, Mapping) and label.get("val") == "!no-unauthenticated"
    }
    return frozenset(found | _bio_flags(_s(description)))


def bluesky_profile(view: Mapping[str, Any]) -> AuthorProfile:
    """An ``app.bsky.actor.defs#profileViewDetailed`` (getProfiles) as an author profile."""
    followers = view.get("followersCount")
    return AuthorProfile(
        network="bluesky",
        account_id=_s(view.get("did")),
        handle=_s(view.get("handle")),
        display_name=_s(view.get("displayName")),
        followers=followers if isinstance(followers, int) else None,
        flags=_bluesky_flags(view),
    )


def from_bluesky_post_view(view: Mapping[str, Any], *, web: str = BLUESKY_WEB) -> NormalisedPost:
    """Normalise a ``postView`` (searchPosts, getPosts, getPostThread)."""
    return from_bluesky_record(
        _s(view.get("uri")),
        _s(view.get("cid")),
        view.get("record") or {},
        author=view.get("author") or {},
        raw=view,
        web=web,
    )


def from_bluesky_get_record(
    response: Mapping[str, Any], *, web: str = BLUESKY_WEB
) -> NormalisedPost:
    """Normalise a ``com.atproto.repo.getRecord`` answer ``{uri, cid, value}``."""
    return from_bluesky_record(
        _s(response.get("uri")),
        _s(response.get("cid")),
        response.get("value") or {},
        raw=response,
        web=web,
    )


def from_jetstream(event: Mapping[str, Any], *, web: str = BLUESKY_WEB) -> NormalisedPost | None:
    """A post create/update, a tombstone for a delete, None for anything else."""
    commit = event.get("commit") or {}
    if event.get("kind") != "commit" or commit.get("collection") != "app.bsky.feed.post":
        return None
    did = _s(event.get("did"))
    uri = f"at://{did}/app.bsky.feed.post/{_s(commit.get('rkey'))}"
    if commit.get("operation") == "delete":
        return tombstone("bluesky", uri, rkey_of(uri), author_id=did, raw=event)
    record = commit.get("record") or {}
    post = from_bluesky_record(uri, _s(commit.get("cid")), record, raw=event, web=web)
    if commit.get("operation") == "update":
        micros = event.get("time_us")
        edited = datetime.fromtimestamp(micros / 1e6, UTC) if isinstance(micros, int) else None
        post = replace(post, edited_at=edited)
    return post


def bluesky_thread(data: Mapping[str, Any], *, web: str = BLUESKY_WEB) -> Thread:
    """Flatten a getPostThread answer (or its ``thread`` value) into anchor + all replies.

    A ``notFoundPost``/``blockedPost`` anchor gives ``anchor=None``; one in the
    replies is listed in ``missing``. A deleted reply's whole branch vanishes
    from the AppView's answer with no placeholder, so ``incomplete`` can only
    report what the network showed.
    """
    node = data.get("thread", data) if "post" not in data else data
    if isinstance(node, list):
        return _bluesky_thread_v2(node, web)
    missing: list[str] = []
    replies: list[NormalisedPost] = []
    if not _is_post_node(node):
        return Thread(anchor=None, replies=[], missing=[_s(node.get("uri"))], incomplete=True)
    anchor = from_bluesky_post_view(node["post"], web=web)
    stack = list(reversed(node.get("replies") or []))
    while stack:
        child = stack.pop()
        if not isinstance(child, Mapping):
            continue
        if _is_post_node(child):
            replies.append(from_bluesky_post_view(child["post"], web=web))
            stack.extend(reversed(child.get("replies") or []))
        else:
            missing.append(_s(child.get("uri")))
    return Thread(anchor=anchor, replies=replies, missing=missing, incomplete=bool(missing))


def _bluesky_thread_v2(items: list[Any], web: str) -> Thread:
    """``app.bsky.unspecced.getPostThreadV2``: a flat list, anchor at depth 0."""
    anchor = None
    replies: list[NormalisedPost] = []
    missing: list[str] = []
    for item in items:
        value = item.get("value") or {}
        depth = item.get("depth", 0)
        is_post = _s(value.get("$type")).endswith("#threadItemPost") and "post" in value
        if not is_post:
            if depth >= 0:
                missing.append(_s(item.get("uri")))
        elif depth == 0:
            anchor = from_bluesky_post_view(value["post"], web=web)
        elif depth > 0:
            replies.append(from_bluesky_post_view(value["post"], web=web))
    return Thread(anchor, replies, missing, incomplete=bool(missing) or anchor is None)


def _is_post_node(node: Mapping[str, Any]) -> bool:
    kind = _s(node.get("$type"))
    if kind and not kind.endswith("#threadViewPost"):
        return False
    return isinstance(node.get("post"), Mapping) and not node.get("notFound")


__all__ = [
    "bluesky_profile",
    "bluesky_thread",
    "from_bluesky_get_record",
    "from_bluesky_post_view",
    "from_bluesky_record",
    "from_jetstream",
]
