"""AppView shapes: profile views, post views and thread views built from the store."""

from __future__ import annotations

from typing import Any, Protocol

from chatbot.sandbox.bluesky.model import Account, StoredRecord
from chatbot.sandbox.bluesky.records import IMAGES, POST, PROFILE, THREADGATE
from chatbot.sandbox.bluesky.times import iso


class RecordStore(Protocol):
    """What the views read of the store (the store builds views, so it is not imported here)."""

    def account(self, actor: str) -> Account | None: ...

    def get_record(self, repo: str, collection: str, rkey: str) -> StoredRecord | None: ...

    def record(self, uri: str) -> StoredRecord | None: ...

    def referrers(self, uri: str, kind: str) -> set[str]: ...

    def posts(self) -> list[StoredRecord]: ...

    def taken_down(self, did: str) -> bool: ...

    def image_url(self, preset: str, did: str, cid: str) -> str: ...


DEFS = "app.bsky.feed.defs"
MAX_THREAD_DEPTH = 1000
# Replies per post shown below the anchor's own level: the default of production's
# getPostThreadV2 ``nestedBranchingFactor`` (its lexicon), which also returns all of
# the anchor's direct replies.
THREAD_BRANCHING = 10


def quoted_uri(record: dict[str, Any]) -> str | None:
    """The URI a post quotes (plain record embed or record-with-media)."""
    embed = record.get("embed") or {}
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = embed.get("record") or {}
    if embed.get("$type") == "app.bsky.embed.record":
        uri = (embed.get("record") or {}).get("uri")
        return str(uri) if uri else None
    return None


def self_labels(store: RecordStore, did: str) -> list[dict[str, Any]]:
    """The account's self-labels as label objects, sourced from its profile record."""
    profile = store.get_record(did, PROFILE, "self")
    if profile is None:
        return []
    values = (profile.value.get("labels") or {}).get("values") or []
    return [
        {
            "src": did,
            "uri": profile.uri,
            "cid": profile.cid,
            "val": str(item.get("val")),
            "cts": iso(profile.indexed_at),
        }
        for item in values
        if isinstance(item, dict) and item.get("val")
    ]


def _profile_value(store: RecordStore, did: str) -> dict[str, Any]:
    profile = store.get_record(did, PROFILE, "self")
    return profile.value if profile else {}


def profile_basic(store: RecordStore, account: Account) -> dict[str, Any]:
    """``app.bsky.actor.defs#profileViewBasic``, the author of a post view."""
    view: dict[str, Any] = {"did": account.did, "handle": account.handle}
    display_name = _profile_value(store, account.did).get("displayName")
    if display_name:
        view["displayName"] = display_name
    view["associated"] = {"activitySubscription": {"allowSubscriptions": "followers"}}
    view["viewer"] = {"muted": False, "blockedBy": False}
    view["labels"] = self_labels(store, account.did)
    view["createdAt"] = iso(account.created_at)
    return view


def profile_detailed(store: RecordStore, account: Account) -> dict[str, Any]:
    """``app.bsky.actor.defs#profileViewDetailed``, what getProfile answers."""
    value = _profile_value(store, account.did)
    view = profile_basic(store, account)
    if value.get("description"):
        view["description"] = value["description"]
    posts = sum(1 for post in store.posts() if post.did == account.did)
    view.update(
        {
            "associated": {
                "lists": 0,
                "feedgens": 0,
                "starterPacks": 0,
                "labeler": False,
                "activitySubscription": {"allowSubscriptions": "followers"},
            },
            "indexedAt": iso(account.created_at),
            "followersCount": account.followers_count,
            "followsCount": 0,
            "postsCount": posts,
        }
    )
    return view


def _author(store: RecordStore, did: str) -> dict[str, Any]:
    account = store.account(did)
    if account is None:  # a record of an unknown repo can't exist, but stay total
        return {"did": did, "handle": "handle.invalid", "labels": [], "viewer": {}}
    return profile_basic(store, account)


def _embed_view(store: RecordStore, record: dict[str, Any], did: str = "") -> dict[str, Any] | None:
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    if kind == "app.bsky.embed.external":
        external = embed.get("external") or {}
        return {
            "$type": "app.bsky.embed.external#view",
            "external": {
                "uri": external.get("uri", ""),
                "title": external.get("title", ""),
                "description": external.get("description", ""),
            },
        }
    if kind == "app.bsky.embed.record":
        uri = quoted_uri(record) or ""
        return {"$type": "app.bsky.embed.record#view", "record": _view_record(store, uri)}
    if kind == IMAGES:
        return images_view(store, did, embed)
    return None


def images_view(store: RecordStore, did: str, embed: dict[str, Any]) -> dict[str, Any]:
    """``app.bsky.embed.images#view``: each image's thumbnail and full-size address, its alt."""
    shown = []
    for image in embed.get("images") or []:
        cid = str(image["image"]["ref"]["$link"])
        view: dict[str, Any] = {
            "thumb": store.image_url("feed_thumbnail", did, cid),
            "fullsize": store.image_url("feed_fullsize", did, cid),
            "alt": image.get("alt", ""),
        }
        ratio = image.get("aspectRatio")
        if ratio:
            view["aspectRatio"] = {"width": ratio["width"], "height": ratio["height"]}
        shown.append(view)
    return {"$type": f"{IMAGES}#view", "images": shown}


def _view_record(store: RecordStore, uri: str) -> dict[str, Any]:
    quoted = store.record(uri)
    if quoted is None or quoted.collection != POST:
        return {"$type": "app.bsky.embed.record#viewNotFound", "uri": uri, "notFound": True}
    return {
        "$type": "app.bsky.embed.record#viewRecord",
        "uri": quoted.uri,
        "cid": quoted.cid,
        "author": _author(store, quoted.did),
        "value": quoted.value,
        "labels": [],
        "likeCount": len(store.referrers(quoted.uri, "like")),
        "replyCount": len(store.referrers(quoted.uri, "reply")),
        "repostCount": len(store.referrers(quoted.uri, "repost")),
        "quoteCount": len(store.referrers(quoted.uri, "quote")),
        "indexedAt": iso(quoted.indexed_at),
        "embeds": [],
    }


def threadgate_view(store: RecordStore, post: StoredRecord) -> dict[str, Any] | None:
    """The threadgate of a root post (same repo, same record key), if it has one."""
    gate = store.get_record(post.did, THREADGATE, post.rkey)
    if gate is None:
        return None
    return {"uri": gate.uri, "cid": gate.cid, "record": gate.value, "lists": []}


def post_view(store: RecordStore, post: StoredRecord) -> dict[str, Any]:
    """``app.bsky.feed.defs#postView``."""
    view: dict[str, Any] = {
        "uri": post.uri,
        "cid": post.cid,
        "author": _author(store, post.did),
        "record": post.value,
    }
    embed = _embed_view(store, post.value, post.did)
    if embed:
        view["embed"] = embed
    view.update(
        {
            "bookmarkCount": 0,
            "replyCount": len(store.referrers(post.uri, "reply")),
            "repostCount": len(store.referrers(post.uri, "repost")),
            "likeCount": len(store.referrers(post.uri, "like")),
            "quoteCount": len(store.referrers(post.uri, "quote")),
            "indexedAt": iso(post.indexed_at),
            "viewer": {"bookmarked": False, "threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
    )
    if not post.value.get("reply"):
        gate = threadgate_view(store, post)
        if gate:
            view["threadgate"] = gate
    return view


def not_found(uri: str) -> dict[str, Any]:
    return {"$type": f"{DEFS}#notFoundPost", "uri": uri, "notFound": True}


def _replies(
    store: RecordStore, post: StoredRecord, depth: int, limit: int | None, branching: int | None
) -> list[dict[str, Any]]:
    children = [store.record(uri) for uri in store.referrers(post.uri, "reply")]
    # Newest first, as the reference AppView and the recorded production thread order
    # them. Children of a deleted post are unreachable, so its branch vanishes; so are
    # those of a taken-down account, though the parent's replyCount still counts them.
    live = sorted(
        (c for c in children if c is not None and not store.taken_down(c.did)),
        key=lambda c: (c.sort_at, c.cid),
        reverse=True,
    )
    shown = live if limit is None else live[:limit]
    return [_node(store, child, depth - 1, branching) for child in shown]


def _node(
    store: RecordStore, post: StoredRecord, depth: int, branching: int | None
) -> dict[str, Any]:
    node: dict[str, Any] = {"$type": f"{DEFS}#threadViewPost", "post": post_view(store, post)}
    if depth > 0:
        node["replies"] = _replies(store, post, depth, branching, branching)
    node["threadContext"] = {}
    return node


def _parent(store: RecordStore, post: StoredRecord, height: int) -> dict[str, Any] | None:
    parent_uri = ((post.value.get("reply") or {}).get("parent") or {}).get("uri")
    if not parent_uri or height <= 0:
        return None
    parent = store.record(str(parent_uri))
    if parent is None or parent.collection != POST or store.taken_down(parent.did):
        return not_found(str(parent_uri))
    node: dict[str, Any] = {"$type": f"{DEFS}#threadViewPost", "post": post_view(store, parent)}
    grandparent = _parent(store, parent, height - 1)
    if grandparent is not None:
        node["parent"] = grandparent
    node["threadContext"] = {}
    return node


def post_thread(
    store: RecordStore,
    uri: str,
    depth: int = 6,
    parent_height: int = 80,
    branching: int | None = None,
) -> dict[str, Any] | None:
    """The getPostThread answer, or None when the anchor doesn't exist.

    ``depth`` levels of replies below the anchor; the anchor's own replies all
    come back, each deeper level at most ``branching`` per post (None: all),
    as production's thread service bounds nested levels.
    """
    anchor = store.record(uri)
    if anchor is None or anchor.collection != POST or store.taken_down(anchor.did):
        return None
    thread: dict[str, Any] = {"$type": f"{DEFS}#threadViewPost", "post": post_view(store, anchor)}
    parent = _parent(store, anchor, parent_height)
    if parent is not None:
        thread["parent"] = parent
    if depth > 0:  # depth 0: no `replies` key at all, like every node at the depth limit
        thread["replies"] = _replies(store, anchor, depth, None, branching)
    thread["threadContext"] = {}
    result: dict[str, Any] = {"thread": thread}
    root_uri = ((anchor.value.get("reply") or {}).get("root") or {}).get("uri") or anchor.uri
    root = store.record(str(root_uri))
    gate = threadgate_view(store, root) if root is not None else None
    if gate:
        # Hidden replies stay in `replies`; like the real AppView, the gate is returned
        # beside the thread and clients hide what its hiddenReplies lists.
        result["threadgate"] = gate
    return result


__all__ = ["not_found", "post_thread", "post_view", "profile_basic", "profile_detailed"]
