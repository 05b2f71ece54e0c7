"""Ctrl-C or SIGTERM during ``chatbot import``: out at once, the database as it was.

An import is one transaction, so a stop mid-file leaves nothing half-imported
and running the same command again imports the whole file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatbot.cli.importing import STOPPED
from tests.test_cli_json import IMPORT_CSV

ROOT = Path(__file__).resolve().parent.parent
ROWS = 60_000  # enough that the file is still being read when the signal comes


def _reading(pid: int, name: str) -> bool:
    """True once process ``pid`` has read into the file called ``name`` (Linux's /proc)."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{fd}").endswith(name):
                    continue
                info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text(encoding="ascii")
            except OSError:
                continue  # closed meanwhile
            position = next(line for line in info.splitlines() if line.startswith("pos:"))
            if int(position.split()[1]) > 0:
                return True
    except FileNotFoundError:
        return False
    return False


def _events(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM event").fetchone()[0])


@pytest.mark.skipif(not Path("/proc/self/fdinfo").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_import_leaves_nothing_and_runs_again(tmp_path: Path, number: int) -> None:
    rows = [IMPORT_CSV.rstrip("\n")]
    answer = "{},p{},2021-03-04T17:05:00Z,A1 answer {} #tc,100"
    rows += [answer.format(1000 + n, n % 40, n) for n in range(ROWS)]
    (tmp_path / "big.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    database = tmp_path / "chat.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHATBOT_DATABASE_URL": f"sqlite:///{database}"}
    command = [sys.executable, "-m", "chatbot", "import", "big.csv", "--hashtag", "tc",
               "--host", "host"]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _reading(process.pid, "big.csv"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the import never started reading"
            time.sleep(0.01)
        process.send_signal(number)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 128 + number, (out, err)
    assert STOPPED in err and "Traceback" not in err, err
    assert out == ""
    assert _events(database) == 0  # nothing half-imported

    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"Imported #tc (event 1): {ROWS + 3} posts")
    assert _events(database) == 1
