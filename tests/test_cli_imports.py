"""Starting ``chatbot`` imports no database, network or web library: the command does.

Every command's options and ``--help`` are built when the program starts, so
what the command modules import at the top is paid by every command, a
mistyped one included. The heavy libraries (the ORM, both network clients,
the scheduler, the web and template stacks) come in only with the command
that needs them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "sqlalchemy", "sqlmodel", "atproto", "mastodon", "apscheduler", "jinja2", "starlette",
    "uvicorn", "networkx", "msgspec", "httpx", "chatbot.db", "chatbot.models",
    "chatbot.platforms", "chatbot.collect", "chatbot.bot.scheduler", "chatbot.recap",
    "chatbot.demo", "chatbot.sandbox",
)  # fmt: skip


def _imported_by(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.splitlines()[-1])
    return sorted(
        name for name in modules if any(name == h or name.startswith(h + ".") for h in HEAVY)
    )


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    assert _imported_by("import chatbot.cli") == []


def test_help_of_every_command_needs_none_of_them() -> None:
    code = (
        "from click.testing import CliRunner\n"
        "from chatbot.cli import cli\n"
        "for name in cli.commands:\n"
        "    CliRunner().invoke(cli, [name, '--help'])\n"
    )
    assert _imported_by(code) == []


def test_a_command_brings_what_it_needs() -> None:
    # The probe sees the libraries at all: `chatbot events` reads the database.
    code = "from click.testing import CliRunner\nfrom chatbot.cli import cli\n"
    code += "CliRunner().invoke(cli, ['events', '--database-url', 'sqlite://'])\n"
    assert "sqlalchemy" in _imported_by(code)
