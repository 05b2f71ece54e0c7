"""Thread-safe state of the sandbox Mastodon: accounts, tokens, statuses, idempotency, streams."""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chatbot.clock import Clock, SystemClock
from chatbot.sandbox.mastodon import entities, render
from chatbot.sandbox.mastodon.accounts import AccountBook, NotFound, ValidationError
from chatbot.sandbox.mastodon.ids import minter
from chatbot.sandbox.mastodon.media import MediaBook
from chatbot.sandbox.mastodon.profile import ServerProfile, profile_named
from chatbot.sandbox.mastodon.reactions import Reactions
from chatbot.sandbox.mastodon.records import VISIBILITIES, Account, App, Status, Token

# Told of every change: (event, status) with event "update", "status.update" or "delete".
Listener = Callable[[str, Status], None]
IDEMPOTENCY_SECONDS = 3600  # Mastodon keeps an Idempotency-Key for an hour
WEB_APPLICATION: dict[str, str | None] = {"name": "Web", "website": None}


@dataclass(eq=False)
class Subscription:
    """One open stream: which statuses it wants, and the queue its events go to."""

    tag: str | None  # None: the public stream
    viewer_id: str | None
    local_only: bool = False  # hashtag:local and public:local leave remote statuses out
    events: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    # Set to make the server end this stream's connection (a dropped link, for tests).
    dropped: threading.Event = field(default_factory=threading.Event)

    def wants(self, status: Status) -> bool:
        if status.visibility != "public":
            return False  # unlisted, private and direct never reach public or hashtag streams
        if self.local_only and not status.local:
            return False
        return self.tag is None or self.tag in status.tags


class MastodonStore(AccountBook):
    """Everything the sandbox Mastodon knows; every method is safe to call from any thread."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        base_url: str | None = None,
        max_characters: int = 500,
        profile: str | ServerProfile = "mastodon",
    ) -> None:
        self.clock = clock or SystemClock()
        self._base_url = base_url.rstrip("/") if base_url else None
        self.max_characters = max_characters
        self.profile = profile_named(profile)
        self.lock = threading.RLock()
        self._ids = minter(self.profile.ulid_ids)
        self.used_tags: set[str] = set()  # every tag a status has carried (tags outlive posts)
        # Who may read the hashtag timelines, for local and for remote statuses ("public",
        # "authenticated" or "disabled"), as Mastodon 4.5's timelines_access.hashtag_feeds.
        self.hashtag_feeds: dict[str, str] = {"local": "public", "remote": "public"}
        self.apps: dict[str, App] = {}
        self.tokens: dict[str, Token] = {}
        self.accounts: dict[str, Account] = {}
        self._by_username: dict[str, str] = {}
        self._remote: dict[tuple[str, str], str] = {}
        self.statuses: dict[str, Status] = {}
        self._replies: dict[str, int] = {}
        self._quotes: dict[str, int] = {}
        self._posted: dict[str, tuple[int, datetime | None]] = {}
        self._idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self.media = MediaBook()  # uploads, and the statuses they are attached to
        self.reactions = Reactions()  # favourites and boosts
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Listener] = []
        # Run before every request is answered (federation delivers what is due by then).
        self.catch_up_hooks: list[Callable[[], None]] = []
        # A status's id here for its ActivityPub id or web address, fetching it from its
        # origin when this instance has none yet (set by the federation; None alone).
        self.resolver: Callable[[str], str | None] | None = None
        # For a remote copy's id here: start fetching the replies its origin has and this
        # instance lacks; how many are on their way (set by the federation; None alone).
        self.reply_fetcher: Callable[[str], int] | None = None
        # After a favourite or boost here (kind, status, account id, given or taken back):
        # the federation tells the status's origin, as a Like or Announce activity does.
        self.reaction_hooks: list[Callable[[str, Status, str, bool], None]] = []

    def react(self, kind: str, status: Status, account_id: str, on: bool = True) -> None:
        """``account_id`` favourites or boosts ``status`` here (``on=False``: takes it back)."""
        self.reactions.set(kind, status.id, account_id, on)
        for hook in list(self.reaction_hooks):
            hook(kind, status, account_id, on)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event, status)`` after every change (under the store's lock)."""
        with self.lock:
            self._listeners.append(listener)

    def catch_up(self) -> None:
        for hook in list(self.catch_up_hooks):
            hook()

    # -- identity of the server ------------------------------------------
    @property
    def base_url(self) -> str:
        return self._base_url or "http://127.0.0.1"

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value.rstrip("/")

    @property
    def has_base_url(self) -> bool:
        return self._base_url is not None

    def now(self) -> datetime:
        return self.clock.now()

    def id_key(self, status_id: str) -> tuple[int, str]:
        """How this server orders ids: as numbers (Mastodon) or as text (ULIDs)."""
        if self.profile.ulid_ids:
            return (0, status_id)
        return (int(status_id), "") if status_id.isdigit() else (-1, status_id)

    # -- statuses ----------------------------------------------------------
    def status(self, status_id: str) -> Status | None:
        return self.statuses.get(status_id)

    def replies_count(self, status_id: str) -> int:
        return self._replies.get(status_id, 0)

    def quotes_count(self, status_id: str) -> int:
        return self._quotes.get(status_id, 0)

    def can_see(self, status: Status, viewer_id: str | None) -> bool:
        if status.deleted:
            return False
        if status.visibility in ("public", "unlisted") or viewer_id == status.account_id:
            return True
        return viewer_id is not None and viewer_id in status.mention_ids

    def _validate(self, text: str, spoiler_text: str, *, with_media: bool = False) -> None:
        if render.is_blank(text) and not with_media:
            raise ValidationError("Validation failed: Text can't be blank")
        if render.countable_length(text, spoiler_text) > self.max_characters:
            raise ValidationError(
                f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )

    def _mention_ids(self, text: str) -> list[str]:
        found = (self.lookup_account(acct) for acct in render.mentions(text))
        return list(dict.fromkeys(account.id for account in found if account is not None))

    def post(
        self,
        account_id: str,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        visibility: str | None = "public",
        language: str | None = "en",
        spoiler_text: str = "",
        sensitive: bool = False,
        quote_id: str | None = None,
        application: dict[str, str | None] | None = None,
        created_at: datetime | None = None,
        idempotency_key: str | None = None,
        media_ids: list[str] | None = None,
    ) -> Status:
        """Create a status (or return the one an unexpired ``idempotency_key`` already made).

        ``visibility`` None: the account's default (its ``source.privacy``); ``media_ids``:
        the author's uploads to attach (see ``media.MediaBook.attachable``).
        """
        text, spoiler_text = render.prepare_text(text), render.prepare_text(spoiler_text)
        if visibility is not None and visibility not in VISIBILITIES:
            raise ValidationError(
                f"Validation failed: Visibility is not included in the list: {visibility!r}"
            )
        with self.lock:
            author = self.accounts.get(account_id)
            if author is None:
                raise NotFound(f"no account {account_id}")
            visibility = visibility or author.default_visibility
            now = self.now()
            key = (account_id, idempotency_key) if idempotency_key else None
            if key and key in self._idempotency:
                first_id, expires = self._idempotency[key]
                first = self.statuses.get(first_id)
                # Like Mastodon, a key whose status is gone (deleted) no longer blocks a post.
                if expires > now and first is not None and not first.deleted:
                    return first
            attached = self.media.attachable(account_id, list(media_ids or []), now)
            self._validate(text, spoiler_text, with_media=bool(attached))
            parent = None
            if in_reply_to_id is not None:
                parent = self.statuses.get(in_reply_to_id)
                if parent is None or not self.can_see(parent, account_id):
                    raise NotFound(f"no status {in_reply_to_id} to reply to")
            if quote_id is not None:
                quoted = self.statuses.get(quote_id)
                if quoted is None or not self.can_see(quoted, account_id):
                    raise NotFound(f"no status {quote_id} to quote")
            moment = created_at or now
            status = Status(
                id=self._ids.mint(moment, monotonic=created_at is None),
                account_id=account_id,
                text=text,
                created_at=moment,
                visibility=visibility,
                language=language,
                spoiler_text=spoiler_text,
                sensitive=sensitive or bool(spoiler_text),
                in_reply_to_id=parent.id if parent else None,
                in_reply_to_account_id=parent.account_id if parent else None,
                quote_id=quote_id,
                application=application or dict(WEB_APPLICATION),
                tags=render.hashtags(text),
                mention_ids=self._mention_ids(text),
            )
            if key:
                self._idempotency[key] = (status.id, now + timedelta(seconds=IDEMPOTENCY_SECONDS))
                self._expire_keys(now)
            self.media.attach(attached, status.id)
            return self.insert(status)

    def insert(self, status: Status) -> Status:
        """Keep a new status (local or a remote copy) and tell streams and listeners."""
        with self.lock:
            self.statuses[status.id] = status
            self.used_tags.update(status.tags)
            self._count(status, +1)
            self._publish("update", status)
            return status

    def changed(self, status: Status) -> Status:
        """Tell streams and listeners that ``status`` was edited in place (a remote edit)."""
        with self.lock:
            self._publish("status.update", status)
            return status

    def mint_id(self, at: datetime, *, monotonic: bool = True) -> str:
        return self._ids.mint(at, monotonic=monotonic)

    def update(
        self,
        status_id: str,
        text: str,
        *,
        spoiler_text: str | None = None,
        sensitive: bool | None = None,
        language: str | None = None,
    ) -> Status:
        """Edit a status: new text, ``edited_at`` set, ``status.update`` streamed."""
        with self.lock:
            status = self.statuses.get(status_id)
            if status is None or status.deleted:
                raise NotFound(f"no status {status_id}")
            text = render.prepare_text(text)
            spoiler = (
                status.spoiler_text if spoiler_text is None else render.prepare_text(spoiler_text)
            )
            self._validate(text, spoiler)
            status.text, status.spoiler_text = text, spoiler
            if sensitive is not None:
                status.sensitive = sensitive
            if language is not None:
                status.language = language
            status.tags = render.hashtags(text)
            self.used_tags.update(status.tags)
            status.mention_ids = self._mention_ids(text)
            status.edited_at = self.now()
            self._publish("status.update", status)
            return status

    def remove(self, status_id: str) -> Status:
        """Delete a status; it is gone from every read, and ``delete`` is streamed."""
        with self.lock:
            status = self.statuses.get(status_id)
            if status is None or status.deleted:
                raise NotFound(f"no status {status_id}")
            status.deleted_at = self.now()
            self._count(status, -1)
            self._publish("delete", status)
            return status

    def _count(self, status: Status, step: int) -> None:
        if status.in_reply_to_id:
            self._replies[status.in_reply_to_id] = (
                self._replies.get(status.in_reply_to_id, 0) + step
            )
        if status.quote_id:
            self._quotes[status.quote_id] = self._quotes.get(status.quote_id, 0) + step
        count, last = self._posted.get(status.account_id, (0, None))
        if step > 0 and (last is None or status.created_at > last):
            last = status.created_at
        self._posted[status.account_id] = (count + step, last)

    def _expire_keys(self, now: datetime) -> None:
        for key in [k for k, (_, expires) in self._idempotency.items() if expires <= now]:
            del self._idempotency[key]

    def visible_statuses(self, predicate: Callable[[Status], bool]) -> list[Status]:
        """Live statuses matching ``predicate``, newest (highest id) first."""
        with self.lock:
            found = [s for s in self.statuses.values() if not s.deleted and predicate(s)]
        return sorted(found, key=lambda s: self.id_key(s.id), reverse=True)

    def context(self, status: Status, viewer_id: str | None) -> tuple[list[Status], list[Status]]:
        """Ancestors (oldest first) and descendants (depth first) the viewer may see.

        A deleted status breaks the chain, as on Mastodon: its replies are neither
        ancestors nor descendants of anything above it.
        """
        with self.lock:
            ancestors: list[Status] = []
            current = status
            while current.in_reply_to_id:
                parent = self.statuses.get(current.in_reply_to_id)
                if parent is None or not self.can_see(parent, viewer_id):
                    break
                ancestors.append(parent)
                current = parent
            children: dict[str, list[Status]] = {}
            for candidate in self.statuses.values():
                if candidate.in_reply_to_id and self.can_see(candidate, viewer_id):
                    children.setdefault(candidate.in_reply_to_id, []).append(candidate)
            descendants: list[Status] = []

            def newest_first(statuses: list[Status]) -> list[Status]:
                return sorted(statuses, key=lambda s: self.id_key(s.id), reverse=True)

            stack = newest_first(children.get(status.id, []))
            while stack:
                reply = stack.pop()
                descendants.append(reply)
                stack.extend(newest_first(children.get(reply.id, [])))
        return list(reversed(ancestors)), descendants

    # -- the in-process API the crowd simulator uses ------------------------
    def create_status(
        self,
        account_id: str,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        visibility: str | None = "public",
        quote_id: str | None = None,
        language: str | None = "en",
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Post as ``account_id`` (``visibility`` None: the account's default); returns
        Status JSON as its author sees it."""
        status = self.post(
            account_id,
            text,
            in_reply_to_id=in_reply_to_id,
            visibility=visibility,
            quote_id=quote_id,
            language=language,
            created_at=created_at,
        )
        return self.status_json(status, viewer_id=account_id)

    def edit_status(self, status_id: str, text: str) -> dict[str, Any]:
        status = self.update(status_id, text)
        return self.status_json(status, viewer_id=status.account_id)

    def delete_status(self, status_id: str) -> dict[str, Any]:
        """Delete; returns the deleted Status JSON (with ``text``, without ``content``)."""
        status = self.remove(status_id)
        return self.status_json(status, viewer_id=status.account_id, deleted=True)

    def find_statuses(
        self, *, account_id: str | None = None, tag: str | None = None
    ) -> list[dict[str, Any]]:
        """Live statuses of any visibility, oldest first, optionally by author and/or hashtag."""
        name = render.normalize_tag(tag) if tag else None
        found = self.visible_statuses(
            lambda s: (
                (account_id is None or s.account_id == account_id)
                and (name is None or name in s.tags)
            )
        )
        return [self.status_json(s, viewer_id=s.account_id) for s in reversed(found)]

    # -- JSON -------------------------------------------------------------
    def status_json(
        self, status: Status, *, viewer_id: str | None, deleted: bool = False
    ) -> dict[str, Any]:
        with self.lock:
            return entities.status_json(self, status, viewer_id=viewer_id, deleted=deleted)

    # -- streaming ----------------------------------------------------------
    def subscribe(
        self, tag: str | None, viewer_id: str | None = None, *, local_only: bool = False
    ) -> Subscription:
        subscription = Subscription(
            render.normalize_tag(tag) if tag else None, viewer_id, local_only
        )
        with self.lock:
            self._subscriptions.append(subscription)
        return subscription

    def drop_streams(self) -> int:
        """End every open stream's connection from the server side; returns how many."""
        with self.lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.dropped.set()
        return len(subscriptions)

    def unsubscribe(self, subscription: Subscription) -> None:
        with self.lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def _publish(self, event: str, status: Status) -> None:
        # A frozen copy: the stream renders later, and must show the status as it was now.
        snapshot = dataclasses.replace(
            status, tags=list(status.tags), mention_ids=list(status.mention_ids)
        )
        for subscription in self._subscriptions:
            if subscription.wants(snapshot):
                subscription.events.put((event, snapshot))
        for listener in self._listeners:
            listener(event, status)


__all__ = ["MastodonStore", "NotFound", "Subscription", "ValidationError"]
