"""Jetstream events filtered per second on one core, against a bare parse of the
same lines.

The lines are the real 152-event production capture
(``tests/fixtures/real/bluesky/jetstream_v1_capture.jsonl``) repeated, each
copy moved later in time by the capture's own span, so the stream moves on and
held replies expire as they would live. The filter looks for a chat's tag (one
real post carries it) and knows two of the capture's posts as the chat's (a
thread root whose replies follow, and a post that is deleted), so every path
runs. The baseline parses every line with the same JSON parser the filter uses
(msgspec's, each line decoded whole into dicts and lists) and keeps nothing; a
second baseline does the same with orjson, the parser the filter used before
it decoded into a typed shape (``chatbot.platforms.jetstream_shape``). Two
more rows run the live path, the stream's message handling as its receive loop
does it (the lock it shares with the collector's drains, the filter, the wake-
up when posts are kept): in batches of what has already arrived (a replay, a
busy stream: batches of up to 512), and one message at a time (a quiet stream,
where every message comes alone). Best of 5, CPU seconds.
"""

from __future__ import annotations

import gc
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import orjson

from chatbot.collect.jetstream import JetstreamStream
from chatbot.collect.socketstream import BATCH
from chatbot.platforms.jetstream import JetstreamFilter

CAPTURE = (
    Path(__file__).resolve().parent.parent
    / "tests/fixtures/real/bluesky/jetstream_v1_capture.jsonl"
)
CHAT = {
    "at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyospqk2i",
    "at://did:plc:4smmjsqf6l5jkzczvw6vsrqc/app.bsky.feed.post/3mpt73z3ejc2p",
}
TAG = "IndieRebellion"
_TIME = re.compile(rb'"time_us":(\d+)')


def stream(copies: int) -> list[bytes]:
    """The capture ``copies`` times over, each copy later by the capture's span."""
    lines = CAPTURE.read_bytes().splitlines()
    times = [int(m.group(1)) for line in lines if (m := _TIME.search(line))]
    span = max(times) - min(times) + 1
    out: list[bytes] = []
    for copy in range(copies):
        shift = copy * span

        def moved(match: re.Match[bytes], shift: int = shift) -> bytes:
            return b'"time_us":%d' % (int(match.group(1)) + shift)

        out.extend(_TIME.sub(moved, line, count=1) for line in lines)
    return out


def bare(lines: list[bytes]) -> None:
    loads = msgspec.json.Decoder().decode
    for line in lines:
        loads(line)


def bare_orjson(lines: list[bytes]) -> None:
    loads = orjson.loads
    for line in lines:
        loads(line)


def filtered(lines: list[bytes]) -> None:
    JetstreamFilter(TAG, set(CHAT)).feed_many(lines)


def _stream() -> JetstreamStream:
    stream = JetstreamStream(["ws://127.0.0.1:9"], TAG, set(CHAT))  # never started
    stream.on_arrival = threading.Event().set
    return stream


def live_batches(lines: list[bytes]) -> None:
    handle = _stream()._handle_batch
    for start in range(0, len(lines), BATCH):
        handle(lines[start : start + BATCH])  # type: ignore[arg-type]


def live_one_by_one(lines: list[bytes]) -> None:
    handle = _stream()._handle
    for line in lines:
        handle(line)


def best(
    steps: list[Callable[[list[bytes]], None]], lines: list[bytes], runs: int = 5
) -> list[float]:
    """Each step's best CPU time of ``runs``, the steps taking turns within each round (so a
    burst of load on the shared machine hits them alike, not one step's five runs)."""
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(runs):
        for step, spent in zip(steps, times, strict=True):
            gc.collect()
            cpu = time.process_time()
            step(lines)
            spent.append(time.process_time() - cpu)
    return [min(spent) for spent in times]


def posts_only(lines: list[bytes]) -> list[bytes]:
    """What ``wantedCollections=app.bsky.feed.post`` sends: post commits, identity, account."""
    return [line for line in lines if POST_COMMIT in line or b'"commit"' not in line]


POST_COMMIT = b'"collection":"app.bsky.feed.post"'


def measure(name: str, lines: list[bytes]) -> None:
    check = JetstreamFilter(TAG, set(CHAT))
    kept = check.feed_many(lines)
    steps = [bare, bare_orjson, filtered, live_batches, live_one_by_one]
    parse, parse_orjson, run, batches, one_by_one = best(steps, lines)
    count = len(lines)
    print(
        f"{name}: {count} events, {len(kept)} handed over, {check.held()} replies held at the end"
    )
    print(f"| bare parse (msgspec) | {parse:.3f} | {count / parse / 1000:.0f}k |")
    print(f"| bare parse (orjson) | {parse_orjson:.3f} | {count / parse_orjson / 1000:.0f}k |")
    print(f"| **filter** | **{run:.3f}** | **{count / run / 1000:.0f}k** |")
    for label, seconds in (("batches", batches), ("one at a time", one_by_one)):
        print(f"| live path, {label} | {seconds:.3f} | {count / seconds / 1000:.0f}k |")
    print(
        f"ratio to the bare parse: filter {run / parse:.2f}x, live path in batches "
        f"{batches / parse:.2f}x, one at a time {one_by_one / parse:.2f}x; "
        f"to orjson's bare parse: filter {run / parse_orjson:.2f}x"
    )
    print()


def main() -> int:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 700
    everything = stream(copies)
    measure(f"the whole stream ({copies} copies of the capture)", everything)
    posts = posts_only(stream(copies * 6))[: len(everything)]
    measure("posts only (wantedCollections=app.bsky.feed.post)", posts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
