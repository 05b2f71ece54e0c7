"""Jetstream's JSON events filtered down to one chat's posts: pure, and fast.

Jetstream (``/subscribe``) sends every commit of the network as one JSON text
message, ``{did, time_us, kind, commit: {rev, operation, collection, rkey,
record?, cid?}}``: the shape :class:`~chatbot.platforms.chatfilter.ChatFilter`
takes, which decides what belongs to the chat (and makes the outcome
independent of Jetstream's repeats and reordering). This module adds the
parsing, and the loop a live stream and the benchmark run over raw lines.
Events are parsed with orjson (the standard library for what orjson refuses);
anything malformed is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson

from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.chatfilter import HOLD_US, POST, ChatFilter, carries_tag


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
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            event = parse_line(line)
        if type(event) is not dict:
            return _NOTHING
        self.events += 1
        moment = event.get("time_us")
        if type(moment) is int and (self.cursor is None or moment > self.cursor):
            self._advance(moment)
        commit = event.get("commit")
        if type(commit) is dict and commit.get("collection") == POST:
            kept = self._commit(event, commit)
            if kept:
                return list(kept)
        return _NOTHING

    def feed_many(self, lines: Iterable[str | bytes]) -> list[NormalisedPost]:
        """:meth:`feed` for each line; the loop a live stream and the benchmark run."""
        found: list[NormalisedPost] = []
        loads, failed, commit_of = orjson.loads, orjson.JSONDecodeError, self._commit
        expiry, hold = self._expiry, self.hold_us
        cursor = -1 if self.cursor is None else self.cursor
        count = 0
        for line in lines:
            try:
                event = loads(line)
            except failed:
                event = parse_line(line)
            if type(event) is not dict:
                continue
            count += 1
            moment = event.get("time_us")
            if type(moment) is int and moment > cursor:
                cursor = self.cursor = moment
                if expiry and expiry[0][0] < moment - hold:
                    self._expire(moment - hold)
            commit = event.get("commit")
            if type(commit) is dict and commit.get("collection") == POST:
                kept = commit_of(event, commit)
                if kept:
                    found.extend(kept)
        self.events += count
        return found


__all__ = ["HOLD_US", "POST", "JetstreamFilter", "carries_tag", "parse_line"]
