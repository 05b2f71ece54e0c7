"""JSON shapes of Mastodon 4.6 entities (Status, Account, Instance), as in the real recordings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from chatbot.sandbox.mastodon.media import MediaBook, media_json
from chatbot.sandbox.mastodon.profile import MASTODON, ServerProfile
from chatbot.sandbox.mastodon.reactions import Reactions
from chatbot.sandbox.mastodon.records import Account, Status
from chatbot.sandbox.mastodon.render import CHARACTERS_RESERVED_PER_URL, render_html

JSON = dict[str, Any]
MASTODON_VERSION = MASTODON.version  # the version the recordings were made against
API_VERSION = 11
# The sandbox takes no uploads, but clients read this list to decide what they may send.
MIME_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]


class StoreView(Protocol):
    """What rendering needs from the store."""

    base_url: str
    max_characters: int
    profile: ServerProfile
    hashtag_feeds: dict[str, str]
    media: MediaBook
    reactions: Reactions

    def now(self) -> datetime: ...
    def account(self, account_id: str) -> Account | None: ...
    def status(self, status_id: str) -> Status | None: ...
    def lookup_account(self, acct: str) -> Account | None: ...
    def replies_count(self, status_id: str) -> int: ...
    def quotes_count(self, status_id: str) -> int: ...
    def statuses_count(self, account_id: str) -> tuple[int, datetime | None]: ...


def iso(moment: datetime | None) -> str | None:
    """Mastodon's timestamps: UTC with milliseconds and a Z."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def account_urls(base_url: str, account: Account) -> tuple[str, str]:
    """An account's web address and ActivityPub id: its home server's, for a remote one."""
    if account.remote_url and account.remote_uri:
        return account.remote_url, account.remote_uri
    return f"{base_url}/@{account.username}", f"{base_url}/ap/users/{account.id}"


def _mention_resolver(store: StoreView) -> Callable[[str], tuple[str, str] | None]:
    def resolve(acct: str) -> tuple[str, str] | None:
        found = store.lookup_account(acct)
        return (account_urls(store.base_url, found)[0], found.username) if found else None

    return resolve


def status_addresses(store: StoreView, status: Status) -> tuple[str, str]:
    """A status's ActivityPub id and web address: a remote copy keeps its origin's."""
    if status.uri and status.url:
        return status.uri, status.url
    author = store.account(status.account_id)
    assert author is not None, f"status {status.id} has no author"
    author_url, author_uri = account_urls(store.base_url, author)
    return f"{author_uri}/statuses/{status.id}", f"{author_url}/{status.id}"


def content_html(store: StoreView, status: Status) -> str:
    """A status's HTML: a remote copy's as its origin rendered it, else rendered here."""
    if status.content is not None:
        return status.content
    return render_html(
        status.text, base_url=store.base_url, resolve_mention=_mention_resolver(store)
    )


def account_json(store: StoreView, account: Account, *, with_source: bool = False) -> JSON:
    base = store.base_url
    url, uri = account_urls(base, account)
    count, last = store.statuses_count(account.id)
    # Mastodon reports an account's creation day, not its moment.
    created = account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
    note = render_html(account.note, base_url=base, resolve_mention=_mention_resolver(store))
    data: JSON = {
        "id": account.id,
        "username": account.username,
        "acct": account.acct,
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "group": False,
        "created_at": iso(created),
        "note": note,
        "url": url,
        "uri": uri,
        "avatar": f"{base}/avatars/original/missing.png",
        "avatar_static": f"{base}/avatars/original/missing.png",
        "avatar_description": "",
        "header": f"{base}/headers/original/missing.png",
        "header_static": f"{base}/headers/original/missing.png",
        "header_description": "",
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": count,
        "last_status_at": last.strftime("%Y-%m-%d") if last else None,
        "hide_collections": None,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "noindex": account.noindex,
        "feature_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
    }
    if with_source:
        data["source"] = {
            "privacy": account.default_visibility,
            "sensitive": False,
            "language": account.language,
            "note": account.note,
            "fields": [],
            "follow_requests_count": 0,
            "hide_collections": None,
            "discoverable": account.discoverable,
            "indexable": account.indexable,
            "attribution_domains": [],
            "quote_policy": "public",
        }
    data |= {"emojis": [], "roles": [], "fields": []}
    if with_source:
        data["role"] = {
            "id": "-99",
            "name": "",
            "permissions": "0",
            "color": "",
            "highlighted": False,
            "collection_limit": 10,
        }
    return data


def status_json(
    store: StoreView,
    status: Status,
    *,
    viewer_id: str | None,
    deleted: bool = False,
    nested: bool = False,
) -> JSON:
    """A Status as ``viewer_id`` (None: anonymous) sees it; ``deleted``: the delete answer."""
    base = store.base_url
    author = store.account(status.account_id)
    assert author is not None, f"status {status.id} has no author"
    own = viewer_id == status.account_id
    uri, url = status_addresses(store, status)
    data: JSON = {
        "id": status.id,
        "created_at": iso(status.created_at),
        "in_reply_to_id": status.in_reply_to_id,
        "in_reply_to_account_id": status.in_reply_to_account_id,
        "sensitive": status.sensitive,
        "spoiler_text": status.spoiler_text,
        "visibility": status.visibility,
        "language": status.language,
        "uri": uri,
        "url": url,
        "replies_count": store.replies_count(status.id),
        "reblogs_count": store.reactions.count("reblog", status.id),
        "favourites_count": store.reactions.count("favourite", status.id),
        "quotes_count": store.quotes_count(status.id),
        "edited_at": iso(status.edited_at),
    }
    if viewer_id is not None:
        data |= {
            "favourited": store.reactions.did("favourite", status.id, viewer_id),
            "reblogged": store.reactions.did("reblog", status.id, viewer_id),
            "muted": False,
            "bookmarked": False,
        }
        if own and status.visibility in ("public", "unlisted"):
            data["pinned"] = False
    if deleted:
        data["text"] = status.text  # for delete-and-redraft, instead of content
    else:
        data["content"] = content_html(store, status)
    if viewer_id is not None:
        data["filtered"] = []
    data["reblog"] = None
    if status.application is not None:
        data["application"] = dict(status.application)
    data["account"] = account_json(store, author)
    now = store.now()
    data["media_attachments"] = [media_json(base, m, now) for m in store.media.of_status(status.id)]
    data["mentions"] = _mentions(store, status)
    data["tags"] = [
        {"name": name, "url": f"{base}/tags/{quote(name, safe='')}"} for name in status.tags
    ]
    data |= {"emojis": [], "tagged_collections": []}
    data["quote"] = _quote(store, status, viewer_id, nested)
    data |= {"card": None, "poll": None}
    shareable = status.visibility in ("public", "unlisted")
    data["quote_approval"] = {
        "automatic": ["public"] if shareable else [],
        "manual": [],
        "current_user": "automatic" if shareable else "denied",
    }
    return data


def _mentions(store: StoreView, status: Status) -> list[JSON]:
    result = []
    for account_id in status.mention_ids:
        account = store.account(account_id)
        if account is not None:
            url = account_urls(store.base_url, account)[0]
            result.append(
                {
                    "id": account.id,
                    "username": account.username,
                    "url": url,
                    "acct": account.acct,
                }
            )
    return result


def _quote(store: StoreView, status: Status, viewer_id: str | None, nested: bool) -> JSON | None:
    if status.quote_id is None:
        return None
    quoted = store.status(status.quote_id)
    if quoted is None or quoted.deleted:
        return {"state": "deleted", "quoted_status": None}
    if nested:
        # Mastodon shows a quote inside a quote only by id (a "shallow quote").
        return {"state": "accepted", "quoted_status_id": quoted.id}
    inner = status_json(store, quoted, viewer_id=viewer_id, nested=True)
    return {"state": "accepted", "quoted_status": inner}


def _configuration(store: StoreView) -> JSON:
    return {
        "statuses": {
            "max_characters": store.max_characters,
            "max_media_attachments": 4,
            "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL,
        },
        "polls": {
            "max_options": 4,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2629746,
        },
    }


def streaming_url(base_url: str, *, always_wss: bool = False) -> str:
    """The streaming server is this same server; Mastodon advertises it as ws(s)://.

    GoToSocial always advertises wss://, even on a server reached over plain http.
    """
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" or always_wss else "ws"
    return f"{scheme}://{parts.netloc}"


def _streaming(store: StoreView) -> str:
    return streaming_url(store.base_url, always_wss=store.profile.always_wss)


def instance_v1(
    store: StoreView, *, user_count: int, status_count: int, domain_count: int = 0
) -> JSON:
    base = store.base_url
    config = _configuration(store)
    return {
        "uri": urlsplit(base).netloc,
        "title": "chatbot sandbox",
        "short_description": "A local Mastodon-compatible server for tests and demos.",
        "description": "",
        "email": "",
        "version": store.profile.version,
        "urls": {"streaming_api": _streaming(store)},
        "stats": {
            "user_count": user_count,
            "status_count": status_count,
            "domain_count": domain_count,
        },
        "thumbnail": f"{base}/packs/images/preview.png",
        "languages": ["en"],
        "registrations": True,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": 10},
            "statuses": config["statuses"],
            "media_attachments": {
                "supported_mime_types": MIME_TYPES,
                "image_size_limit": store.media.image_size_limit,
                "image_matrix_limit": 33177600,
                "video_size_limit": 103809024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
            },
            "polls": config["polls"],
        },
        "contact_account": None,
        "rules": [],
    }


def instance_v2(store: StoreView) -> JSON:
    base = store.base_url
    config = _configuration(store)
    public = {"local": "public", "remote": "public"}
    return {
        "domain": urlsplit(base).netloc,
        "title": "chatbot sandbox",
        "version": store.profile.version,
        "source_url": store.profile.source_url,
        "description": "A local Mastodon-compatible server for tests and demos.",
        "usage": {"users": {"active_month": 0}},
        "thumbnail": {"url": f"{base}/packs/images/preview.png", "description": ""},
        "icon": [{"src": f"{base}/packs/icons/android-chrome-36x36.png", "size": "36x36"}],
        "languages": ["en"],
        "configuration": {
            "urls": {
                "streaming": _streaming(store),
                "status": None,
                "about": f"{base}/about",
                "privacy_policy": f"{base}/privacy-policy",
                "terms_of_service": None,
            },
            "vapid": {"public_key": ""},
            "accounts": {
                "max_display_name_length": 40,
                "max_note_length": 500,
                "max_avatar_description_length": 150,
                "max_header_description_length": 150,
                "max_featured_tags": 10,
                "max_pinned_statuses": 5,
                "max_profile_fields": 4,
                "profile_field_name_limit": 255,
                "profile_field_value_limit": 255,
            },
            "statuses": config["statuses"],
            "media_attachments": {
                "description_limit": store.media.description_limit,
                "image_matrix_limit": 33177600,
                "image_size_limit": store.media.image_size_limit,
                "supported_mime_types": MIME_TYPES,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
                "video_size_limit": 103809024,
            },
            "polls": config["polls"],
            "translation": {"enabled": False},
            "timelines_access": {
                "live_feeds": public,
                "hashtag_feeds": dict(store.hashtag_feeds),
                "trending_link_feeds": dict(public),
            },
            "limited_federation": False,
        },
        "registrations": {
            "enabled": True,
            "approval_required": False,
            "reason_required": False,
            "message": None,
            "min_age": None,
            "url": None,
        },
        "api_versions": {"mastodon": API_VERSION},
        "wrapstodon": None,
        "contact": {"email": "", "account": None},
        "rules": [],
    }


__all__ = [
    "MASTODON_VERSION",
    "StoreView",
    "account_json",
    "instance_v1",
    "instance_v2",
    "iso",
    "status_json",
    "streaming_url",
]
