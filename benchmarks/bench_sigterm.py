"""How long the long-running commands take to exit after SIGTERM, whatever the networks do.

Issue 16's promise: within 2 s, losing nothing. Each case starts a real
``python -m chatbot ...`` process against the sandbox, waits until it is busy
(a post in flight, or requests held by a server that never answers), sends
SIGTERM and measures the real seconds until the process has exited, and its
exit code. The baseline, measured in the same run, is ``chatbot run`` on
networks that answer, stopped while idle between posts: the other cases are
given as that time plus the extra, and as a ratio.

Usage: python benchmarks/bench_sigterm.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.*

from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.db import create_engine_for, migrate
from chatbot.models import PostDelivery
from chatbot.sandbox.faults import FaultSettings
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import HASHTAG, ROOT, load_chat, sandbox_env

Ready = Callable[[Sandbox, Engine, Path], bool]


def _states(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [d.state for d in session.exec(select(PostDelivery))]


def _wait(predicate: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the command never got busy")
        time.sleep(0.05)


def measure(
    args: list[str],
    *,
    faults: FaultSettings | None = None,
    ready: Ready,
    down: bool = False,
    start_in: timedelta = timedelta(0),
) -> tuple[float, int]:
    """Seconds from SIGTERM to exit, and the exit code, of ``chatbot ARGS``."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = f"sqlite:///{tmp / 'chatbot.db'}"
        engine = create_engine_for(url)
        migrate(engine)
        option = faults if faults is not None else 0.0
        box = Sandbox(seed=3, speed=60, faults={"bluesky": option, "mastodon": option}).start()
        try:
            load_chat(engine, box.clock.now() + start_in, questions=1)
            env = sandbox_env(box, url, tmp)
            if down:
                box.stop()
            log = tmp / "out.log"
            with log.open("w") as handle:
                process = subprocess.Popen(
                    [sys.executable, "-m", "chatbot", *args],
                    env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=str(ROOT),
                )  # fmt: skip
                try:
                    _wait(lambda: ready(box, engine, log) or process.poll() is not None)
                    sent = time.monotonic()
                    process.send_signal(signal.SIGTERM)
                    code = process.wait(timeout=120)
                    return time.monotonic() - sent, code
                finally:
                    if process.poll() is None:
                        process.kill()
                        process.wait()
        finally:
            box.stop()
            engine.dispose()


def _posting(box: Sandbox, engine: Engine, log: Path) -> bool:
    return "posting" in _states(engine) and _held(box)


def _held(box: Sandbox) -> bool:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{box.bluesky_url}/_sandbox/faults", timeout=5) as answer:
        counts = json.load(answer)["counts"]
    return any(name.startswith("hang_") for name in counts)


def _printed(text: str) -> Ready:
    return lambda box, engine, log: text in log.read_text(encoding="utf-8")


def _demo(args: list[str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
        env["PYTHONPATH"] = str(ROOT)
        log = Path(folder) / "out.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "chatbot", *args, "--out", str(Path(folder) / "out")],
                env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=str(ROOT),
            )  # fmt: skip
            _wait(lambda: "  posted  " in log.read_text(encoding="utf-8"))
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=120)
            return time.monotonic() - sent, code


def _serve() -> tuple[float, int]:
    """``chatbot sandbox serve`` holding three requests of a client (hang), signalled."""
    import json
    import threading
    import urllib.request

    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
        env["PYTHONPATH"] = str(ROOT)
        log = Path(folder) / "out.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "chatbot", "sandbox", "serve"],
                env=env, stdout=handle, stderr=subprocess.DEVNULL, cwd=str(ROOT),
            )  # fmt: skip
            _wait(lambda: '"bluesky"' in log.read_text(encoding="utf-8"))
            url = json.loads(log.read_text(encoding="utf-8").splitlines()[0])["bluesky"]["url"]
            body, kind = json.dumps({"hang": "request"}).encode(), "application/json"
            request = urllib.request.Request(f"{url}/_sandbox/faults", body)
            request.add_header("Content-Type", kind)
            urllib.request.urlopen(request, timeout=10).read()

            def held() -> None:
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(f"{url}/xrpc/com.atproto.server.describeServer")

            for _ in range(3):
                threading.Thread(target=held, daemon=True).start()
            time.sleep(1)
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=120)
            return time.monotonic() - sent, code


CASES: dict[str, Callable[[], tuple[float, int]]] = {
    "run, networks answering, idle (baseline)": lambda: measure(
        ["run", HASHTAG, "--no-collect"],
        ready=_printed("Running #"),
        start_in=timedelta(hours=1),
    ),
    "run, networks hang before answering, post in flight": lambda: measure(
        ["run", HASHTAG, "--late-limit", "1d"], faults=FaultSettings(hang="request"), ready=_posting
    ),
    "run, networks hang after posting, post in flight": lambda: measure(
        ["run", HASHTAG, "--late-limit", "1d"],
        faults=FaultSettings(hang="response"),
        ready=_posting,
    ),
    "run, networks drop every connection": lambda: measure(
        ["run", HASHTAG, "--late-limit", "1d"],
        faults=FaultSettings(unreachable=True),
        ready=_printed("retry in"),
    ),
    "run, networks gone (connection refused)": lambda: measure(
        ["run", HASHTAG, "--late-limit", "1d"], down=True, ready=_printed("Running #")
    ),
    "run, logging in to networks that hang": lambda: measure(
        ["run", HASHTAG, "--no-collect"],
        faults=FaultSettings(hang="request"),
        ready=lambda box, engine, log: _held(box),
        start_in=timedelta(hours=1),
    ),
    "collect (following), networks hang": lambda: measure(
        ["collect", HASHTAG],
        faults=FaultSettings(hang="request"),
        ready=lambda box, engine, log: _held(box),
    ),
    "live, page open": lambda: measure(["live", HASHTAG], ready=_printed("?token=")),
    "demo, chat running": lambda: _demo(["demo"]),
    "rehearse, chat running": lambda: _demo(["rehearse", "questions/sm35.md"]),
    "sandbox serve, requests held": _serve,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="run the cases whose name contains this")
    options = parser.parse_args()
    rows = []
    for name, case in CASES.items():
        if options.only and options.only not in name and "baseline" not in name:
            continue
        results = [case() for _ in range(options.repeat)]
        seconds = [s for s, _ in results]
        codes = sorted({c for _, c in results})
        rows.append((name, statistics.median(seconds), max(seconds), codes))
        print(f"{name}: median {rows[-1][1]:.2f} s, max {rows[-1][2]:.2f} s, exit {codes}")
    base = rows[0][1]
    print("\n| case | median s | max s | ratio to baseline | exit |")
    print("| --- | --- | --- | --- | --- |")
    for name, median, most, codes in rows:
        print(f"| {name} | {median:.2f} | {most:.2f} | {median / base:.1f} | {codes} |")


if __name__ == "__main__":
    main()
