"""Time and peak memory of ``chatbot import`` -> ``transcript`` -> ``recap`` on big archives.

A synthetic twarc JSONL archive (API v1.1 tweets, one a line) of N tweets:
a host asks Q1..Q12 ten minutes apart and wraps up; the crowd answers
("A3 ..."), replies to earlier tweets, quotes and mentions each other, and
some retweet (skipped by the import).  Each step runs as its own
``python -m chatbot`` process against a fresh SQLite file (or the PostgreSQL
URL given), and its wall time and peak RSS (``ru_maxrss`` of that process,
from ``wait4``) are set against a **bare parse** of the same file in the
same run: a process that reads the file and ``json.loads`` every line.

Usage: python benchmarks/bench_archive.py [--tweets 100000,1000000]
[--database-url URL] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.*

PYTHON = sys.executable
HASHTAG = "BigArchive"
HOST = "archivehost"
QUESTIONS = 12
GAP = timedelta(minutes=10)
START = datetime(2027, 3, 4, 18, 0, tzinfo=UTC)
PEOPLE = 20_000
SYLLABLES = ("ar", "chi", "ve", "re", "cor", "ds", "con", "sent", "tex", "to", "ols", "his")
# A few thousand made-up words beside the common ones, so that answers differ
# the way real ones do (not flagged as copies of each other).
WORDS = (
    *("archive", "records", "consent", "context", "tools", "history", "community"),
    *("we", "our", "the", "a", "of", "and", "to", "in", "is", "it", "for", "with"),
    *(a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES),
)
BARE_PARSE = (
    "import json, sys\n"
    "with open(sys.argv[1], encoding='utf-8') as handle:\n"
    "    for line in handle:\n"
    "        if line.strip():\n"
    "            json.loads(line)\n"
)


def _twitter_time(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _user(person: int) -> dict[str, Any]:
    name = HOST if person < 0 else f"person{person:05d}"
    return {
        "id_str": str(10_000 + max(person, -1) + 1),
        "screen_name": name,
        "name": name.title(),
        "followers_count": 100 + (person * 37) % 5000 if person >= 0 else 9000,
    }


def tweets(count: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """``count`` v1.1 tweet objects of one chat, in time order (retweets included)."""
    rng = random.Random(seed)
    span = GAP * (QUESTIONS + 1)
    step = span / count
    recent: list[str] = []
    asked = 0
    for index in range(count):
        when = START + step * index
        tweet_id = str(1_500_000_000_000_000_000 + index)
        due = START + GAP * asked
        if asked <= QUESTIONS and when >= due:
            asked += 1
            if asked <= QUESTIONS:
                text = f"Q{asked} What would you change first in archive number {asked}? #{HASHTAG}"
            else:
                text = f"That's a wrap! Thanks all for joining #{HASHTAG}"
            person = -1
            reply_to = None
        else:
            person = rng.randrange(PEOPLE)
            words = " ".join(rng.choices(WORDS, k=rng.randint(6, 30)))
            current = max(1, min(asked, QUESTIONS))
            reply_to = rng.choice(recent) if recent and rng.random() < 0.35 else None
            prefix = f"A{current} " if reply_to is None and rng.random() < 0.6 else ""
            text = f"{prefix}{words} #{HASHTAG}"
        data: dict[str, Any] = {
            "id_str": tweet_id,
            "created_at": _twitter_time(when),
            "full_text": text,
            "user": _user(person),
            "entities": {"hashtags": [{"text": HASHTAG}], "user_mentions": []},
            "lang": "en",
        }
        if reply_to:
            data["in_reply_to_status_id_str"] = reply_to
            data["in_reply_to_screen_name"] = "someone"
        if person >= 0 and rng.random() < 0.05:
            other = _user(rng.randrange(PEOPLE))["screen_name"]
            data["full_text"] = f"@{other} {data['full_text']}"
            data["entities"]["user_mentions"] = [{"screen_name": other}]
        if person >= 0 and rng.random() < 0.02 and recent:
            data["quoted_status_id_str"] = rng.choice(recent)
        if person >= 0 and rng.random() < 0.03 and recent:
            data = {
                "id_str": tweet_id,
                "created_at": data["created_at"],
                "full_text": "RT " + text,
                "user": data["user"],
                "retweeted_status": {"id_str": rng.choice(recent)},
            }
        recent.append(tweet_id)
        if len(recent) > 200:
            del recent[:100]
        yield data


def write_archive(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for data in tweets(count):
            handle.write(json.dumps(data, separators=(",", ":")) + "\n")


def measure(command: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process; fails loudly if the step fails."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command[:4])} failed: {err.decode()[-2000:]}")
    del out
    return seconds, usage.ru_maxrss / 1024


def run(count: int, database_url: str | None, keep: Path | None) -> list[tuple[str, float, float]]:
    """Bare parse, import, transcript, recap of a ``count``-tweet archive: (step, s, MB)."""
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    try:
        archive = work / "chat.jsonl"
        write_archive(archive, count)
        url = database_url or f"sqlite:///{work / 'store.db'}"
        env = {**os.environ, "CHATBOT_DATABASE_URL": url}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        chatbot = [PYTHON, "-m", "chatbot"]
        steps = [
            ("bare parse", [PYTHON, "-c", BARE_PARSE, str(archive)]),
            ("import", [*chatbot, "import", str(archive), "--hashtag", HASHTAG, "--host", HOST]),
            ("transcript", [*chatbot, "transcript", HASHTAG, "--out", str(work / "out")]),
            ("recap", [*chatbot, "recap", HASHTAG, "--out", str(work / "out")]),
        ]
        results = []
        for name, command in steps:
            seconds, peak = measure(command, env, work)
            results.append((name, seconds, peak))
            print(f"  {count:>9,} {name:<11} {seconds:8.1f} s {peak:8.0f} MB", flush=True)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(work / "out", keep / f"out-{count}", dirs_exist_ok=True)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tweets", default="100000", help="comma-separated archive sizes")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--keep", type=Path, help="copy the outputs here (for diffing)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.tweets.split(",")]
    url = args.database_url
    print(f"archives of {', '.join(f'{n:,}' for n in sizes)} tweets; database: {url or 'SQLite'}")
    table = []
    for count in sizes:
        if url:
            from tests.postgres import postgres_schema

            with postgres_schema(url) as schema_url:
                table.append((count, run(count, schema_url, args.keep)))
        else:
            table.append((count, run(count, None, args.keep)))
    print("\n| tweets | step | seconds | x bare parse | peak RSS MB | KB per tweet |")
    print("|---:|---|---:|---:|---:|---:|")
    for count, results in table:
        bare = results[0][1]
        for name, seconds, peak in results:
            print(
                f"| {count:,} | {name} | {seconds:.1f} | {seconds / bare:.1f} | {peak:.0f} "
                f"| {peak * 1024 / count:.2f} |"
            )


if __name__ == "__main__":
    main()
