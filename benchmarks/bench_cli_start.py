"""How long ``chatbot`` takes to start: every command pays it before doing anything.

Each case runs a real ``python -m chatbot ...`` process and measures the real
seconds until it exits; the baseline, measured in the same run, is a bare
``python -c pass`` (the interpreter's own start). Cases: ``--help``, a
command's ``--help``, ``chatbot check`` of the example question file (no
database), and ``chatbot events`` on an empty SQLite database (the ORM comes
in). Prints the median of each case and its ratio to the baseline.

Usage: python benchmarks/bench_cli_start.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seconds(args: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(args, env=env, cwd=ROOT, capture_output=True, check=True, timeout=120)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env["CHATBOT_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'chatbot.db'}"
        chatbot = [sys.executable, "-m", "chatbot"]
        cases = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "chatbot --help": [*chatbot, "--help"],
            "chatbot run --help": [*chatbot, "run", "--help"],
            "chatbot check questions/sm35.md": [*chatbot, "check", "questions/sm35.md"],
            "chatbot events (empty SQLite)": [*chatbot, "events"],
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(repeat):  # in turns, so a burst of load hits every case alike
            for name, args in cases.items():
                times[name].append(seconds(args, env))
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"load average {os.getloadavg()[0]:.1f}; median of {repeat} runs each")
    print("| case | median s | / baseline |")
    print("| --- | --- | --- |")
    for name, found in times.items():
        median = statistics.median(found)
        print(f"| {name} | {median:.3f} | {median / base:.1f}x |")


if __name__ == "__main__":
    main()
