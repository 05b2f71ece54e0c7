"""The firehose at ``/xrpc/com.atproto.sync.subscribeRepos``: commits as DAG-CBOR frames.

Every record created, updated or deleted on the sandbox PDS becomes one
``#commit`` message, framed as the real PDS and relay frame it: a DAG-CBOR
header ``{op: 1, t: "#commit"}`` followed by a DAG-CBOR body ``{seq, rebase,
tooBig, repo, commit, rev, since, blocks, ops, blobs, time}``. ``blocks`` is
a CAR (v1) holding the commit object and the record written; ``ops`` is one
``{action, path: "collection/rkey", cid}`` (no cid for a delete). ``seq``
counts from 1.

``cursor`` as on a PDS: the messages after that ``seq`` are replayed, then
live ones follow; no cursor means live only; a cursor past the newest
message gets an error frame ``FutureCursor`` and the connection is closed.
A cursor older than what is kept (:attr:`FirehoseOptions.keep`) gets
``#info OutdatedCursor`` and starts at the oldest message kept.

What it leaves out: the repo's Merkle search tree (no MST nodes in the CAR,
``prevData`` absent), signatures (the commit's ``sig`` is empty), ``#sync``,
``#identity`` and ``#account`` messages. A consumer that verifies repos
can't use it; one that reads records can.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libipld

from chatbot.sandbox.bluesky.model import StoredRecord
from chatbot.sandbox.bluesky.times import iso
from chatbot.sandbox.web import HttpError, WebSocketClosed, WebSocketSession

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.base import BlueskyBase

PATH = "/xrpc/com.atproto.sync.subscribeRepos"
_CID_PREFIX = bytes([0x01, 0x71, 0x12, 0x20])  # CIDv1, dag-cbor, sha2-256, 32 bytes
_WAIT = 0.05  # seconds the handler listens to the socket between looks at the log


@dataclass
class FirehoseOptions:
    """Faults and limits of the sandbox's firehose."""

    drop_after_events: int | None = None  # close each connection after sending this many
    drop_after_seconds: float | None = None  # ... or after this many real seconds
    keep: int | None = None  # messages kept for replay (None: all)


def block_cid(block: bytes) -> bytes:
    """The binary CID of a DAG-CBOR block (libipld encodes such bytes as a link)."""
    return _CID_PREFIX + hashlib.sha256(block).digest()


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def car(root: bytes, blocks: list[tuple[bytes, bytes]]) -> bytes:
    """A CAR v1: a header naming ``root``, then each (CID, block) with its length."""
    header = libipld.encode_dag_cbor({"version": 1, "roots": [root]})
    parts = [_varint(len(header)), header]
    for cid, block in blocks:
        parts += [_varint(len(cid) + len(block)), cid, block]
    return b"".join(parts)


def frame(header: dict[str, Any], body: dict[str, Any]) -> bytes:
    """One subscription frame: the DAG-CBOR header, then the DAG-CBOR body."""
    return libipld.encode_dag_cbor(header) + libipld.encode_dag_cbor(body)


def error_frame(error: str, message: str) -> bytes:
    return frame({"op": -1}, {"error": error, "message": message})


class FirehoseLog:
    """Every commit of the sandbox PDS in order, as firehose frames (index = seq - 1)."""

    def __init__(self, store: Any):
        self.store = store
        self.clock = store.clock
        self._lock = threading.Lock()
        self._frames: list[bytes] = []
        self._revs: dict[str, str] = {}  # repo -> rev of its last commit
        self.first = 1  # seq of the oldest message kept
        store.add_listener(self.record)

    def record(self, operation: str, stored: StoredRecord) -> None:
        """The store's listener: one commit with one operation."""
        rev = self.store.tids.next()
        path = f"{stored.collection}/{stored.rkey}"
        blocks: list[tuple[bytes, bytes]] = []
        op: dict[str, Any] = {"action": operation, "path": path, "cid": None}
        if operation != "delete":
            block = libipld.encode_dag_cbor(stored.value)
            record_cid = block_cid(block)
            op["cid"] = record_cid
            blocks.append((record_cid, block))
        with self._lock:
            since = self._revs.get(stored.did)
            self._revs[stored.did] = rev
            commit = {
                "did": stored.did,
                "version": 3,
                "data": op["cid"] or block_cid(path.encode()),
                "rev": rev,
                "prev": None,
                "sig": b"",
            }
            commit_block = libipld.encode_dag_cbor(commit)
            commit_cid = block_cid(commit_block)
            body = {
                "seq": self.first + len(self._frames),
                "rebase": False,
                "tooBig": False,
                "repo": stored.did,
                "commit": commit_cid,
                "rev": rev,
                "since": since,
                "blocks": car(commit_cid, [(commit_cid, commit_block), *blocks]),
                "ops": [op],
                "blobs": [],
                "time": iso(self.clock.now()),
            }
            self._frames.append(frame({"op": 1, "t": "#commit"}, body))

    def newest(self) -> int:
        """The seq of the newest message (0 before the first)."""
        with self._lock:
            return self.first + len(self._frames) - 1

    def since(self, seq: int) -> tuple[int, list[bytes]]:
        """(seq of the first, the messages) after ``seq``, from the oldest kept on."""
        with self._lock:
            start = max(seq + 1, self.first)
            return start, self._frames[start - self.first :]

    def forget(self, keep: int) -> None:
        """Keep only the newest ``keep`` messages for replay."""
        with self._lock:
            extra = len(self._frames) - keep
            if extra > 0:
                del self._frames[:extra]
                self.first += extra


def _cursor(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise HttpError(400, "InvalidRequest", "cursor must be an integer") from None


def register(app: BlueskyBase, log: FirehoseLog, options: FirehoseOptions) -> None:
    """Serve ``log`` at :data:`PATH`; ``options`` is read at each connection."""

    def subscribe(session: WebSocketSession) -> None:
        cursor = _cursor(session.request.arg("cursor"))
        if options.keep is not None:
            log.forget(options.keep)
        session.accept()
        opened, sent = time.monotonic(), 0

        def send(data: bytes) -> None:
            nonlocal sent
            session.send(data)
            sent += 1
            if options.drop_after_events is not None and sent >= options.drop_after_events:
                raise _Drop()

        try:
            if cursor is not None and cursor > log.newest():
                session.send(error_frame("FutureCursor", "Cursor in the future."))
                session.close(1000)
                return
            position = log.newest() if cursor is None else cursor
            if cursor is not None and cursor + 1 < log.first:
                info = {"name": "OutdatedCursor", "message": "Requested cursor exceeded limit."}
                send(frame({"op": 1, "t": "#info"}, info))
            while not session.closing.is_set():
                start, fresh = log.since(position)
                for data in fresh:
                    send(data)
                position = start + len(fresh) - 1 if fresh else position
                seconds = options.drop_after_seconds
                if seconds is not None and time.monotonic() - opened >= seconds:
                    raise _Drop()
                session.receive(timeout=_WAIT)  # the client may have gone; also the pause
            session.close(1001)
        except _Drop:
            session.close(1011, "dropped by the sandbox")
        except WebSocketClosed:
            pass

    app.websocket(PATH, subscribe)


class _Drop(Exception):
    """The sandbox drops this connection now (a fault)."""


__all__ = [
    "PATH",
    "FirehoseLog",
    "FirehoseOptions",
    "block_cid",
    "car",
    "error_frame",
    "frame",
    "register",
]
