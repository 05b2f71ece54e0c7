"""The recap's rendering core stays pure: only source.py and publish.py touch the database."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import chatbot.recap

FORBIDDEN = (
    "click",
    "sqlmodel",
    "sqlalchemy",
    "atproto",
    "mastodon",
    "chatbot.db",
    "chatbot.models",
    "chatbot.platforms",
    "chatbot.sandbox",
    "chatbot.collect",
)
EDGES = {"source.py", "publish.py"}
PACKAGE = Path(chatbot.recap.__file__).parent


def test_pure_modules_import_no_io() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name in EDGES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"


def test_importing_the_package_loads_none_of_them() -> None:
    code = (
        "import sys, chatbot.recap; "
        f"bad = [m for m in sys.modules if m.startswith({FORBIDDEN!r})]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
