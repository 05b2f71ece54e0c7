"""The Mastodon adapter on ``Mastodon.py``: idempotent posts, contexts, tag timelines."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from mastodon import Mastodon
from mastodon import errors as mx

from chatbot.errors import (
    AuthError,
    NotFoundError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UsageError,
)
from chatbot.media import MASTODON_DESCRIPTION_MAX, MASTODON_IMAGE_MAX_BYTES
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
from chatbot.platforms.keys import idempotency_key
from chatbot.platforms.mastodon_server import (
    ASYNC_REFRESH,
    RateState,
    ServerInfo,
    closed_feed,
    refresh_retry,
    server_info,
)
from chatbot.platforms.normalise import from_mastodon_status, mastodon_thread, parse_time, plain
from chatbot.text.length import MASTODON_DEFAULT_LIMIT, MASTODON_URL_LENGTH, mastodon_length
from chatbot.text.mastodon import extract_entities

log = logging.getLogger(__name__)

NETWORK = "mastodon"
VISIBILITIES = ("public", "unlisted", "private", "direct")


def _status_code(error: mx.MastodonAPIError) -> int:
    for arg in error.args[1:2]:
        if isinstance(arg, int):
            return arg
    return 0


MEDIA_WAIT_SECONDS = 30.0  # real seconds to wait for an upload's processing per try


def translate(error: Exception, *, retry_at: datetime | None = None) -> PlatformError:
    """Turn a Mastodon.py exception into one of ours (never raises).

    Mastodon localises error texts to the account's language, so only the
    status code decides the kind.
    """
    if isinstance(error, PlatformError):
        return error
    if isinstance(error, mx.MastodonRatelimitError):
        return RateLimitedError("Mastodon: rate limited", network=NETWORK, retry_at=retry_at)
    if isinstance(error, mx.MastodonNetworkError):  # includes read timeouts
        return TransientError(f"Mastodon: network error ({error})", network=NETWORK)
    if isinstance(error, mx.MastodonServerError):
        return TransientError(f"Mastodon: server error {_status_code(error)}", network=NETWORK)
    if isinstance(error, mx.MastodonNotFoundError):
        return NotFoundError("Mastodon: not found", network=NETWORK)
    if isinstance(error, mx.MastodonUnauthorizedError):
        return AuthError("Mastodon: access token refused (401)", network=NETWORK)
    if isinstance(error, mx.MastodonAPIError):
        code = _status_code(error)
        if code == 403:
            return AuthError("Mastodon: forbidden (403): check the token's scopes", network=NETWORK)
        if code == 429:
            return RateLimitedError("Mastodon: rate limited", network=NETWORK, retry_at=retry_at)
        if code >= 500:
            return TransientError(f"Mastodon: server error {code}", network=NETWORK)
        detail = error.args[3] if len(error.args) > 3 and error.args[3] else error
        return PlatformError(f"Mastodon: request refused ({code}): {detail}", network=NETWORK)
    return PlatformError(f"Mastodon: {type(error).__name__}: {error}", network=NETWORK)


class MastodonPlatform:
    """Posts as one account on a Mastodon instance (or the sandbox)."""

    network = NETWORK

    def __init__(
        self,
        url: str,
        token: Any,
        *,
        visibility: str = "public",
        timeout: float = 30.0,
        clock: Callable[[], datetime] | None = None,
    ):
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
        self.url = url.rstrip("/")
        self.visibility = visibility
        reveal = getattr(token, "reveal", None)
        # No token: an anonymous reader of a server's public timelines and threads
        # (another instance of the fediverse, where the bot has no account).
        secret = None if token is None else reveal() if callable(reveal) else str(token)
        # The session's hook keeps, per thread, what the last answer said of a refresh
        # in progress (a header Mastodon.py does not read).
        self._heard = threading.local()
        session = requests.Session()
        session.hooks["response"].append(self._hear)
        self.api = Mastodon(
            api_base_url=self.url,
            access_token=secret,
            session=session,
            ratelimit_method="throw",  # the bot has its own, bounded policy
            request_timeout=timeout,
            version_check_mode="none",
        )
        self._now = clock or (lambda: datetime.now(UTC))
        self._limits: PostLimits | None = None
        self._feed_access: dict[str, Any] | None = None  # timelines_access.hashtag_feeds
        # configuration.media_attachments: image_size_limit, description_limit
        self._media_limits: dict[str, int] = {}
        self._server: ServerInfo | None = None
        self._lock = threading.Lock()

    def _hear(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._heard.refresh = response.headers.get(ASYNC_REFRESH)

    def _refresh_after(self) -> float | None:
        """Seconds to wait before reading the last context again, if its server said so."""
        return refresh_retry(getattr(self._heard, "refresh", None))

    @contextmanager
    def _calling(self) -> Iterator[None]:
        self._heard.refresh = None
        try:
            yield
        except mx.MastodonError as error:
            raise translate(error, retry_at=self._retry_at()) from None

    def _retry_at(self) -> datetime | None:
        # Mastodon.py keeps the last X-RateLimit-Reset as local epoch seconds, corrected by
        # the server's Date header: the seconds left are right on any clock, the epoch isn't.
        left = self._reset_in()
        return self._now() + timedelta(seconds=left) if left is not None else None

    def _reset_in(self) -> float | None:
        reset = self.api.ratelimit_reset
        if reset is None:
            return None
        left = float(reset) - time.time()
        return left if left > 0 else None

    def rate_state(self) -> RateState | None:
        """The request budget the server reported on its last answer (None before any)."""
        if self.api.ratelimit_lastcall is None:
            return None
        return RateState(
            int(self.api.ratelimit_limit), int(self.api.ratelimit_remaining), self._reset_in()
        )

    # -- the server ---------------------------------------------------------
    def server(self) -> ServerInfo:
        """The server's software, version and streaming address, read once (instance, NodeInfo).

        A server that doesn't answer is "unknown" for now (handled with the care an
        unknown server needs) and asked again on the next call.
        """
        with self._lock:
            if self._server is not None:
                return self._server
            info, complete = self._read_server()
            if complete:  # a server that didn't answer is asked again next time
                self._server = info
            return info

    def _read_server(self) -> tuple[ServerInfo, bool]:
        instance: dict[str, Any] = {}
        nodeinfo: dict[str, Any] | None = None
        try:
            with self._calling(), warnings.catch_warnings():
                warnings.simplefilter("ignore", mx.MastodonDeprecationWarning)
                instance = plain(self.api.instance_v1())
        except PlatformError as error:
            log.info("Mastodon: no instance document at %s (%s)", self.url, error)
        try:
            with self._calling():
                nodeinfo = plain(self.api.instance_nodeinfo())
        except PlatformError as error:
            log.info("Mastodon: no NodeInfo at %s (%s)", self.url, error)
        info = server_info(self.url, instance, nodeinfo)
        log.info(
            "Mastodon: %s runs %s; streams at %s", self.url, info.describe(), info.streaming_url
        )
        return info, bool(instance)

    def event_stream_available(self, tag: str, timeout: float = 10.0) -> bool:
        """Whether the server-sent-event hashtag stream answers 200 (one request, closed at once).

        Mastodon.py retries a stream that won't open every few seconds, forever, so
        the bot asks once before handing a stream to it.
        """
        base = self.server().streaming_url.replace("wss://", "https://", 1)
        base = base.replace("ws://", "http://", 1)
        token = self.stream_token()
        try:
            answer = self.api.session.get(
                f"{base}/api/v1/streaming/hashtag",
                params={"tag": tag.lstrip("#")},
                headers={"Authorization": f"Bearer {token}"} if token else {},
                stream=True,
                timeout=(timeout, timeout),
            )
        except OSError as error:  # requests' errors are OSErrors
            log.info("Mastodon: event stream unreachable (%s)", error)
            return False
        with answer:
            status = int(answer.status_code)
        if status != 200:
            log.info("Mastodon: event stream answered %s; using a WebSocket", status)
        return status == 200

    def stream_token(self) -> str | None:
        """The access token, for streaming connections the bot opens itself."""
        token = self.api.access_token
        return str(token) if token else None

    # -- limits -----------------------------------------------------------
    def limits(self) -> PostLimits:
        """The instance's limits from /api/v2/instance (v1 as fallback), read once."""
        with self._lock:
            if self._limits is None:
                self._limits = self._read_limits()
            return self._limits

    def hashtag_feed_closed(self) -> str | None:
        """Why this server's hashtag timeline shows this reader nothing, from its
        ``timelines_access`` (Mastodon 4.5+), or None when it is open or doesn't say."""
        self.limits()  # reads /api/v2/instance once, the access setting with it
        logged_in = bool(self.api.access_token)
        return closed_feed(self._feed_access, logged_in=logged_in)

    def _read_limits(self) -> PostLimits:
        statuses: dict[str, Any] = {}
        try:
            with self._calling():
                info = plain(self.api.instance_v2())
            configuration = info.get("configuration") or {}
            statuses = configuration.get("statuses") or {}
            access = (configuration.get("timelines_access") or {}).get("hashtag_feeds")
            self._feed_access = dict(access) if isinstance(access, dict) else None
            media = configuration.get("media_attachments") or {}
            self._media_limits = {
                k: int(v)
                for k, v in media.items()
                if k in ("image_size_limit", "description_limit") and isinstance(v, int)
            }
        except NotFoundError:  # before Mastodon 4.0; v1 is deprecated, quietly used here
            with self._calling(), warnings.catch_warnings():
                warnings.simplefilter("ignore", mx.MastodonDeprecationWarning)
                info = plain(self.api.instance_v1())
            statuses = (info.get("configuration") or {}).get("statuses") or {}
            if not statuses and info.get("max_toot_chars"):  # Pleroma/Glitch-style key
                statuses = {"max_characters": info["max_toot_chars"]}
        maximum = statuses.get("max_characters") or MASTODON_DEFAULT_LIMIT
        per_url = statuses.get("characters_reserved_per_url") or MASTODON_URL_LENGTH
        return PostLimits(NETWORK, int(maximum), url_weight=int(per_url))

    def prepare_to_post(self) -> None:
        """Read, before the first post is due, what posting needs: the instance's limits."""
        self.limits()

    def length(self, text: str) -> int:
        """``text``'s length as this instance counts it (URLs at the instance's weight)."""
        limits = self.limits()
        length = mastodon_length(text)
        if limits.url_weight and limits.url_weight != MASTODON_URL_LENGTH:
            links = sum(1 for entity in extract_entities(text) if entity.kind == "url")
            length += (limits.url_weight - MASTODON_URL_LENGTH) * links
        return length

    def check_length(self, text: str) -> None:
        limit = self.limits().max_characters
        length = self.length(text)
        if length > limit:
            raise too_long("Mastodon", text, f"{length} characters", f"{limit} on {self.url}")

    # -- writing ----------------------------------------------------------
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
        """Post with an ``Idempotency-Key`` derived from ``key``: a retry returns the first.

        Images are uploaded first, on every try: a retry after a status landed
        leaves its new uploads unattached (harmless), and the key returns the
        status the first try made, with the first uploads.
        """
        self.check_length(text)
        media_ids = [self._upload(item) for item in media]
        with self._calling():
            status = self.api.status_post(
                text,
                in_reply_to_id=reply_to.id if reply_to is not None else None,
                visibility=self.visibility,
                language=language,
                idempotency_key=idempotency_key(key, NETWORK),
                media_ids=media_ids or None,
            )
        return self._ref(plain(status))

    def _upload(self, item: Attachment) -> str:
        """Upload one image with its description; its id once the server has processed it."""
        self.limits()  # reads the server's media limits with its other limits
        size_limit = self._media_limits.get("image_size_limit", MASTODON_IMAGE_MAX_BYTES)
        alt_limit = self._media_limits.get("description_limit", MASTODON_DESCRIPTION_MAX)
        data = item.read()
        if len(data) > size_limit:
            raise UsageError(
                f"Mastodon: the image {item.name} is {len(data):,} bytes; {self.url} takes at "
                f"most {size_limit:,}, {IMAGE_NOT_SENT}. Make it smaller and load the file again."
            )
        if len(item.alt) > alt_limit:
            raise UsageError(
                f"Mastodon: the alt text of {item.name} is {len(item.alt):,} characters; "
                f"{self.url} takes at most {alt_limit:,}, {IMAGE_NOT_SENT}. Shorten it and load "
                "the file again."
            )
        with self._calling():
            uploaded = plain(
                self.api.media_post(
                    data, mime_type=item.mime, description=item.alt, file_name=item.name
                )
            )
        # 202: still processing (url null); a status may attach it only once it is done.
        delay = 0.25
        waited = 0.0
        while uploaded.get("url") is None:
            if waited >= MEDIA_WAIT_SECONDS:
                raise TransientError(
                    f"Mastodon: {self.url} is still processing the image {item.name}; "
                    "trying again later",
                    network=NETWORK,
                )
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 4.0)
            with self._calling():
                uploaded = plain(self.api.media(uploaded["id"]))
        return str(uploaded["id"])

    def _ref(self, status: dict[str, Any]) -> RemoteRef:
        return RemoteRef(
            NETWORK, str(status["id"]), str(status.get("uri") or ""), str(status.get("url") or "")
        )

    def delete(self, ref: RemoteRef) -> None:
        """Delete a status; one that is already gone counts as deleted."""
        try:
            with self._calling():
                self.api.status_delete(ref.id)
        except NotFoundError:
            log.info("Mastodon: status %s was already deleted", ref.id)

    # -- reading ----------------------------------------------------------
    def fetch(self, ref: RemoteRef) -> NormalisedPost | None:
        try:
            with self._calling():
                return from_mastodon_status(self.api.status(ref.id))
        except NotFoundError:
            return None

    def fetch_many(self, ids: list[str]) -> dict[str, NormalisedPost]:
        """The statuses among ``ids`` (at most 40) the server still shows, by id, in one
        request (GET /api/v1/statuses?id[]=…, Mastodon 4.3+). A server without it answers
        404: :class:`NotFoundError`, and the caller asks for each status alone."""
        with self._calling():
            statuses = self.api.statuses(list(ids[:40]))
        posts = (from_mastodon_status(status) for status in statuses)
        return {post.id: post for post in posts}

    def thread(self, ref: RemoteRef) -> Thread:
        try:
            with self._calling():
                anchor = self.api.status(ref.id)
                context = self.api.status_context(ref.id)
                retry = self._refresh_after()
        except NotFoundError:
            return Thread(anchor=None, replies=[], missing=[ref.id], incomplete=True)
        return replace(mastodon_thread(anchor, context), retry_after=retry)

    def context_thread(self, post: NormalisedPost) -> Thread:
        """``post`` and its replies from one context call (the post itself is not re-read)."""
        try:
            with self._calling():
                context = self.api.status_context(post.id)
                retry = self._refresh_after()
        except NotFoundError:
            return Thread(anchor=None, replies=[], missing=[post.id], incomplete=True)
        return replace(mastodon_thread(post.raw, context), retry_after=retry)

    def tag_timeline(
        self,
        tag: str,
        *,
        min_id: str | None = None,
        max_id: str | None = None,
        limit: int = 40,
    ) -> list[NormalisedPost]:
        """One page of the tag timeline: above ``min_id`` or below ``max_id``, newest first.

        Ids are passed through as the server gave them (never made from a time). A
        404 (GoToSocial: nobody has used the tag yet) raises :class:`NotFoundError`.
        """
        bare = tag.lstrip("#")
        with self._calling():
            statuses = self.api.timeline_hashtag(
                bare, min_id=min_id, max_id=max_id, limit=max(1, min(limit, 40))
            )
        return [from_mastodon_status(s) for s in statuses]

    def resolve(self, address: str) -> NormalisedPost | None:
        """The status at ``address`` (an ActivityPub id or web address) as this server knows it,
        fetched from its origin first when it has no copy yet (search with ``resolve``: needs
        the account's token, ``read:search``). None when the server cannot get it."""
        with self._calling():
            found = self.api.search_v2(address, resolve=True, result_type="statuses")
        statuses = plain(found).get("statuses") or []
        return from_mastodon_status(statuses[0]) if statuses else None

    def account_posts(
        self, account_id: str, *, max_id: str | None = None, limit: int = 40
    ) -> list[NormalisedPost]:
        """One page of an account's own statuses (replies included), newest first."""
        with self._calling():
            statuses = self.api.account_statuses(
                account_id, max_id=max_id, limit=max(1, min(limit, 40)), exclude_reblogs=True
            )
        return [from_mastodon_status(s) for s in statuses]

    def search_hashtag(
        self,
        tag: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 40,
    ) -> Page:
        """One page of the tag timeline, newest first; ``cursor`` is the next ``max_id``."""
        bare = tag.lstrip("#")
        with self._calling():
            statuses = self.api.timeline_hashtag(bare, max_id=cursor, limit=max(1, min(limit, 40)))
        posts = [from_mastodon_status(s) for s in statuses]
        kept = [p for p in posts if _within(p, since, until)]
        next_cursor = posts[-1].id if posts else None
        oldest = posts[-1].created_at if posts else None
        if since is not None and oldest is not None and oldest < since:
            next_cursor = None  # newest-first: everything further is older still
        return Page(kept, next_cursor, seen=len(posts))

    def tag_history(self, tag: str) -> list[dict[str, Any]] | None:
        """The server's own daily counts of ``tag`` (GET /api/v1/tags/:name, Mastodon 4.0+):
        ``[{day, uses, accounts}]`` newest first, ``day`` as ``YYYY-MM-DD`` (UTC) and the
        counts as integers. None when the server keeps no such counts for it (a 404)."""
        try:
            with self._calling():
                found = plain(self.api.tag(tag.lstrip("#")))
        except NotFoundError:
            return None
        return tag_days(found.get("history"))

    def mentions(self, *, cursor: str | None = None, limit: int = 50) -> MentionPage:
        """One page of the account's mention notifications (GET /api/v1/notifications,
        ``types[]=mention``), newest first; ``cursor`` is the next ``max_id``. Needs the
        token's ``read:notifications`` (a 403 without: :class:`AuthError`)."""
        with self._calling():
            items = self.api.notifications(
                types=["mention"], max_id=cursor, limit=max(1, min(limit, 40))
            )
        rows = [row for row in plain(items) or [] if isinstance(row, dict)]
        found = [
            Mention(
                from_mastodon_status(row["status"]), "mention", parse_time(row.get("created_at"))
            )
            for row in rows
            if row.get("type") == "mention" and isinstance(row.get("status"), dict)
        ]
        last = str(rows[-1].get("id") or "") if rows else ""
        return MentionPage(found, last or None)

    def account(self) -> Identity:
        with self._calling():
            me = plain(self.api.account_verify_credentials())
        return Identity(
            NETWORK,
            str(me.get("id", "")),
            str(me.get("acct") or me.get("username") or ""),
            str(me.get("display_name") or ""),
            str(me.get("url") or ""),
        )


def tag_days(history: Any) -> list[dict[str, Any]] | None:
    """A Tag entity's ``history`` as ``[{day: "YYYY-MM-DD", uses, accounts}]`` (UTC days).

    The server sends the day as a UNIX time at midnight and the counts as strings;
    Mastodon.py turns the day into a datetime (ISO text once made plain). Days it
    can't read are left out.
    """
    if not isinstance(history, list):
        return None
    days = []
    for entry in history:
        if not isinstance(entry, dict):
            continue
        day = entry.get("day")
        try:
            if isinstance(day, datetime):
                moment: datetime | None = day if day.tzinfo else day.replace(tzinfo=UTC)
            elif str(day).isdigit():
                moment = datetime.fromtimestamp(int(str(day)), UTC)
            else:
                moment = parse_time(str(day))  # as Mastodon.py hands it on: ISO text
            uses, accounts = int(str(entry.get("uses"))), int(str(entry.get("accounts")))
        except (TypeError, ValueError, OverflowError, OSError):
            continue
        if moment is None:
            continue
        when = moment.astimezone(UTC).date().isoformat()
        days.append({"day": when, "uses": uses, "accounts": accounts})
    return days


def _within(post: NormalisedPost, since: datetime | None, until: datetime | None) -> bool:
    moment = post.created_at
    if moment is None:
        return True
    return (since is None or moment >= since) and (until is None or moment < until)


__all__ = ["MastodonPlatform", "tag_days", "translate"]
