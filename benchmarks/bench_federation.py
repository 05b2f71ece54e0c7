"""What federation between sandbox Mastodon instances costs, against posting alone.

A busy chat's statuses (``--statuses``, replies among them) are posted on
instance 0 of ``--instances`` in-process stores on a manual clock, then
every delivery is made (each status becomes a remote copy on every other
instance, a reply's parent fetched where missing). The baseline is posting
the same statuses to a lone store, in the same run: the figure is how many
times that the whole fediverse takes, per status and per copy. Median of
``--repeat`` runs.

    .venv/bin/python benchmarks/bench_federation.py --statuses 2000 --instances 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from chatbot.clock import ManualClock
from chatbot.sandbox.mastodon.federation import Federation, FederationSettings
from chatbot.sandbox.mastodon.store import MastodonStore


def _post_all(store: MastodonStore, count: int) -> None:
    people = [store.create_account(f"p{n}")["id"] for n in range(20)]
    last: list[str] = []
    for n in range(count):
        parent = (
            last[-1 - n % min(5, len(last))] if n % 3 == 0 and last else None
        )  # a third are replies
        status = store.post(
            people[n % len(people)], f"A{n % 8} words {n} #bench", in_reply_to_id=parent
        )
        last.append(status.id)


def baseline(count: int) -> float:
    store = MastodonStore(clock=ManualClock(), base_url="http://i0.test")
    start = time.perf_counter()
    _post_all(store, count)
    return time.perf_counter() - start


def federated(count: int, instances: int) -> tuple[float, int]:
    clock = ManualClock()
    stores = [MastodonStore(clock=clock, base_url=f"http://i{n}.test") for n in range(instances)]
    federation = Federation(stores, clock, FederationSettings(delay=60, seed=1))
    start = time.perf_counter()
    _post_all(stores[0], count)
    clock.advance(seconds=61)
    delivered = federation.deliver_due()
    return time.perf_counter() - start, delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statuses", type=int, default=2000)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ratios, rows = [], []
    for _ in range(args.repeat):
        base = baseline(args.statuses)
        total, delivered = federated(args.statuses, args.instances)
        ratios.append(total / base)
        rows.append((base, total, delivered))
    base, total, delivered = sorted(rows, key=lambda row: row[1] / row[0])[len(rows) // 2]
    print(f"{args.statuses} statuses, {args.instances} instances, {delivered} deliveries")
    print(
        f"baseline (posting to a lone store): {base:.3f} s, {args.statuses / base:,.0f} statuses/s"
    )
    print(
        f"posting + federating:               {total:.3f} s, "
        f"{delivered / (total - base):,.0f} copies/s beyond posting"
    )
    print(f"ratio to the baseline (median of {args.repeat}): {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
