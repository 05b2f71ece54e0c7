"""Late joiners: find posts asking the bot for a question, and queue one reply each.

A periodic job of the bot (``bot.running``).  Each look, for every chat
between its welcome and its wrap-up plus the grace period (per network), it
reads:

- on Bluesky, the chat's posts the collector has already stored that mention
  the bot (their ``mentions``) or reply to its posts: no request at all;
- on both networks, the account's mention notifications (Bluesky's
  ``listNotifications``, reasons mention and reply; Mastodon's
  ``/api/v1/notifications?types[]=mention``), newest first down to what it
  saw last: a request without the hashtag is not in the collector's store,
  and on Mastodon only the bot's own server's copy of a post carries the id
  a reply needs.

Each post that asks (``bot.asking.parse_request``), is not the bot's own,
and names a question already posted on that network queues a reply with
``bot.replies.enqueue``: once per asker and question, whatever reads it
again (a restart, another process).  The posting is the service's job.
Requests spend their own small request budget (``collect.pacing``), so the
collector's and the scheduled posts' are left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from chatbot import db
from chatbot.bot.asking import parse_request, pick_question, reply_text
from chatbot.bot.chatwindows import Posted, Window, open_windows
from chatbot.bot.replies import GRACE, NewReply, enqueue, open_replies
from chatbot.clock import Clock
from chatbot.collect.pacing import OutOfBudget, Pacer
from chatbot.errors import AuthError, ChatbotError, RateLimitedError
from chatbot.models import Post, hashtag_key
from chatbot.platforms.base import MentionReader, NormalisedPost, Platform
from chatbot.platforms.mastodon_server import RateState
from chatbot.text.length import (
    BLUESKY_MAX_BYTES,
    BLUESKY_MAX_GRAPHEMES,
    bluesky_length,
    mastodon_length,
)

log = logging.getLogger(__name__)

LOOK_SECONDS = 15.0  # clock seconds between looks
MIN_REAL_SECONDS = 1.0  # and at least this many real ones (an accelerated clock runs fast)
MAX_PAGES = 5  # notification pages read per look and network
STORED_BATCH = 500  # stored posts read per look and event
# The share of each network's request limit the notification reads may use.
HEADROOM = 0.05
# The share of the server's request budget (as it reports it) kept for the chat's posts.
RESERVE = 0.25
# Requests not made in public: answering them in public would show what was said.
PRIVATE = frozenset({"private", "direct"})


@dataclass(frozen=True)
class Asked:
    """A post that may be a request, from a notification or the store."""

    uri: str
    id: str
    cid: str
    author_id: str
    author_handle: str
    text: str
    created_at: datetime | None
    parent: str | None  # parent URI (Bluesky) or in_reply_to_id (Mastodon)
    root_uri: str
    root_cid: str
    tags: tuple[str, ...]
    visibility: str = "public"


def asked_from(post: NormalisedPost) -> Asked:
    parent = post.parent_id if post.network == "mastodon" else post.parent_uri
    return Asked(
        post.uri, post.id, post.cid, post.author_id, post.author_handle, post.text,
        post.created_at, parent, post.root_uri or "", _root_cid(post.raw), post.tags,
        post.visibility or "public",
    )  # fmt: skip


def _root_cid(raw: Mapping[str, Any] | None) -> str:
    """The reply root's CID from a stored Bluesky post (a record, a post view or an event)."""
    for record in (raw, (raw or {}).get("record"), ((raw or {}).get("commit") or {}).get("record")):
        if isinstance(record, Mapping):
            root = ((record.get("reply") or {}).get("root")) or {}
            if isinstance(root, Mapping) and root.get("cid"):
                return str(root["cid"])
    return ""


@dataclass
class _Seen:
    """What one network's notifications were read down to, in this process."""

    newest: set[str] = field(default_factory=set)  # URIs on the last look's first page
    handled: set[str] = field(default_factory=set)  # requests read and decided
    posts: dict[int, int] = field(default_factory=dict)  # event -> last stored post id read


class LateJoinerJob:
    """Called every few seconds by the runner: queue replies for new requests."""

    def __init__(
        self,
        engine: Engine,
        platform_for: Callable[[str], Platform],
        clock: Clock,
        *,
        event_ids: Iterable[int] | None = None,
        say: Callable[[str], None] | None = None,
    ):
        self.engine = engine
        self.say = say  # the run's output: what the moderator must act on
        self.platform_for = platform_for
        self.clock = clock
        self.event_ids = None if event_ids is None else tuple(event_ids)
        self.pacer = Pacer(headroom=HEADROOM)
        self.queued = 0  # replies queued by this job
        self._seen: dict[str, _Seen] = {}
        self._me: dict[str, tuple[str, str]] = {}  # network -> (account id, handle)
        self._closed: set[str] = set()  # networks whose notifications can't be read
        self._last_look = -MIN_REAL_SECONDS
        self._posted: Posted = {}  # each open chat's posts, read again only when they change

    def __call__(self) -> None:
        if time.monotonic() - self._last_look < MIN_REAL_SECONDS:
            return
        self._last_look = time.monotonic()
        by_network: dict[str, list[Window]] = {}
        for window in open_windows(self.engine, self.clock.now(), self.event_ids, self._posted):
            by_network.setdefault(window.network, []).append(window)
        for network, windows in sorted(by_network.items()):
            try:
                self.look(network, windows)
            except OutOfBudget:
                pass  # the next look goes on
            except RateLimitedError as error:
                self.pacer.rate_limited(error, self.clock.now())
            except ChatbotError as error:
                log.info("late joiners on %s: %s", network, error)
                self.pacer.failed(network, self.clock.now())

    def pending(self) -> str | None:
        """With ``until_done``: the replies still to send keep the run going."""
        left = open_replies(self.engine, self.event_ids, since=self.clock.now() - GRACE)
        return (
            f"sending {left} {'reply' if left == 1 else 'replies'} to late joiners"
            if left
            else None
        )

    def look(self, network: str, windows: list[Window]) -> int:
        """Queue the replies new requests on ``network`` ask for; returns how many."""
        platform = self.platform_for(network)
        if network not in self._me:
            identity = platform.account()
            self._me[network] = (identity.id, identity.handle)
        me = self._me[network][0]
        seen = self._seen.setdefault(network, _Seen())
        queued = 0
        # The store first: its posts cost no request, and a spent budget below loses none.
        if network == "bluesky":
            for window in windows:
                queued += self._handle(self._stored(window, me, seen), me, windows, seen)
        queued += self._handle(self._notified(platform, network, windows, seen), me, windows, seen)
        return queued

    def _handle(self, found: list[Asked], me: str, windows: list[Window], seen: _Seen) -> int:
        queued = 0
        # Oldest first: a person asking twice is answered under their first request.
        for asked in sorted(found, key=lambda a: (a.created_at is None, a.created_at, a.uri)):
            if asked.uri in seen.handled or asked.author_id == me:
                continue  # read before, or the bot itself: never answered
            if asked.visibility in PRIVATE:
                continue  # a public reply would show what was said in private
            window = assign(asked, windows)
            if window is not None and self._queue(window, asked):
                queued += 1
            if window is not None and window.covers(asked.created_at):
                seen.handled.add(asked.uri)
        self.queued += queued
        return queued

    def _stored(self, window: Window, me: str, seen: _Seen) -> list[Asked]:
        after = seen.posts.get(window.event_id, 0)
        with db.session_scope(self.engine) as session:
            rows = session.exec(
                select(Post)
                .where(
                    Post.event_id == window.event_id,
                    Post.network == window.network,
                    col(Post.id) > after,
                    col(Post.deleted_at).is_(None),
                )
                .order_by(col(Post.id))
                .limit(STORED_BATCH)
            ).all()
            if rows:
                seen.posts[window.event_id] = rows[-1].id or after
            return [
                Asked(
                    row.uri,
                    row.remote_id,
                    row.cid or "",
                    row.author_id,
                    row.author_handle,
                    row.text,
                    row.created_at,
                    row.parent_uri,
                    row.root_uri or "",
                    _root_cid(row.raw),
                    tuple(row.tags or ()),
                    row.visibility or "public",
                )
                for row in rows
                if me in (row.mentions or []) or (row.parent_uri or "") in window.own
            ]

    def _notified(
        self, platform: Platform, network: str, windows: list[Window], seen: _Seen
    ) -> list[Asked]:
        if network in self._closed or not isinstance(platform, MentionReader):
            return []
        earliest = min(window.opens for window in windows)
        # The server's own count of what is left (Mastodon's rate-limit headers, as the last
        # answer said): below a quarter, the notifications wait; the chat's posts need it.
        reported = getattr(platform, "rate_state", None)
        state: RateState | None = reported() if callable(reported) else None
        if state is not None and state.limit > 0 and state.remaining < state.limit * RESERVE:
            return []
        call = self.pacer.caller(network, self.clock.now, lambda _: None)
        found: list[Asked] = []
        cursor: str | None = None
        first_page: set[str] = set()
        for page_number in range(MAX_PAGES):
            try:
                page = call(lambda c=cursor: platform.mentions(cursor=c))
            except AuthError as error:  # no read:notifications: the store's requests still work
                self._closed.add(network)
                log.warning("late joiners: cannot read %s notifications: %s", network, error)
                if self.say is not None:
                    self.say(closed_warning(network, str(getattr(platform, "url", "") or "")))
                return found
            uris = {m.post.uri for m in page.mentions}
            if page_number == 0:
                first_page = uris
            found += [asked_from(m.post) for m in page.mentions]
            older = all(
                (m.seen_at or m.post.created_at or earliest) < earliest for m in page.mentions
            )
            if page.cursor is None or older or uris & seen.newest:
                break
            cursor = page.cursor
        seen.newest = first_page or seen.newest
        return found

    def _queue(self, window: Window, asked: Asked) -> bool:
        if not window.covers(asked.created_at) or not window.covers(self.clock.now()):
            return False
        request = parse_request(asked.text)
        if request is None:
            return False
        question = pick_question(request, window.questions)
        if question is None:
            return False
        fits = _fits(window.network, window.limit)
        text = reply_text(asked.author_handle, question, fits=fits, hashtag=window.tag)
        reply = NewReply(
            event_id=window.event_id, network=window.network, asker_id=asked.author_id,
            asker_handle=asked.author_handle, label=question.label, request_uri=asked.uri,
            request_id=asked.id, request_cid=asked.cid, root_uri=asked.root_uri,
            root_cid=asked.root_cid, text=text,
        )  # fmt: skip
        return enqueue(self.engine, reply, now=self.clock.now())


def closed_warning(network: str, instance: str = "") -> str:
    """What the run says when ``network``'s notifications can't be read, and the fix."""
    if network == "mastodon":
        lost = "no one asking there is answered"
        fix = "run `chatbot login mastodon --instance URL` again" + (
            f" (URL: {instance})" if instance else ""
        )
        fix += "; its token then has read:notifications"
    else:
        lost = "only requests among the collected posts are answered"
        fix = f"check the {network} credentials"
    return (
        f"warning: late joiners on {network}: the bot cannot read its notifications, "
        f"so {lost}; {fix}"
    )


def assign(asked: Asked, windows: list[Window]) -> Window | None:
    """The chat a request belongs to: by its hashtag, by the post it replies to, or the only one.

    A request matching no chat, or several chats open at once, gets no reply.
    """
    tags = {hashtag_key(tag) for tag in asked.tags}
    rules: list[Callable[[Window], bool]] = [
        lambda w: w.tag in tags,
        lambda w: bool(asked.parent) and asked.parent in w.own,
        lambda w: bool(asked.root_uri) and asked.root_uri in w.own,
    ]
    for rule in rules:
        chosen = [w for w in windows if rule(w)]
        if len(chosen) == 1:
            return chosen[0]
    open_now = [w for w in windows if w.covers(asked.created_at)]
    return open_now[0] if len(open_now) == 1 else None


def _fits(network: str, limit: int) -> Callable[[str], bool]:
    if network == "bluesky":

        def fits(text: str) -> bool:
            graphemes, size = bluesky_length(text)
            return graphemes <= BLUESKY_MAX_GRAPHEMES and size <= BLUESKY_MAX_BYTES

        return fits
    return lambda text: mastodon_length(text) <= limit


__all__ = ["GRACE", "LOOK_SECONDS", "Asked", "LateJoinerJob", "assign", "closed_warning"]
