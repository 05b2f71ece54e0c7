"""Jetstream's JSON events filtered down to one chat's posts: pure, and fast.

Jetstream (``/subscribe``) sends every commit of the network as one JSON text
message, ``{did, time_us, kind, commit: {rev, operation, collection, rkey,
record?, cid?}}``: the shape :class:`~chatbot.platforms.chatfilter.ChatFilter`
takes, which decides what belongs to the chat (and makes the outcome
independent of Jetstream's repeats and reordering). This module adds the
parsing, and the loop a live stream and the benchmark run over raw lines.

Most of the network's posts are not the chat's, and most of a post's record is
what the filter never reads (embeds, langs, facets' byte ranges). So each line
is decoded with msgspec into :class:`~chatbot.platforms.jetstream_shape.Event`,
a typed shape of only the fields the decision reads: the rest of the line is
checked as JSON and skipped, not built. The line is decoded whole (orjson, or
the standard library for what orjson refuses) only for a post that joins the
chat, when it joins (a held reply is held as its line). A line the typed
shape refuses (a field of another JSON type than the shape says, or JSON
msgspec refuses) goes the general way: parsed whole and given to
:meth:`ChatFilter.feed_event`, so what is kept is the same either way
(``tests/platforms/test_jetstream_fast.py``). Anything malformed is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import msgspec
import orjson

from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.chatfilter import (
    _POST_PATH,
    HOLD_US,
    POST,
    ChatFilter,
    Held,
    carries_tag,
    targets,
)
from chatbot.platforms.jetstream_shape import Commit, Event, decode_event
from chatbot.platforms.jetstream_shape import carries_tag as typed_carries_tag


def parse_line(line: str | bytes) -> dict[str, Any] | None:
    """One Jetstream message as a dict, or None when it is not a JSON object."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:  # lone surrogates and integers past 64 bits: valid JSON orjson refuses
            value = json.loads(line)
        except (ValueError, RecursionError):
            return None
    except RecursionError:
        return None
    return value if type(value) is dict else None


_NOTHING: list[NormalisedPost] = []  # what a message that keeps nothing gives: never added to


class JetstreamFilter(ChatFilter):
    """Keeps one chat's posts from a Jetstream; call :meth:`feed` with each message.

    :attr:`cursor` is the largest ``time_us`` seen in any event, the position to
    reconnect from (minus a margin: the stream is not in time order).
    """

    def feed(self, line: str | bytes) -> list[NormalisedPost]:
        """The posts (and tombstones) one Jetstream message adds to the chat.

        The live stream calls this for every message it receives: it is
        :meth:`feed_many`'s loop body for one line, with no list made for a
        message that keeps nothing.
        """
        try:
            event = decode_event(line)
        except msgspec.DecodeError:
            return self._general(line) or _NOTHING
        self.events += 1
        moment = event.time_us
        if type(moment) is int and (self.cursor is None or moment > self.cursor):
            self._advance(moment)
        commit = event.commit
        if commit is not None and commit.collection == POST:
            kept = self._post(event, commit, line)
            if kept:
                return list(kept)
        return _NOTHING

    def feed_many(self, lines: Iterable[str | bytes]) -> list[NormalisedPost]:
        """:meth:`feed` for each line; the loop a live stream and the benchmark run."""
        found: list[NormalisedPost] = []
        decode, failed, post_of = decode_event, msgspec.DecodeError, self._post
        expiry, hold = self._expiry, self.hold_us
        count = 0
        cursor = self.cursor
        for line in lines:
            try:
                event = decode(line)
            except failed:
                found.extend(self._general(line))
                cursor = self.cursor
                continue
            count += 1
            moment = event.time_us
            if type(moment) is int and (cursor is None or moment > cursor):
                cursor = self.cursor = moment
                if expiry and expiry[0][0] < moment - hold:
                    self._expire(moment - hold)
            commit = event.commit
            if commit is not None and commit.collection == POST:
                kept = post_of(event, commit, line)
                if kept:
                    found.extend(kept)
        self.events += count
        return found

    def _general(self, line: str | bytes) -> list[NormalisedPost]:
        """A line the typed shape refused, the general way (the line parsed whole)."""
        event = parse_line(line)
        if event is None:
            return []
        return self.feed_event(event)

    def _post(self, event: Event, commit: Commit, line: str | bytes) -> list[NormalisedPost]:
        """:meth:`ChatFilter._commit` on the typed shape, step for step; the line is
        decoded whole only for a post that joins the chat or is held."""
        did, rkey, rev = event.did, commit.rkey, commit.rev
        if not did or not rkey or rev is None or event.kind != "commit":
            return _NOTHING
        uri = "at://" + did + _POST_PATH + rkey
        operation = commit.operation
        if operation == "delete":
            return self._delete(uri, rev, event.time_us)
        record = commit.record
        if record is None or (operation != "create" and operation != "update"):
            return _NOTHING
        chat = self.chat
        if uri in chat:  # only the chat's posts (never taken out) have a version or deletion
            if uri in self._revs and rev <= self._revs[uri]:
                return _NOTHING  # a repeat, or older than what was kept
            if uri in self._gone and rev <= self._gone[uri]:
                return _NOTHING  # deleted after this version
            return self._admit(uri, rev, line)
        if (record.facets or record.tags is not None or "#" in record.text) and typed_carries_tag(
            record, self.tag, self._pattern
        ):
            return self._admit(uri, rev, line)
        reply = record.reply
        if reply is not None:
            parent, root = reply.parent, reply.root
            found = targets(parent.uri if parent else None, root.uri if root else None)
            for target in found:
                if target in chat:
                    return self._admit(uri, rev, line)
        else:
            found = ()
        if operation == "update":
            found = (*found, uri)  # an edit waits for its post to join the chat
        if found:  # a reply waits for the post it answers
            self._hold(uri, rev, line, found, event.time_us)
        return _NOTHING

    def _as_json(self, held: Held) -> dict[str, Any] | None:
        if type(held) is dict:
            return held
        return parse_line(held)  # type: ignore[arg-type]


__all__ = ["HOLD_US", "POST", "JetstreamFilter", "carries_tag", "parse_line"]
