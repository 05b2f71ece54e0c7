"""Firehose frames filtered per second on one core, against the SDK's bare decoding of them.

The frames are the real 152-event Jetstream capture's commits re-encoded as
``subscribeRepos`` frames (DAG-CBOR header and body, a CAR of the record;
``tests/platforms/test_firehose.py`` makes them), repeated. The chat is the
one ``bench_jetstream.py`` looks for. The baseline is what the SDK's client
does with every frame before handing it over (``Frame.from_bytes``: both
CBOR parts decoded); the filter adds, for frames that touch a post, the
SDK's message model, the CAR and the chat filter. Best of 5, CPU seconds.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable

from atproto_subscription.frames import Frame

from benchmarks.bench_jetstream import CHAT, TAG
from chatbot.platforms.firehose import FirehoseFilter
from tests.platforms.test_firehose import EVENTS, commit_frame


def frames(copies: int) -> list[bytes]:
    out: list[bytes] = []
    seq = 0
    for _ in range(copies):
        for event in EVENTS:
            seq += 1
            data = commit_frame(event, seq)
            if data is not None:
                out.append(data)
    return out


def bare(data: list[bytes]) -> None:
    decode = Frame.from_bytes
    for item in data:
        decode(item)


def filtered(data: list[bytes]) -> None:
    decode, feed = Frame.from_bytes, FirehoseFilter(TAG, set(CHAT)).feed_frame
    for item in data:
        feed(decode(item))


def best(step: Callable[[list[bytes]], None], data: list[bytes], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        cpu = time.process_time()
        step(data)
        times.append(time.process_time() - cpu)
    return min(times)


def main() -> int:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    data = frames(copies)
    check = FirehoseFilter(TAG, set(CHAT))
    kept = [post for item in data for post in check.feed_frame(Frame.from_bytes(item))]
    parse, run = best(bare, data), best(filtered, data)
    count = len(data)
    print(f"{count} frames ({copies} copies of the capture's commits), {len(kept)} handed over")
    print(f"| SDK frame decoding (bare) | {parse:.3f} | {count / parse / 1000:.0f}k |")
    print(f"| **decoding + filter** | **{run:.3f}** | **{count / run / 1000:.0f}k** |")
    print(f"ratio to the bare decoding: {run / parse:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
