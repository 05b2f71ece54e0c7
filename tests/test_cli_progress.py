"""Progress bars: drawn on a terminal (a pseudo-terminal here), silent when stderr is piped.

Each command runs as a user would run it, in a process of its own, with its
stderr on a pty (stdout stays a pipe: the bar never mixes with the result).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.test_cli_json import IMPORT_CSV
from tests.test_cli_load import CHAT, QUESTIONS

ROOT = Path(__file__).resolve().parent.parent
BAR = "%"  # the bar's percentage: only ever drawn on a terminal


def run(args: list[str], env: dict[str, str], *, terminal: bool, cwd: Path) -> tuple[int, str, str]:
    """Run ``chatbot ARGS``: exit code, stdout, stderr (from a pty when ``terminal``)."""
    command = [sys.executable, "-m", "chatbot", *args]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "100", **env}
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=full_env, cwd=cwd,
                              timeout=300)  # fmt: skip
        return done.returncode, done.stdout, done.stderr
    main, side = pty.openpty()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=side, env=full_env, cwd=cwd)  # fmt: skip
    os.close(side)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.stdout is not None
    out = process.stdout.read().decode("utf-8")
    process.wait(60)
    return process.returncode, out, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def imported(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A database URL (as the environment gives it) and a CSV chat to import."""
    # Enough rows that the file takes several reads.
    rows = [IMPORT_CSV.rstrip("\n")]
    for n in range(3000):
        rows.append(f"{1000 + n},p{n % 40},2021-03-04T17:05:00Z,A1 answer {n} #tc,100")
    (tmp_path / "tc.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    yield {"CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "HOME": str(tmp_path)}


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_import_and_recap_show_a_bar_on_a_terminal_only(
    imported: dict[str, str], tmp_path: Path, terminal: bool
) -> None:
    args = ["import", "tc.csv", "--hashtag", "tc", "--host", "host"]
    code, out, err = run(args, imported, terminal=terminal, cwd=tmp_path)
    assert code == 0, err
    assert out.startswith("Imported #tc")  # the result on stdout, bar or not
    if terminal:
        assert "Importing tc.csv" in err and "100%" in err
    else:
        assert err == ""

    code, out, err = run(
        ["recap", "tc", "--out", "site"], imported, terminal=terminal, cwd=tmp_path
    )
    assert code == 0, err
    assert out.startswith("Wrote site/index.html")
    if terminal:
        assert "Writing the recap" in err and "100%" in err
    else:
        assert err == ""


def test_json_and_quiet_keep_the_terminal_clear(imported: dict[str, str], tmp_path: Path) -> None:
    args = ["import", "tc.csv", "--hashtag", "tc", "--host", "host", "--json"]
    code, out, err = run(args, imported, terminal=True, cwd=tmp_path)
    assert code == 0, err
    assert json.loads(out)["posts"] == 3003
    assert BAR not in err


@pytest.mark.slow
@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_a_collect_backfill_shows_a_bar_on_a_terminal_only(tmp_path: Path, terminal: bool) -> None:
    from chatbot.demo import sandbox_env
    from chatbot.sandbox.runner import Sandbox

    (tmp_path / "sm35.md").write_text(CHAT.format(questions=QUESTIONS), encoding="utf-8")
    # The sandbox's clock is hours after the chat: collecting it is a backfill.
    box = Sandbox(seed=1, virtual_start=datetime(2030, 12, 3, 20, 0, tzinfo=UTC)).start()
    try:
        env = {
            **sandbox_env(box),
            "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
            "HOME": str(tmp_path),
        }
        code, _, err = run(["load", "sm35.md", "--allow-past"], env, terminal=False, cwd=tmp_path)
        assert code == 0, err
        code, out, err = run(["collect", "sm35", "--once"], env, terminal=terminal, cwd=tmp_path)
    finally:
        box.stop()
    assert code == 0, err
    assert out.startswith("#sm35: ")  # the totals on stdout
    if terminal:
        assert "#sm35" in err and "100%" in err
    else:
        assert BAR not in err
