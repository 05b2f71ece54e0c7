"""The Bluesky adapter on the ``atproto`` client: exactly-once posts, threads, tag search."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from atproto import Client, Request, Session, SessionEvent
from atproto_client import exceptions as atx
from atproto_client import models
from atproto_client.models.dot_dict import DotDict
from atproto_client.models.utils import get_or_create

from chatbot.errors import (
    AuthError,
    NotFoundError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UsageError,
)
from chatbot.media import BLUESKY_IMAGE_MAX_BYTES
from chatbot.platforms.base import (
    IMAGE_NOT_SENT,
    Attachment,
    Identity,
    Mention,
    MentionPage,
    NormalisedPost,
    Page,
    PostLimits,
    RemoteRef,
    Thread,
    too_long,
)
from chatbot.platforms.bluesky_errors import (
    CLIENT_ERRORS,
    STALE_SESSION,
    error_name,
    server_trouble,
    translate,
)
from chatbot.platforms.keys import record_key
from chatbot.platforms.normalise import (
    BLUESKY_WEB,
    bluesky_profile_url,
    bluesky_thread,
    bluesky_web_url,
    from_bluesky_post_view,
    from_bluesky_record,
    parse_time,
)
from chatbot.platforms.session import SessionCache
from chatbot.text.bluesky import build_facets
from chatbot.text.length import BLUESKY_MAX_BYTES, BLUESKY_MAX_GRAPHEMES, bluesky_length

# The notifications that are posts addressed to the bot (listNotifications' reasons).
MENTION_REASONS = ("mention", "reply")

log = logging.getLogger(__name__)
T = TypeVar("T")

NETWORK = "bluesky"
POST = "app.bsky.feed.post"
# A made-up record for prepare_to_post (never sent): any well-formed DID and CID do.
PREPARE_DID = "did:plc:preparetopost00000000000"
PREPARE_CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
THREADGATE = "app.bsky.feed.threadgate"
DEFAULT_SERVICE = "https://bsky.social"
DEFAULT_WEB = BLUESKY_WEB  # where links to posts and profiles point (bluesky_uris)
# Reply levels asked of getPostThread (lexicon: default 6, at most 1000): the official
# app's linear view asks 10; deeper chains are read again from their last post shown.
THREAD_DEPTH = 10


def has_tag(post: NormalisedPost, tag: str) -> bool:
    """True when the post carries ``tag``, in any case: as a facet, in the record's ``tags``
    (tags a client set apart from the text) or as a whole ``#tag`` in its text."""
    wanted = tag.lstrip("#").lower()
    if wanted in post.tags:
        return True
    record = post.raw.get("record") if isinstance(post.raw.get("record"), dict) else post.raw
    extra = record.get("tags") if isinstance(record, dict) else None
    if isinstance(extra, list) and any(
        isinstance(t, str) and t.lstrip("#").lower() == wanted for t in extra
    ):
        return True
    # As Bluesky's apps do: a tag starts the text or follows white space, so the
    # fragment in "https://example.org/#sm35" is not one.
    return bool(re.search(rf"(?<!\S)#{re.escape(wanted)}(?!\w)", post.text, re.IGNORECASE))


class BlueskyPlatform:
    """Posts as one account on a PDS (bsky.social, a self-hosted PDS, or the sandbox).

    ``web`` is the base of every web link the adapter gives (posts it makes or
    reads, its account's profile): ``https://bsky.app``, or the sandbox's own
    URL, which serves pages for its posts.
    """

    network = NETWORK

    def __init__(
        self,
        handle: str,
        password: Any,
        *,
        service: str = DEFAULT_SERVICE,
        web: str = DEFAULT_WEB,
        session_cache: SessionCache | None = None,
        clock: Callable[[], datetime] | None = None,
        timeout: float = 30.0,
    ):
        self.handle = handle
        self._password = password  # a credentials.Secret (or str in tests); revealed at login
        self.service = service.rstrip("/")
        self.web = web.rstrip("/")
        self.sessions = session_cache or SessionCache()
        self._now = clock or (lambda: datetime.now(UTC))
        self._timeout = timeout
        self._client: Client | None = None
        self._lock = threading.RLock()
        self._dids: dict[str, str | None] = {}
        self._session: tuple[str, str] | None = None  # (did, handle) of the live session

    # -- session ----------------------------------------------------------
    def _reveal(self) -> str:
        reveal = getattr(self._password, "reveal", None)
        return reveal() if callable(reveal) else str(self._password)

    def _on_session(self, event: SessionEvent, session: Session) -> None:
        self._session = (session.did, session.handle)
        self.sessions.save(session.export())

    def _new_client(self) -> Client:
        client = Client(base_url=self.service, request=Request(timeout=self._timeout))
        client.on_session_change(self._on_session)
        return client

    def client(self) -> Client:
        """The logged-in client, reusing a cached session before logging in afresh."""
        with self._lock:
            if self._client is not None:
                return self._client
            client = self._new_client()
            cached = self.sessions.load()
            try:
                if cached:
                    try:
                        client.login(session_string=cached, fetch_bsky_profile=False)
                        client.com.atproto.server.get_session()  # is the cached session alive?
                    except (atx.AtProtocolError, ValueError) as error:  # expired, revoked, garbled?
                        if server_trouble(error):
                            raise  # not a reason to drop the session
                        log.info("Bluesky: cached session refused; logging in again")
                        self.sessions.clear()
                        client = self._new_client()
                        cached = None
                if not cached:
                    client.login(self.handle, self._reveal(), fetch_bsky_profile=False)
            except CLIENT_ERRORS as error:
                raise translate(error) from None
            self._client = client
            return client

    @property
    def did(self) -> str:
        self.client()
        if self._session is None:
            raise AuthError("Bluesky: not logged in", network=NETWORK)
        return self._session[0]

    def _call(self, action: Callable[[Client], T]) -> T:
        """Run ``action`` with the logged-in client; translate errors.

        A token the server calls expired or invalid (its clock may run ahead of
        ours, as the accelerated sandbox's does) drops the session; the call is
        retried once after logging in again.
        """
        for attempt in (1, 2):
            client = self.client()
            try:
                return action(client)
            except CLIENT_ERRORS as error:
                stale = (
                    isinstance(error, atx.RequestErrorBase) and error_name(error) in STALE_SESSION
                )
                if not stale:
                    raise translate(error) from None
                with self._lock:
                    if self._client is client:
                        self._client = None
                        self.sessions.clear()
                if attempt == 2:
                    raise translate(error) from None
                log.info("Bluesky: the server refused our session token; logging in again")
        raise AssertionError("unreachable")

    def _query(self, nsid: str, params: dict[str, Any]) -> dict[str, Any]:
        clean = DotDict({k: v for k, v in params.items() if v is not None})
        response = self._call(lambda client: client.invoke_query(nsid, params=clean))
        content = response.content
        return content if isinstance(content, dict) else {}

    # -- writing ----------------------------------------------------------
    def limits(self) -> PostLimits:
        return PostLimits(NETWORK, BLUESKY_MAX_GRAPHEMES, max_bytes=BLUESKY_MAX_BYTES)

    def check_length(self, text: str) -> None:
        graphemes, size = bluesky_length(text)
        if graphemes > BLUESKY_MAX_GRAPHEMES:
            raise too_long("Bluesky", text, f"{graphemes} graphemes", f"{BLUESKY_MAX_GRAPHEMES}")
        if size > BLUESKY_MAX_BYTES:
            raise too_long("Bluesky", text, f"{size} UTF-8 bytes", f"{BLUESKY_MAX_BYTES} bytes")

    def resolve_handle(self, handle: str) -> str | None:
        """The DID of a handle, or None when it doesn't resolve (cached)."""
        key = handle.lower()
        if key not in self._dids:
            try:
                answer = self._query("com.atproto.identity.resolveHandle", {"handle": key})
            except (TransientError, RateLimitedError, AuthError):
                raise
            except PlatformError:  # 400 "Unable to resolve handle": leave it as text
                answer = {}
            self._dids[key] = str(answer["did"]) if answer.get("did") else None
        return self._dids[key]

    def prepare_to_post(self) -> None:
        """Build, before the first post is due, what atproto builds on its first post.

        atproto checks a post against pydantic models (the post, its embeds, the
        create-record call and its answer) that it makes the first time they are
        used: about 0.15 s of CPU, which made each process's first post on Bluesky
        the latest of its instant. Nothing is sent.
        """
        record = {"$type": POST, "text": "", "createdAt": "2000-01-01T00:00:00.000Z"}
        data = {"repo": PREPARE_DID, "collection": POST, "rkey": "prepare", "record": record}
        answer = {"uri": f"at://{PREPARE_DID}/{POST}/prepare", "cid": PREPARE_CID}
        try:
            get_or_create(data, models.ComAtprotoRepoCreateRecord.Data)
            models.ComAtprotoRepoCreateRecord.Response.model_validate(answer)
        except Exception as error:  # only a head start: the first post builds them anyway
            log.info("Bluesky: could not prepare the post models ahead (%s)", error)

    def build_record(
        self,
        text: str,
        *,
        reply_to: RemoteRef | None = None,
        root: RemoteRef | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": self._now()
            .astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        facets = build_facets(text, self.resolve_handle)
        if facets:
            record["facets"] = facets
        if language:
            record["langs"] = [language]
        if reply_to is not None:
            top = root or reply_to
            for ref in (reply_to, top):
                if not ref.cid:
                    raise PlatformError(
                        f"Bluesky: reply target {ref.uri} has no CID", network=NETWORK
                    )
            record["reply"] = {
                "root": {"uri": top.uri, "cid": top.cid},
                "parent": {"uri": reply_to.uri, "cid": reply_to.cid},
            }
        return record

    def post(
        self,
        text: str,
        *,
        key: str,
        reply_to: RemoteRef | None = None,
        root: RemoteRef | None = None,
        language: str | None = None,
        media: Sequence[Attachment] = (),
    ) -> RemoteRef:
        """Create the post under a record key derived from ``key``; a retry finds it.

        Images are uploaded first, on every try (an upload no record refers to
        is harmless: the PDS drops it), then embedded with their alt text.
        """
        self.check_length(text)
        rkey = record_key(key, NETWORK)
        record = self.build_record(text, reply_to=reply_to, root=root, language=language)
        if media:
            record["embed"] = self._images_embed(media)
        data = {"repo": self.did, "collection": POST, "rkey": rkey, "record": record}
        try:
            created = self._call(lambda client: client.com.atproto.repo.create_record(data=data))
        except PlatformError:
            # The reference PDS answers a duplicate rkey with 500, and a create may have
            # landed before the connection dropped: the record itself is the truth.
            existing = self._existing(rkey)
            if existing is not None:
                log.info("Bluesky: post %s already exists; counting it as posted", rkey)
                return existing
            raise
        return self._ref(created.uri, created.cid)

    def _images_embed(self, media: Sequence[Attachment]) -> dict[str, Any]:
        """``app.bsky.embed.images``: each image uploaded as a blob, with alt and aspect ratio."""
        images = []
        for item in media:
            data = item.read()
            if len(data) > BLUESKY_IMAGE_MAX_BYTES:
                raise UsageError(
                    f"Bluesky: the image {item.name} is {len(data):,} bytes; Bluesky takes at "
                    f"most {BLUESKY_IMAGE_MAX_BYTES:,}, {IMAGE_NOT_SENT}. Make it smaller and "
                    "load the file again."
                )
            uploaded = self._call(partial(_upload_blob, data=data))
            images.append(
                {
                    "$type": "app.bsky.embed.images#image",
                    "alt": item.alt,
                    "image": uploaded.blob.model_dump(by_alias=True, exclude_none=True),
                    "aspectRatio": {"width": item.width, "height": item.height},
                }
            )
        return {"$type": "app.bsky.embed.images", "images": images}

    def _existing(self, rkey: str) -> RemoteRef | None:
        try:
            found = self._query(
                "com.atproto.repo.getRecord", {"repo": self.did, "collection": POST, "rkey": rkey}
            )
        except NotFoundError:
            return None
        except PlatformError:
            return None  # can't tell; the caller reports the original error
        uri, cid = found.get("uri"), found.get("cid")
        return self._ref(str(uri), str(cid or "")) if uri else None

    def _ref(self, uri: str, cid: str) -> RemoteRef:
        rkey = uri.rsplit("/", 1)[-1]
        return RemoteRef(NETWORK, rkey, uri, bluesky_web_url(uri, self.handle, web=self.web), cid)

    def delete(self, ref: RemoteRef) -> None:
        data = {"repo": self.did, "collection": POST, "rkey": ref.id}
        self._call(lambda client: client.com.atproto.repo.delete_record(data))

    # -- reading ----------------------------------------------------------
    def fetch(self, ref: RemoteRef) -> NormalisedPost | None:
        answer = self._query("app.bsky.feed.getPosts", {"uris": [ref.uri]})
        posts = answer.get("posts") or []
        return from_bluesky_post_view(posts[0], web=self.web) if posts else None

    def fetch_many(self, uris: list[str]) -> dict[str, NormalisedPost]:
        """The posts among ``uris`` (at most 25) that still exist, by URI (one getPosts call)."""
        answer = self._query("app.bsky.feed.getPosts", {"uris": list(uris[:25])})
        views = [v for v in answer.get("posts") or [] if isinstance(v, dict)]
        posts = (from_bluesky_post_view(view, web=self.web) for view in views)
        return {post.uri: post for post in posts}

    def profiles(self, actors: list[str]) -> list[dict[str, Any]]:
        """Full profile views (bio, labels, follower count) of up to 25 DIDs or handles."""
        answer = self._query("app.bsky.actor.getProfiles", {"actors": list(actors[:25])})
        return [p for p in answer.get("profiles") or [] if isinstance(p, dict)]

    def hide_reply(self, root: RemoteRef, uri: str) -> None:
        """Add ``uri`` to the threadgate ``hiddenReplies`` of our own post ``root``."""
        rkey = root.uri.rsplit("/", 1)[-1]
        params = {"repo": self.did, "collection": THREADGATE, "rkey": rkey}
        try:
            gate = dict(self._query("com.atproto.repo.getRecord", params).get("value") or {})
        except NotFoundError:  # no threadgate yet
            gate = {"$type": THREADGATE, "post": root.uri, "createdAt": _iso(self._now())}
        hidden = list(gate.get("hiddenReplies") or [])
        if uri not in hidden:
            gate["hiddenReplies"] = [*hidden, uri][-300:]
            data = {**params, "record": gate}
            self._call(lambda client: client.com.atproto.repo.put_record(data=data))

    def thread(self, ref: RemoteRef) -> Thread:
        try:
            answer = self._query(
                "app.bsky.feed.getPostThread",
                {"uri": ref.uri, "depth": THREAD_DEPTH, "parentHeight": 0},
            )
        except NotFoundError:
            return Thread(anchor=None, replies=[], missing=[ref.uri], incomplete=True)
        return bluesky_thread(answer, web=self.web)

    def search_hashtag(
        self,
        tag: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page:
        """One page of ``#tag`` posts, newest first; tag and window checked here too."""
        bare = tag.lstrip("#")
        answer = self._query(
            "app.bsky.feed.searchPosts",
            {
                "q": f"#{bare}",
                "tag": [bare],
                "sort": "latest",
                "since": _iso(since),
                "until": _iso(until),
                "limit": max(1, min(limit, 100)),
                "cursor": cursor,
            },
        )
        views = answer.get("posts") or []
        posts = [from_bluesky_post_view(v, web=self.web) for v in views if isinstance(v, dict)]
        kept = [p for p in posts if has_tag(p, bare) and _within(p, since, until)]
        next_cursor = answer.get("cursor") or None
        if not views or (since and posts and all(_before(p, since) for p in posts)):
            next_cursor = None  # past the window (some AppViews ignore `since`)
        total = answer.get("hitsTotal")
        return Page(
            kept,
            str(next_cursor) if next_cursor else None,
            seen=len(views),
            total=total if isinstance(total, int) else None,
        )

    def mentions(self, *, cursor: str | None = None, limit: int = 50) -> MentionPage:
        """One page of ``app.bsky.notification.listNotifications``: mentions and replies.

        ``reasons`` asks the AppView for those two only; the answer is filtered
        again, for servers that ignore it.
        """
        answer = self._query(
            "app.bsky.notification.listNotifications",
            {"limit": max(1, min(limit, 100)), "cursor": cursor, "reasons": list(MENTION_REASONS)},
        )
        found: list[Mention] = []
        for item in answer.get("notifications") or []:
            if not isinstance(item, dict) or item.get("reason") not in MENTION_REASONS:
                continue
            record = item.get("record")
            if not isinstance(record, dict) or not item.get("uri"):
                continue
            post = from_bluesky_record(
                str(item["uri"]), str(item.get("cid") or ""), record,
                author=item.get("author") if isinstance(item.get("author"), dict) else None,
                web=self.web,
            )  # fmt: skip
            found.append(Mention(post, str(item["reason"]), parse_time(item.get("indexedAt"))))
        next_cursor = answer.get("cursor")
        return MentionPage(found, str(next_cursor) if next_cursor and found else None)

    def account(self) -> Identity:
        did = self.did
        handle = self._session[1] if self._session else self.handle
        name = ""
        try:
            profile = self._query("app.bsky.actor.getProfile", {"actor": did})
            name = str(profile.get("displayName") or "")
        except NotFoundError:
            pass
        return Identity(NETWORK, did, handle, name, bluesky_profile_url(handle, web=self.web))


def _upload_blob(client: Client, data: bytes) -> Any:
    return client.upload_blob(data)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(post: NormalisedPost) -> datetime | None:
    return post.created_at or parse_time(post.raw.get("indexedAt"))


def _before(post: NormalisedPost, since: datetime) -> bool:
    moment = _time(post)
    return moment is not None and moment < since


def _within(post: NormalisedPost, since: datetime | None, until: datetime | None) -> bool:
    moment = _time(post)
    if moment is None:
        return True
    return (since is None or moment >= since) and (until is None or moment < until)


__all__ = ["DEFAULT_SERVICE", "DEFAULT_WEB", "BlueskyPlatform", "has_tag", "translate"]
