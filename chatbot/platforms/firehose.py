"""The relay firehose's commits (``com.atproto.sync.subscribeRepos``) as one chat's posts.

The firehose sends DAG-CBOR frames: a ``#commit`` names the repo (DID), its
new ``rev``, the stream's ``seq`` and ``time``, the operations
(``ops: [{action, path, cid}]``, ``path`` being ``collection/rkey``) and a CAR
of the blocks they wrote, the records among them. The atproto SDK decodes
the frame (``MessageFrame``), the message (``parse_subscribe_repos_message``)
and the CAR (``CAR.from_bytes``); :func:`post_events` turns each post
operation into a commit event in Jetstream's shape, so the one chat filter
(:class:`~chatbot.platforms.chatfilter.ChatFilter`) decides for both streams.

Most commits are likes, follows and reposts: a frame whose operations touch no
post is let go before its message or CAR is decoded. The stream's position is
``seq``, a number of the relay (or PDS) that sent it, not a time: a consumer
reconnects with ``cursor=<last seq>`` and gets every later message.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, MutableSet
from datetime import datetime
from typing import Any

import libipld
from atproto import CAR, models
from atproto_core.exceptions import AtProtocolError
from atproto_firehose import parse_subscribe_repos_message
from atproto_subscription.frames import MessageFrame

from chatbot.platforms.base import NormalisedPost
from chatbot.platforms.bluesky_uris import BLUESKY_WEB
from chatbot.platforms.chatfilter import HOLD_US, POST, ChatFilter, Held

COMMIT = "#commit"
_POST_PATH = POST + "/"


def _json_value(value: Any) -> Any:
    """A record decoded from DAG-CBOR in atproto's JSON form: links as ``{"$link": cid}``."""
    if type(value) is dict:
        return {key: _json_value(item) for key, item in value.items()}
    if type(value) is list:
        return [_json_value(item) for item in value]
    if isinstance(value, bytes):
        try:
            return {"$link": libipld.encode_cid(value)}
        except ValueError:
            return {"$bytes": base64.b64encode(value).decode("ascii").rstrip("=")}
    return value


def _micros(moment: str) -> int | None:
    try:
        return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp() * 1_000_000)
    except (ValueError, AttributeError):
        return None


def touches_posts(body: Any) -> bool:
    """True when a ``#commit`` body (still a plain dict) has an operation on a post."""
    ops = body.get("ops") if type(body) is dict else None
    if type(ops) is not list:
        return False
    for op in ops:
        path = op.get("path") if type(op) is dict else None
        if type(path) is str and path.startswith(_POST_PATH):
            return True
    return False


def post_events(commit: models.ComAtprotoSyncSubscribeRepos.Commit) -> list[dict[str, Any]]:
    """Each post operation of a commit as an event in Jetstream's shape (plus its ``seq``)."""
    events: list[dict[str, Any]] = []
    blocks: dict[Any, Any] | None = None
    moment = _micros(commit.time)
    for op in commit.ops:
        collection, _, rkey = op.path.partition("/")
        if collection != POST or not rkey:
            continue
        change: dict[str, Any] = {
            "rev": commit.rev,
            "operation": op.action,
            "collection": collection,
            "rkey": rkey,
        }
        if op.action != "delete":
            if op.cid is None:
                continue
            if blocks is None:
                blocks = CAR.from_bytes(commit.blocks).blocks if commit.blocks else {}
            record = blocks.get(op.cid)
            if type(record) is not dict:
                continue  # a commit too big to carry its records: search and threads find it
            change["record"] = record  # as decoded: made JSON only if the post joins the chat
            change["cid"] = str(op.cid)
        events.append(
            {
                "did": commit.repo,
                "time_us": moment,
                "kind": "commit",
                "commit": change,
                "seq": commit.seq,
                "source": "firehose",
            }
        )
    return events


class FirehoseFilter(ChatFilter):
    """Keeps one chat's posts from the firehose; call :meth:`feed_frame` with each frame.

    :attr:`seq` is the largest sequence number seen, the cursor to reconnect
    from (the firehose replays every message after it, in order).
    :attr:`outdated` is set when the server said the cursor was older than
    what it keeps (``#info OutdatedCursor``): what came between is missed,
    and search and threads must find it.
    """

    source = "firehose"

    def __init__(
        self,
        tag: str,
        chat: MutableSet[str] | Iterable[str] = (),
        *,
        web: str = BLUESKY_WEB,
        hold_us: int = HOLD_US,
    ):
        super().__init__(tag, chat, web=web, hold_us=hold_us)
        self.seq: int | None = None
        self.outdated = False
        self.frames = 0  # message frames fed
        self.malformed = 0  # commits whose message or CAR could not be read

    def _as_json(self, held: Held) -> dict[str, Any] | None:
        if type(held) is not dict:
            return None
        event: dict[str, Any] = held
        commit = event["commit"]
        if "record" in commit:  # once per joining version (the filter admits each once)
            commit["record"] = _json_value(commit["record"])  # links and bytes as JSON
        return event

    def feed_frame(self, frame: MessageFrame) -> list[NormalisedPost]:
        """The posts (and tombstones) one firehose message adds to the chat."""
        self.frames += 1
        body = frame.body
        seq = body.get("seq") if type(body) is dict else None
        if type(seq) is int and (self.seq is None or seq > self.seq):
            self.seq = seq
        kind = frame.type
        if kind == "#info" and type(body) is dict and body.get("name") == "OutdatedCursor":
            self.outdated = True
        if kind != COMMIT or not touches_posts(body):
            return []
        try:
            message = parse_subscribe_repos_message(frame)
            if not isinstance(message, models.ComAtprotoSyncSubscribeRepos.Commit):
                return []
            events = post_events(message)
        except (AtProtocolError, ValueError, RecursionError):
            self.malformed += 1  # the stream is untrusted: one bad frame is let go
            return []
        found: list[NormalisedPost] = []
        for event in events:
            found.extend(self.feed_event(event))
        return found


__all__ = ["COMMIT", "FirehoseFilter", "post_events", "touches_posts"]
