"""A network's post commits filtered down to one chat's posts, whatever their order.

Both of Bluesky's live sources, Jetstream and the relay firehose, carry the
same commits: a repo (DID), a record key, the repo's ``rev`` and a create,
update or delete of a post record. The common currency here is such a commit
in Jetstream's JSON shape, ``{did, time_us, kind: "commit", commit: {rev,
operation, collection, rkey, record?, cid?}}``: Jetstream sends it as is, the
firehose reader (:mod:`chatbot.platforms.firehose`) makes it from each
operation of a commit. A chat on Bluesky is the posts carrying its hashtag (as
a tag facet, in the record's ``tags``, or as a whole ``#tag`` in the text, in
any case) and every reply whose root or parent is one of the chat's posts.

Streams deliver at least once and may reorder events (Jetstream around its
switch from replay to live; either after a reconnection from a cursor), so
:class:`ChatFilter` makes the outcome independent of order and repetition
within :attr:`ChatFilter.hold_us` of stream time:

- versions of one post are ordered by the repo's ``rev`` (a TID, sortable as
  text): an older or repeated version changes nothing;
- a reply that arrives before the post it answers is held, and kept once that
  post joins the chat (replies to replies follow);
- a deletion that arrives before its post is remembered, so the late create
  ends as the same tombstone the deletion would have made.

What it gives back are :class:`~chatbot.platforms.base.NormalisedPost` values
(tombstones for deletions), the shape the collector stores from every source.
Anything malformed is skipped: post content and the streams are untrusted.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, MutableSet, Sequence
from typing import Any

from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.bluesky_json import from_jetstream
from chatbot.platforms.bluesky_uris import BLUESKY_WEB
from chatbot.platforms.postfields import tombstone
from chatbot.text.bluesky import TAG

POST = "app.bsky.feed.post"
_POST_PATH = f"/{POST}/"
HOLD_US = 120_000_000  # stream time a reply waits for its parent, a deletion for its post
# A post event as held until it joins the chat: the event, or the line it came in.
Held = dict[str, Any] | str | bytes


def _tag_pattern(tag: str) -> re.Pattern[str]:
    # As Bluesky's apps read text: a tag starts the text or follows white space. The
    # "#" comes first so the search jumps from "#" to "#" (a lookbehind first made it
    # try every position: 4-8x slower); ``(?<!\S#)`` is ``(?<!\S)`` before the "#".
    return re.compile(rf"#(?<!\S#){re.escape(tag)}(?!\w)", re.IGNORECASE)


def carries_tag(record: Mapping[str, Any], tag: str, pattern: re.Pattern[str]) -> bool:
    """True when a post record has ``tag`` (lower case, no ``#``) in any case."""
    facets = record.get("facets")
    if facets and type(facets) is list:
        for facet in facets:
            features = facet.get("features") if type(facet) is dict else None
            if not features or type(features) is not list:
                continue
            for feature in features:
                if (
                    type(feature) is dict
                    and feature.get("$type") == TAG
                    and is_tag(feature.get("tag"), tag)
                ):
                    return True
    return tagged_otherwise(record.get("tags"), record.get("text"), tag, pattern)


def is_tag(value: object, tag: str) -> bool:
    """True when a tag facet's or ``tags`` value is ``tag`` (lower case, no ``#``), in any case."""
    return type(value) is str and value.lstrip("#").lower() == tag


def tagged_otherwise(tags: object, text: object, tag: str, pattern: re.Pattern[str]) -> bool:
    """:func:`carries_tag`'s rule for a record's ``tags`` and text (facets aside)."""
    if tags and type(tags) is list:
        for value in tags:
            if is_tag(value, tag):
                return True
    return type(text) is str and "#" in text and pattern.search(text) is not None


def _reply_targets(reply: Any) -> tuple[str, ...]:
    """The parent and root URIs of a post record's ``reply`` (one when they are the same)."""
    if type(reply) is not dict:
        return ()
    parent, root = reply.get("parent"), reply.get("root")
    first = parent.get("uri") if type(parent) is dict else None
    second = root.get("uri") if type(root) is dict else None
    return targets(first, second)


def targets(first: object, second: object) -> tuple[str, ...]:
    """A reply's parent and root URIs, each when it is a non-empty string, the root only
    when it differs."""
    if type(first) is not str or not first:
        return (second,) if type(second) is str and second else ()
    if type(second) is not str or not second or second == first:
        return (first,)
    return (first, second)


class ChatFilter:
    """Keeps one chat's posts from a stream of post commits; call :meth:`feed_event` with each.

    ``chat`` is the set of post URIs already known to be in the chat (the
    caller may keep adding to it: posts found by search or in threads); kept
    posts are added to it too. :attr:`cursor` is the largest ``time_us`` seen
    in any event: the stream time held replies and deletions expire by (and
    Jetstream's position to reconnect from).
    """

    source = ""  # names the stream in the raw JSON of the tombstones it makes

    def __init__(
        self,
        tag: str,
        chat: MutableSet[str] | Iterable[str] = (),
        *,
        web: str = BLUESKY_WEB,
        hold_us: int = HOLD_US,
    ):
        self.tag = tag.lstrip("#").lower()
        self.chat: MutableSet[str] = chat if isinstance(chat, MutableSet) else set(chat)
        self.web = web
        self.hold_us = hold_us
        self.cursor: int | None = None
        self.events = 0  # messages fed
        self._pattern = _tag_pattern(self.tag)
        self._revs: dict[str, str] = {}  # chat post -> rev of the version applied
        self._gone: dict[str, str] = {}  # deleted chat post -> rev of its deletion
        self._early_deletes: dict[str, str] = {}  # unknown post -> rev of its deletion
        # post -> the replies (and edits) waiting for it, by (URI, rev)
        self._held: dict[str, dict[tuple[str, str], Held]] = {}
        # (time_us, uri, (reply URI, rev) held for it, or None for an early deletion of uri)
        self._expiry: deque[tuple[int, str, tuple[str, str] | None]] = deque()

    # -- feeding ---------------------------------------------------------------
    def feed_event(self, event: dict[str, Any]) -> list[NormalisedPost]:
        """The posts (and tombstones) one commit event, in Jetstream's shape, adds to the chat."""
        self.events += 1
        moment = event.get("time_us")
        if type(moment) is int and (self.cursor is None or moment > self.cursor):
            self._advance(moment)
        commit = event.get("commit")
        if type(commit) is not dict or commit.get("collection") != POST:
            return []
        return list(self._commit(event, commit))

    def _advance(self, moment: int) -> None:
        self.cursor = moment
        if self._expiry and self._expiry[0][0] < moment - self.hold_us:
            self._expire(moment - self.hold_us)

    def _commit(self, event: dict[str, Any], commit: dict[str, Any]) -> Sequence[NormalisedPost]:
        """A commit to the post collection: a post or edit that may join, or a deletion.

        Most posts on the network are neither the chat's nor replies to it, so
        the checks run cheapest first and nothing is allocated for a post
        that is let go.
        """
        did, rkey, rev = event.get("did"), commit.get("rkey"), commit.get("rev")
        if type(did) is not str or type(rkey) is not str or type(rev) is not str:
            return ()
        if not did or not rkey or event.get("kind") != "commit":
            return ()
        uri = "at://" + did + _POST_PATH + rkey
        operation = commit.get("operation")
        if operation == "delete":
            return self._delete(uri, rev, event.get("time_us"))
        record = commit.get("record")
        if type(record) is not dict or (operation != "create" and operation != "update"):
            return ()
        chat = self.chat
        if uri in chat:  # only the chat's posts (never taken out) have a version or deletion
            if uri in self._revs and rev <= self._revs[uri]:
                return ()  # a repeat, or older than what was kept
            if uri in self._gone and rev <= self._gone[uri]:
                return ()  # deleted after this version
            return self._admit(uri, rev, event)
        # Most posts have no facets, no tags and no "#": no call for them.
        text = record.get("text")
        if (
            "facets" in record or "tags" in record or (type(text) is str and "#" in text)
        ) and carries_tag(record, self.tag, self._pattern):
            return self._admit(uri, rev, event)
        reply = record.get("reply")
        targets = _reply_targets(reply) if reply is not None else ()
        for target in targets:
            if target in chat:
                return self._admit(uri, rev, event)
        if operation == "update":
            # An edit waits for its post to join the chat (by an earlier version,
            # arriving later, that has the tag).
            targets = (*targets, uri)
        if targets:  # a reply waits for the post it answers
            self._hold(uri, rev, event, targets, event.get("time_us"))
        return ()

    def _hold(self, uri: str, rev: str, event: Held, targets: tuple[str, ...], moment: Any) -> None:
        if type(moment) is not int:
            moment = self.cursor or 0
        key = (uri, rev)
        for target in targets:
            waiting = self._held.get(target)
            if waiting is None:
                self._held[target] = {key: event}
            elif key in waiting:
                continue
            else:
                waiting[key] = event
            self._expiry.append((moment, target, key))

    def _admit(self, uri: str, rev: str, held: Held) -> list[NormalisedPost]:
        """``held``'s post joins the chat; so do the replies that waited for it."""
        found: list[NormalisedPost] = []
        pending = [(uri, rev, held)]
        while pending:
            uri, rev, held = pending.pop()
            applied = self._revs.get(uri)
            if applied is not None and rev <= applied:
                continue
            event = self._as_json(held)
            if event is None:
                continue
            self.chat.add(uri)
            self._revs[uri] = rev
            early = self._early_deletes.pop(uri, None)
            if early is not None and rev < early and early > self._gone.get(uri, ""):
                self._gone[uri] = early
            gone = self._gone.get(uri)
            if gone is not None and rev <= gone:
                found.append(self._tombstone(uri, event.get("time_us")))
            else:
                post = from_jetstream(event, web=self.web)
                if post is not None:
                    found.append(post)
            for (child, child_rev), waiting in self._held.pop(uri, {}).items():
                pending.append((child, child_rev, waiting))
        return found

    def _as_json(self, held: Held) -> dict[str, Any] | None:
        """The event as the JSON to store, for a post that joins the chat (a stream whose
        records are not JSON already converts them here, not for every post it lets go;
        Jetstream's fast path holds the undecoded line)."""
        return held if type(held) is dict else None

    def _delete(self, uri: str, rev: str, moment: Any) -> list[NormalisedPost]:
        gone = self._gone.get(uri)
        if gone is not None and rev <= gone:
            return []  # deleted already
        applied = self._revs.get(uri)
        if applied is not None and rev <= applied:
            return []  # a deletion older than the version kept (a re-used record key)
        if uri not in self.chat:
            known = self._early_deletes.get(uri)
            if known is None or rev > known:
                self._early_deletes[uri] = rev
                when = moment if type(moment) is int else 0
                self._expiry.append((when or self.cursor or 0, uri, None))
            return []
        self._gone[uri] = rev
        return [self._tombstone(uri, moment)]

    def _tombstone(self, uri: str, moment: Any = None) -> NormalisedPost:
        did, _, rkey = uri[len("at://") :].partition(f"/{POST}/")
        commit = {"rev": self._gone[uri], "operation": "delete", "collection": POST, "rkey": rkey}
        raw: dict[str, Any] = {"did": did, "time_us": moment, "kind": "commit", "commit": commit}
        if self.source:
            raw["source"] = self.source  # which stream saw it, as its events say
        return tombstone("bluesky", uri, rkey, author_id=did, raw=raw)

    # -- what the caller learns elsewhere ----------------------------------------
    def learn(self, uris: Iterable[str]) -> list[NormalisedPost]:
        """Posts of the chat found by other means (search, threads): replies that waited
        for one of them are kept now, and a deletion seen before is handed over."""
        found: list[NormalisedPost] = []
        for uri in uris:
            if uri in self.chat:
                continue
            self.chat.add(uri)
            early = self._early_deletes.pop(uri, None)
            if early is not None and early > self._gone.get(uri, ""):
                self._gone[uri] = early
                found.append(self._tombstone(uri))
            for (child, child_rev), waiting in self._held.pop(uri, {}).items():
                found.extend(self._admit(child, child_rev, waiting))
        return found

    def _expire(self, before: int) -> None:
        """Forget held replies and early deletions older than ``before`` (stream time)."""
        expiry, held = self._expiry, self._held
        while expiry and expiry[0][0] < before:
            _, uri, key = expiry.popleft()
            if key is None:
                self._early_deletes.pop(uri, None)
                continue
            waiting = held.get(uri)
            if waiting is not None:
                waiting.pop(key, None)
                if not waiting:
                    del held[uri]

    # -- what the filter holds -------------------------------------------------
    def state(self) -> dict[str, tuple[str, bool]]:
        """Every chat post the stream has shown: URI -> (rev applied, deleted)."""
        found = {uri: (rev, False) for uri, rev in self._revs.items()}
        for uri, rev in self._gone.items():
            if uri not in found or rev > found[uri][0]:
                found[uri] = (rev, True)
        return found

    def held(self) -> int:
        """Replies waiting for a post that is not (yet) in the chat."""
        return sum(len(waiting) for waiting in self._held.values())


__all__ = [
    "HOLD_US",
    "POST",
    "ChatFilter",
    "Held",
    "carries_tag",
    "is_tag",
    "tagged_otherwise",
    "targets",
]
