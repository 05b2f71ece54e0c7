"""Pure functions turning Bluesky and Mastodon JSON into one NormalisedPost shape."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chatbot.platforms.base import AuthorProfile, NormalisedPost, Thread
from chatbot.platforms.facets import LINK, MENTION, TAG
from chatbot.platforms.htmltext import html_links, html_to_text

BLUESKY_WEB = "https://bsky.app"  # the default web base of Bluesky links
_BIO_OPT_OUT = re.compile(r"(?<![\w#])#(nobot|noindex)\b", re.IGNORECASE)
_HTTP = ("http://", "https://")


_FRACTION_TAIL = re.compile(r"(\.\d{6})\d+")


def parse_time(value: Any) -> datetime | None:
    """A timestamp from either network as an aware UTC datetime (None if absent/unreadable)."""
    if isinstance(value, str):
        try:
            # The usual case, straight away: Python 3.11 reads "…Z" and cuts
            # fractions past 6 digits itself, as the fallback below would.
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = _parse_loose(value)
            if moment is None:
                return None
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


_NO_FLAGS: frozenset[str] = frozenset()
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


# -- Bluesky ----------------------------------------------------------------


def rkey_of(uri: str) -> str:
    """The record key at the end of an at:// URI (the URI itself if it has none)."""
    if uri.startswith("at://"):
        parts = uri[len("at://") :].split("/")
        if len(parts) == 3 and parts[2]:
            return parts[2]
    return uri


def did_of(uri: str) -> str:
    if uri.startswith("at://"):
        return uri[len("at://") :].split("/")[0]
    return ""


def bluesky_web_url(uri: str, handle: str = "", *, web: str = BLUESKY_WEB) -> str:
    """The web page of a post under ``web`` (bsky.app, or e.g. a sandbox's own URL)."""
    did = did_of(uri)
    if not did or "/app.bsky.feed.post/" not in uri:
        return ""
    return f"{bluesky_profile_url(_shown(handle, did), web=web)}/post/{rkey_of(uri)}"


def bluesky_profile_url(actor: str, *, web: str = BLUESKY_WEB) -> str:
    """The web page of an account (handle or DID) under ``web``."""
    return f"{web.rstrip('/')}/profile/{actor}"


def _shown(handle: str, did: str) -> str:
    """What a web link names an author by: the handle, or the DID when it has none."""
    return handle if handle and handle != "handle.invalid" else did


def _quote_uri(embed: Any) -> str | None:
    if not isinstance(embed, Mapping):
        return None
    kind = embed.get("$type", "")
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return _quote_uri(embed.get("record"))
    if kind.startswith("app.bsky.embed.record"):
        inner = embed.get("record")
        if isinstance(inner, Mapping):
            uri = inner.get("uri")
            if isinstance(uri, str):
                return uri
            return _quote_uri(inner)  # a view's record#view nests once more
    return None


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
    mentions: list[str] = []
    for facet in record.get("facets") or ():
        for feature in (facet or {}).get("features") or ():
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
            elif kind == MENTION and feature.get("did"):
                mentions.append(_s(feature.get("did")))
    reply = record.get("reply") or {}
    langs = record.get("langs")
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
        mentions=_dedupe(mentions) if mentions else (),
        parent_uri=_opt_s((reply.get("parent") or {}).get("uri")) if reply else None,
        root_uri=_opt_s((reply.get("root") or {}).get("uri")) if reply else None,
        quote_uri=_quote_uri(record.get("embed")),
        visibility="public",
        lang=_opt_s(langs[0]) if langs else None,
        raw=dict(raw if raw is not None else record),
        parent_id=None,
        deleted=False,
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


# -- Mastodon ---------------------------------------------------------------


def from_mastodon_status(status: Mapping[str, Any]) -> NormalisedPost:
    """Normalise a Mastodon Status (plain JSON or a Mastodon.py entity)."""
    data = plain(status)
    account = data.get("account") or {}
    flags = set()
    if account.get("noindex") is True:
        flags.add("noindex")
    if account.get("indexable") is False:
        flags.add("unindexable")
    flags |= _bio_flags(html_to_text(_s(account.get("note"))))
    content = data.get("content")
    html = _s(content)
    # A delete answers with the source `text` and no `content`.
    text = html_to_text(html) if content is not None else _s(data.get("text"))
    tags = [_s(t.get("name")).lower() for t in data.get("tags") or [] if isinstance(t, Mapping)]
    mentions = [_s(m.get("acct")) for m in data.get("mentions") or [] if isinstance(m, Mapping)]
    quote = data.get("quote") or {}
    quoted = quote.get("quoted_status") if isinstance(quote, Mapping) else None
    followers = account.get("followers_count")
    return _new_post(
        network="mastodon",
        uri=_s(data.get("uri")),
        id=_s(data.get("id")),
        url=_s(data.get("url")),
        cid="",
        author_id=_s(account.get("id")),
        author_handle=_s(account.get("acct")),
        author_display_name=_s(account.get("display_name")),
        author_followers=followers if isinstance(followers, int) else None,
        author_flags=frozenset(flags),
        created_at=parse_time(data.get("created_at")),
        edited_at=parse_time(data.get("edited_at")),
        text=text,
        html=html,
        links=_dedupe(html_links(html)),
        tags=_dedupe(tags),
        mentions=_dedupe(mentions),
        parent_uri=None,  # Mastodon gives only in_reply_to_id; thread() fills URIs it knows
        root_uri=None,
        quote_uri=_opt_s(quoted.get("uri")) if isinstance(quoted, Mapping) else None,
        visibility=_s(data.get("visibility")) or "public",
        lang=_opt_s(data.get("language")),
        raw=data,
        parent_id=_opt_s(data.get("in_reply_to_id")),
        deleted=False,
    )


def mastodon_thread(anchor: Mapping[str, Any] | None, context: Mapping[str, Any]) -> Thread:
    """Anchor + descendants of a status context, with parent/root URIs filled in."""
    data = plain(context)
    top = from_mastodon_status(anchor) if anchor is not None else None
    posts = [from_mastodon_status(s) for s in data.get("descendants") or []]
    known = {p.id: p for p in posts}
    if top is not None:
        known[top.id] = top
    root_uri = None
    ancestors = data.get("ancestors") or []
    if ancestors:
        root_uri = _opt_s(ancestors[0].get("uri"))
        if top is not None:
            top = replace(top, parent_uri=_opt_s(ancestors[-1].get("uri")), root_uri=root_uri)
    elif top is not None:
        root_uri = top.uri
    replies = []
    for post in posts:
        parent = known.get(post.parent_id or "")
        replies.append(replace(post, parent_uri=parent.uri if parent else None, root_uri=root_uri))
    incomplete = any(p.parent_id and p.parent_id not in known for p in posts)
    return Thread(anchor=top, replies=replies, incomplete=incomplete or top is None)


__all__ = [
    "BLUESKY_WEB",
    "bluesky_profile_url",
    "bluesky_thread",
    "bluesky_web_url",
    "from_bluesky_get_record",
    "from_bluesky_post_view",
    "from_bluesky_record",
    "from_jetstream",
    "from_mastodon_status",
    "mastodon_thread",
    "parse_time",
    "plain",
    "rkey_of",
    "tombstone",
]
