"""The sandbox network's state: accounts and repos of records; thread-safe, on the given clock."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chatbot.clock import Clock, SystemClock
from chatbot.sandbox.bluesky import views
from chatbot.sandbox.bluesky.blobs import BlobStore
from chatbot.sandbox.bluesky.cid import RecordEncodingError, record_cid
from chatbot.sandbox.bluesky.model import (
    Account,
    StoredRecord,
    StoreError,
    did_for_handle,
    hash_password,
)
from chatbot.sandbox.bluesky.records import (
    LIKE,
    POST,
    PROFILE,
    REPOST,
    RecordError,
    check_record,
    parse_at_uri,
)
from chatbot.sandbox.bluesky.richtext import record_tags
from chatbot.sandbox.bluesky.tid import TidGenerator
from chatbot.sandbox.bluesky.times import iso
from chatbot.text.bluesky import build_facets

_HANDLE_RE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
NO_UNAUTHENTICATED = "!no-unauthenticated"


Listener = Callable[[str, StoredRecord], None]


SEARCH_CAP = 10_000  # results one searchPosts query gives at most, over all its pages


class BlueskyStore:
    """Accounts, records and the indexes the AppView views are built from."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        seed: int | None = None,
        search_lag: timedelta = timedelta(0),
        search_cap: int = SEARCH_CAP,
    ):
        self.clock: Clock = clock or SystemClock()
        # Search only sees a post this long (clock time) after it was indexed, as
        # the real search index lags; threads and getPosts see it at once.
        self.search_lag = search_lag
        # Search gives at most this many results per query, however it is paged (the
        # real service stops at 10,000): a test can set a handful.
        self.search_cap = search_cap
        self.tids = TidGenerator(self.clock, seed)
        self._lock = threading.RLock()
        self._accounts: dict[str, Account] = {}
        self._handles: dict[str, str] = {}
        self._emails: dict[str, str] = {}
        self._records: dict[str, StoredRecord] = {}
        self._posts: dict[str, StoredRecord] = {}  # insertion order = indexing order
        # target uri -> kind (reply/like/repost/quote) -> uris pointing at it
        self._refs: dict[str, dict[str, set[str]]] = {}
        self._listeners: list[Listener] = []
        self._taken_down: set[str] = set()  # DIDs the AppView no longer shows
        self.blobs = BlobStore()
        # Where image views point (thumb, fullsize): the server's own URL once it runs.
        self.cdn_url = "https://cdn.bsky.app"

    # -- accounts ---------------------------------------------------------
    def create_account(
        self,
        handle: str,
        password: str,
        *,
        display_name: str = "",
        description: str = "",
        email: str | None = None,
        followers_count: int = 0,
    ) -> Account:
        handle = handle.lower()
        if len(handle) > 253 or not _HANDLE_RE.match(handle):
            raise StoreError("InvalidHandle", f"Handle is not a valid domain name: {handle}")
        with self._lock:
            if handle in self._handles:
                raise StoreError("HandleNotAvailable", f"Handle already taken: {handle}")
            if email and email.lower() in self._emails:
                raise StoreError("InvalidRequest", f"Email already taken: {email}")
            salt = secrets.token_bytes(16)
            account = Account(
                did=did_for_handle(handle),
                handle=handle,
                email=email,
                created_at=self.clock.now(),
                salt=salt,
                password_hash=hash_password(password, salt),
                followers_count=max(0, followers_count),
            )
            self._accounts[account.did] = account
            self._handles[handle] = account.did
            if email:
                self._emails[email.lower()] = account.did
            if display_name or description:
                profile = {"$type": PROFILE, "createdAt": iso(account.created_at)}
                if display_name:
                    profile["displayName"] = display_name
                if description:
                    profile["description"] = description
                self.put_record(account.did, PROFILE, "self", profile)
            return account

    def account(self, actor: str) -> Account | None:
        """The account of a DID or a handle (with or without a leading ``@``)."""
        with self._lock:
            actor = actor.removeprefix("@")
            did = actor if actor.startswith("did:") else self._handles.get(actor.lower())
            return self._accounts.get(did or "")

    def resolve_handle(self, handle: str) -> str | None:
        with self._lock:
            return self._handles.get(handle.lower().removeprefix("@"))

    def check_password(self, identifier: str, password: str) -> Account | None:
        """The account for a handle, DID or email and its password, or None."""
        with self._lock:
            account = self.account(identifier)
            if account is None and "@" in identifier.strip("@"):
                account = self._accounts.get(self._emails.get(identifier.lower(), ""))
        if account and secrets.compare_digest(
            account.password_hash, hash_password(password, account.salt)
        ):
            return account
        return None

    def accounts(self) -> list[Account]:
        with self._lock:
            return list(self._accounts.values())

    def set_self_labels(self, did: str, labels: list[str]) -> None:
        """Self-label the account via its profile record (``!no-unauthenticated`` = opt out)."""
        with self._lock:
            existing = self.get_record(did, PROFILE, "self")
            profile: dict[str, Any] = dict(existing.value) if existing else {"$type": PROFILE}
            if labels:
                profile["labels"] = {
                    "$type": "com.atproto.label.defs#selfLabels",
                    "values": [{"val": label} for label in labels],
                }
            else:
                profile.pop("labels", None)
            self.put_record(did, PROFILE, "self", profile)

    def take_down(self, did: str, down: bool = True) -> None:
        """Take an account down on the AppView (``down=False`` restores it).

        Its posts leave threads, getPosts and search (a taken-down parent is a
        ``notFoundPost``), but the replyCount of the posts it replied to still
        counts them: the AppView's aggregates are not touched by takedowns, so
        such a thread shows fewer replies than it says it has, for good.
        """
        with self._lock:
            if down:
                self._taken_down.add(did)
            else:
                self._taken_down.discard(did)

    def taken_down(self, did: str) -> bool:
        with self._lock:
            return did in self._taken_down

    # -- records ----------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(operation, record)`` after every create/update/delete."""
        self._listeners.append(listener)

    def _require_account(self, did: str) -> Account:
        account = self.account(did)
        if account is None:
            raise StoreError("InvalidRequest", f"Could not find repo: {did}")
        return account

    def _write(
        self, did: str, collection: str, rkey: str, record: Any, *, create: bool
    ) -> StoredRecord:
        account = self._require_account(did)
        try:
            value = check_record(collection, rkey, record)
            cid = record_cid(value)
        except (RecordError, RecordEncodingError) as error:
            raise StoreError("InvalidRequest", str(error)) from None
        if collection == POST:
            self.blobs.check_embed(account.did, value)
        uri = f"at://{account.did}/{collection}/{rkey}"
        with self._lock:
            old = self._records.get(uri)
            if old is not None and create:
                # What the reference PDS answers for a duplicate key (see PLATFORMS.md).
                raise StoreError("InternalServerError", "Internal Server Error", 500)
            if old is not None:
                self._unindex(old)
            tags = frozenset(record_tags(value)) if collection == POST else frozenset()
            stored = StoredRecord(
                uri, account.did, collection, rkey, value, cid, self.clock.now(), tags
            )
            self._records[uri] = stored
            self._index(stored)
            listeners = list(self._listeners)
        for listener in listeners:
            listener("update" if old else "create", stored)
        return stored

    def create_record(
        self, did: str, collection: str, record: Any, rkey: str | None = None
    ) -> StoredRecord:
        return self._write(did, collection, rkey or self.tids.next(), record, create=True)

    def put_record(self, did: str, collection: str, rkey: str, record: Any) -> StoredRecord:
        return self._write(did, collection, rkey, record, create=False)

    def get_record(self, repo: str, collection: str, rkey: str) -> StoredRecord | None:
        with self._lock:
            account = self.account(repo)
            if account is None:
                return None
            return self._records.get(f"at://{account.did}/{collection}/{rkey}")

    def record(self, uri: str) -> StoredRecord | None:
        try:
            repo, collection, rkey = parse_at_uri(uri)
        except RecordError:
            return None
        return self.get_record(repo, collection, rkey)

    def delete_record(self, did: str, collection: str, rkey: str) -> bool:
        """Delete a record; deleting one that isn't there is not an error (as on the PDS)."""
        account = self._require_account(did)
        with self._lock:
            stored = self._records.pop(f"at://{account.did}/{collection}/{rkey}", None)
            if stored is None:
                return False
            self._unindex(stored)
            listeners = list(self._listeners)
        for listener in listeners:
            listener("delete", stored)
        return True

    def list_records(self, repo: str, collection: str) -> list[StoredRecord]:
        """A repo's records of one collection, by record key ascending."""
        with self._lock:
            account = self._require_account(repo)
            prefix = f"at://{account.did}/{collection}/"
            found = [r for uri, r in self._records.items() if uri.startswith(prefix)]
        return sorted(found, key=lambda r: r.rkey)

    def all_records(self, did: str) -> list[StoredRecord]:
        with self._lock:
            return [r for r in self._records.values() if r.did == did]

    def _targets(self, stored: StoredRecord) -> list[tuple[str, str]]:
        """``(target uri, kind)`` pairs this record counts towards."""
        value = stored.value
        if stored.collection in (LIKE, REPOST):
            subject = value.get("subject") or {}
            kind = "like" if stored.collection == LIKE else "repost"
            return [(str(subject.get("uri")), kind)] if isinstance(subject, dict) else []
        if stored.collection != POST:
            return []
        targets = []
        parent = ((value.get("reply") or {}).get("parent") or {}).get("uri")
        if parent:
            targets.append((str(parent), "reply"))
        quoted = views.quoted_uri(value)
        if quoted:
            targets.append((quoted, "quote"))
        return targets

    def _index(self, stored: StoredRecord) -> None:
        if stored.collection == POST:
            self._posts[stored.uri] = stored
        for target, kind in self._targets(stored):
            self._refs.setdefault(target, {}).setdefault(kind, set()).add(stored.uri)

    def _unindex(self, stored: StoredRecord) -> None:
        self._posts.pop(stored.uri, None)
        for target, kind in self._targets(stored):
            self._refs.get(target, {}).get(kind, set()).discard(stored.uri)

    def referrers(self, uri: str, kind: str) -> set[str]:
        with self._lock:
            return set(self._refs.get(uri, {}).get(kind, ()))

    def posts(self) -> list[StoredRecord]:
        """Every live post the AppView shows, in indexing order."""
        with self._lock:
            down = self._taken_down
            return [p for p in self._posts.values() if p.did not in down]

    def image_url(self, preset: str, did: str, cid: str) -> str:
        """An image's address as the AppView gives it (``feed_thumbnail``, ``feed_fullsize``)."""
        return f"{self.cdn_url}/img/{preset}/plain/{did}/{cid}@jpeg"

    # -- the crowd's shortcuts -------------------------------------------
    def make_facets(self, text: str) -> list[dict[str, Any]]:
        """Tag, mention (resolved against this store) and link facets of ``text``."""
        return build_facets(text, self.resolve_handle)

    def create_post(
        self,
        did: str,
        text: str,
        *,
        facets: list[dict[str, Any]] | None = None,
        reply_to: str | None = None,
        quote: str | None = None,
        created_at: datetime | None = None,
        langs: list[str] | None = None,
        rkey: str | None = None,
        tags: list[str] | None = None,
    ) -> dict[str, Any]:
        """Post as ``did`` and return the postView; facets default to those of the text.

        ``reply_to`` is the parent's URI (the root is derived); pass ``facets=[]``
        for a post whose ``#tags`` are plain text, as some clients send; ``tags`` are
        the record's own tags, apart from the text (as a client's tag field sets them).
        """
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": iso(created_at or self.clock.now()),
        }
        facets = self.make_facets(text) if facets is None else facets
        if facets:
            record["facets"] = facets
        record["langs"] = langs if langs is not None else ["en"]
        if tags:
            record["tags"] = list(tags)
        if reply_to:
            parent = self.record(reply_to)
            if parent is None or parent.collection != POST:
                raise StoreError("InvalidRequest", f"Could not find parent post: {reply_to}")
            parent_ref = {"uri": parent.uri, "cid": parent.cid}
            root_ref = (parent.value.get("reply") or {}).get("root") or parent_ref
            record["reply"] = {"root": dict(root_ref), "parent": parent_ref}
        if quote:
            quoted = self.record(quote)
            if quoted is None:
                raise StoreError("InvalidRequest", f"Could not find quoted post: {quote}")
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": quoted.uri, "cid": quoted.cid},
            }
        stored = self.create_record(did, POST, record, rkey)
        view = self.post_view(stored.uri)
        assert view is not None
        return view

    def delete_post(self, uri: str) -> None:
        repo, collection, rkey = parse_at_uri(uri)
        self.delete_record(repo, collection, rkey)

    def find_posts(
        self, *, author_did: str | None = None, tag: str | None = None
    ) -> list[dict[str, Any]]:
        """PostViews of live posts by author and/or tag (case-insensitive), oldest first."""
        wanted = tag.lower().lstrip("#") if tag else None
        with self._lock:
            chosen = [
                post
                for post in self._posts.values()
                if (author_did is None or post.did == author_did)
                and (wanted is None or wanted in post.tags)
            ]
            chosen.sort(key=lambda post: (post.sort_at, post.uri))
            return [views.post_view(self, post) for post in chosen]

    def post_view(self, uri: str) -> dict[str, Any] | None:
        with self._lock:
            stored = self.record(uri)
            if stored is None or stored.collection != POST or stored.did in self._taken_down:
                return None
            return views.post_view(self, stored)


__all__ = [
    "NO_UNAUTHENTICATED",
    "Account",
    "BlueskyStore",
    "StoreError",
    "StoredRecord",
    "did_for_handle",
]
