"""Many chats due at once, several bot processes, one PostgreSQL outbox.

Two measurements on a PostgreSQL server (the URL as the argument, or
``CHATBOT_TEST_POSTGRES_URL``), each in a fresh schema of its own:

1. **Claim cost** against the number of live events: L chats (10 questions
   each, both networks) whose welcomes are all due; the median time of one
   ``outbox.claim_next`` against one plain SQL claim (``UPDATE ... WHERE id =
   (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``) on the same rows.
2. **Scale-out**: N chats whose welcome, question and wrap-up fall due at the
   same instants (15 s apart), posted to a sandbox (rate limits off on both
   networks: one bot account posting for 400 chats would meet Mastodon's 300
   posts per 3 hours otherwise) by P real ``chatbot run --until-done --no-collect`` processes;
   lateness of the claims (``claimed_at - due_at``: the outbox's part) and
   of the posts (``posted_at - due_at``: with the sandbox's answer, one Python
   process serving every request), posts skipped as too late,
   duplicates on the networks, and the bot processes' CPU per post (read
   from /proc from the moment the posts are moved to fall due until the
   processes exit, start-up left out: the figure that hardly swings with the
   machine's load).  The baseline row of each N is P = 1, measured in the
   same run.

Usage: python benchmarks/bench_scaleout.py [URL] [--chats 10,100,400]
[--processes 1,2,4] [--live 10,100,400] [--only claims|scaleout]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.*

from sqlalchemy import Engine, text
from sqlmodel import Session, select

from chatbot.bot import outbox
from chatbot.bot.loading import load_event
from chatbot.db import create_engine_for, migrate
from chatbot.models import PostDelivery
from chatbot.sandbox.runner import Sandbox
from tests.factories import make_plan
from tests.postgres import postgres_schema
from tests.scheduler.conftest import bluesky_posts, mastodon_posts, sandbox_env

NETWORKS = ("bluesky", "mastodon")
SPACING = timedelta(seconds=15)
CLAIMS = 10  # claims timed per live-event count
RUN_TIMEOUT = float(os.environ.get("BENCH_RUN_TIMEOUT", "600"))  # real seconds
PYTHON = sys.executable

PLAIN_CLAIM = text(
    "UPDATE post_delivery SET state = 'posting', claimed_by = 'plain', claimed_at = :now "
    "WHERE id = (SELECT id FROM post_delivery WHERE network = 'bluesky' "
    "AND state = 'pending' AND due_at <= :now ORDER BY due_at LIMIT 1 "
    "FOR UPDATE SKIP LOCKED) RETURNING id"
)


def load_chats(engine: Engine, count: int, start: datetime, questions: int, prefix: str) -> None:
    for n in range(count):
        tag = f"{prefix}{n}"
        plan = make_plan(
            hashtag=tag, start=start, questions=questions, spacing=SPACING,
            networks=NETWORKS, path=f"questions/{tag}.md",
        )  # fmt: skip
        load_event(engine, plan, source_path=f"/chats/{tag}.md")


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the sorted ``values`` lie (nan if none)."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * fraction))]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


# --- 1. claim cost ------------------------------------------------------------


def claim_cost(base: str, live: int) -> tuple[float, float]:
    """(plain SQL claim ms, outbox claim ms) with ``live`` chats, every welcome due."""
    now = datetime.now(UTC)
    with postgres_schema(base, "bench") as url:
        engine = create_engine_for(url)
        try:
            migrate(engine)
            load_chats(engine, live, now - timedelta(minutes=1), 10, "live")
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
            plain: list[float] = []
            for _ in range(CLAIMS):
                with engine.connect() as connection:
                    began = time.perf_counter()
                    with connection.begin() as transaction:
                        assert connection.execute(PLAIN_CLAIM, {"now": now}).first()
                        took = time.perf_counter() - began
                        transaction.rollback()  # the same rows for the next one
                plain.append(took)
            ours: list[float] = []
            for n in range(CLAIMS):
                began = time.perf_counter()
                result = outbox.claim_next(
                    engine, "bluesky", now=now, worker=f"b{n}", lease=timedelta(minutes=5),
                    late_limit=timedelta(minutes=10),
                )  # fmt: skip
                ours.append(time.perf_counter() - began)
                assert result.claim is not None
        finally:
            engine.dispose()
    return median_ms(plain), median_ms(ours)


def report_claims(base: str, counts: list[int]) -> None:
    print("## Claim cost against live events (median of", CLAIMS, "claims)\n")
    print("| live events | plain SQL claim ms | claim_next ms | claim / plain | claim / first |")
    print("| --- | --- | --- | --- | --- |")
    first = None
    for live in counts:
        plain, ours = claim_cost(base, live)
        first = first or ours
        print(
            f"| {live} | {plain:.2f} | {ours:.2f} | {ours / plain:.1f}x | {ours / first:.2f}x |",
            flush=True,
        )
    print()


# --- 2. scale-out -------------------------------------------------------------


def move_to(engine: Engine, planned: datetime, start: datetime) -> None:
    """Move every post by ``start - planned`` (a benchmark's setup, in one statement each)."""
    shift = start - planned
    with engine.begin() as connection:
        for table in ("post_delivery", "scheduled_post"):
            connection.execute(
                text(f"UPDATE {table} SET due_at = due_at + :shift"), {"shift": shift}
            )


def wait_or_tell(runner: subprocess.Popen[bytes], log: Path, engine: Engine) -> int:
    """The process's exit code; if it runs too long, what it and the outbox say."""
    try:
        return runner.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        with Session(engine) as session:
            states = Counter(d.state for d in session.exec(select(PostDelivery)))
        print(f"still running after {RUN_TIMEOUT} s; outbox {dict(states)}; its log ends:")
        print("\n".join(log.read_text().splitlines()[-15:]), flush=True)
        raise


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a running process has used, from /proc; None if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """The CPU the bot processes use from :meth:`start` until they exit.

    Read from /proc every 50 ms (a process's last reading before it exits
    counts), so the processes' start-up (imports, logins) is left out: the
    figure is what the posting instants and the waits between them cost, and
    unlike lateness it hardly depends on what else the machine is doing.
    """

    def __init__(self, runners: list[subprocess.Popen[bytes]]):
        self.runners = runners
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        for runner in self.runners:
            self.first[runner.pid] = self.last[runner.pid] = process_cpu(runner.pid) or 0.0
        self._thread.start()

    def _watch(self) -> None:
        while any(runner.poll() is None for runner in self.runners):
            for runner in self.runners:
                used = process_cpu(runner.pid)
                if used is not None:
                    self.last[runner.pid] = used
            time.sleep(0.05)

    def seconds(self) -> float:
        self._thread.join(timeout=5)
        return sum(self.last[pid] - self.first[pid] for pid in self.first)


def start_runner(env: dict[str, str], log: Path, tmp: Path) -> subprocess.Popen[bytes]:
    """``chatbot run`` over every live event, as a process of its own."""
    return subprocess.Popen(
        [PYTHON, "-m", "chatbot", "run", "--until-done", "--no-collect"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=tmp,
    )  # fmt: skip


def scaleout(base: str, chats: int, processes: int, tmp: Path) -> dict[str, float]:
    """Run ``processes`` bot processes over ``chats`` chats due together; the figures."""
    with postgres_schema(base, "bench") as url, Sandbox(seed=19, rate_limits=False) as box:
        engine = create_engine_for(url)
        try:
            migrate(engine)
            # Loaded an hour ahead; once every process runs, moved to fall due together.
            planned = box.clock.now() + timedelta(hours=1)
            load_chats(engine, chats, planned, 1, "sc")
            env = sandbox_env(box, url, tmp)
            logs = [tmp / f"run{n}.log" for n in range(processes)]
            runners = [start_runner(env, log, tmp) for log in logs]
            try:
                deadline = time.monotonic() + 120
                while not all("Running" in log.read_text() for log in logs):
                    if time.monotonic() > deadline or any(r.poll() is not None for r in runners):
                        raise RuntimeError("a bot process did not start: see " + str(logs))
                    time.sleep(0.1)
                time.sleep(1.0)  # past the warm-up's logins
                cpu = CpuWatch(runners)
                cpu.start()
                move_to(engine, planned, box.clock.now() + timedelta(seconds=2))
                codes = [
                    wait_or_tell(runner, log, engine)
                    for runner, log in zip(runners, logs, strict=True)
                ]
            finally:
                for runner in runners:
                    if runner.poll() is None:
                        runner.kill()
            bot_cpu = cpu.seconds()
            started = all("Running" in log.read_text() for log in logs)
            with Session(engine) as session:
                rows = list(session.exec(select(PostDelivery)))
            blue, masto = bluesky_posts(box), mastodon_posts(box)
        finally:
            engine.dispose()
    lateness = sorted(
        (d.posted_at - d.due_at).total_seconds() for d in rows if d.posted_at is not None
    )
    claimed = sorted(
        (d.claimed_at - d.due_at).total_seconds() for d in rows if d.claimed_at is not None
    )
    on_networks = len(blue.texts) + len(masto.texts)
    distinct = len(set(blue.texts)) + len({s["content"] for s in masto.raw})
    return {
        "posts": len(rows),
        "posted": len(lateness),
        "p50": statistics.median(lateness) if lateness else float("nan"),
        "p99": percentile(lateness, 0.99),
        "max": lateness[-1] if lateness else float("nan"),
        "claim p50": statistics.median(claimed) if claimed else float("nan"),
        "claim p99": percentile(claimed, 0.99),
        "skipped": sum(d.state == "skipped" for d in rows),
        "failed": sum(d.state == "failed" for d in rows),
        "duplicates": on_networks - distinct,
        "cpu ms/post": bot_cpu * 1000 / len(lateness) if lateness else float("nan"),
        "ok": float(codes == [0] * processes and started),
    }


def report_scaleout(base: str, chats: list[int], processes: list[int]) -> None:
    print("## Scale-out: chats due together, bot processes on one PostgreSQL outbox\n")
    print(
        "| chats | processes | posts | claimed p50 s | claimed p99 s | posted p50 s "
        "| posted p99 s | max s | skipped | failed | duplicates | posted p99 / 1 process "
        "| bot CPU ms/post |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for count in chats:
        baseline = None
        for p in processes:
            with tempfile.TemporaryDirectory() as tmp:
                got = scaleout(base, count, p, Path(tmp))
            baseline = baseline or got["p99"] or 1e-9
            note = "" if got["ok"] else " (a process failed)"
            print(
                f"| {count} | {p} | {got['posted']:.0f}/{got['posts']:.0f} | "
                f"{got['claim p50']:.2f} | {got['claim p99']:.2f} | {got['p50']:.2f} | "
                f"{got['p99']:.2f} | {got['max']:.2f} | {got['skipped']:.0f} | "
                f"{got['failed']:.0f} | {got['duplicates']:.0f} | "
                f"{got['p99'] / baseline:.2f}x{note} | {got['cpu ms/post']:.1f} |",
                flush=True,
            )
    print()


def numbers(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("CHATBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--live", type=numbers, default=[10, 100, 400])
    parser.add_argument("--chats", type=numbers, default=[10, 100, 400])
    parser.add_argument("--processes", type=numbers, default=[1, 2, 4])
    parser.add_argument("--only", choices=("claims", "scaleout"))
    args = parser.parse_args()
    if not args.url or not args.url.startswith("postgres"):
        print("a PostgreSQL URL is needed: pass it, or set CHATBOT_TEST_POSTGRES_URL")
        return 2
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} (2 cores shared with other work)\n")
    if args.only != "scaleout":
        report_claims(args.url, args.live)
    if args.only != "claims":
        report_scaleout(args.url, args.chats, args.processes)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
