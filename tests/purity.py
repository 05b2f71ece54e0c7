"""Checks that a pure package imports no I/O: by its source, and by what importing it loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


def forbidden_imports(
    package: Path, forbidden: tuple[str, ...], *, skip: frozenset[str] = frozenset()
) -> list[str]:
    """``"file.py imports name"`` for each absolute import of a forbidden module."""
    found: list[str] = []
    for path in sorted(package.glob("*.py")):
        if path.name in skip:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.name} imports {name}" for name in names if name.startswith(forbidden)]
    return found


def modules_loaded_by(module: str, forbidden: tuple[str, ...]) -> list[str]:
    """The forbidden modules a fresh interpreter holds after ``import module``."""
    code = (
        f"import sys, {module}; "
        f"bad = [m for m in sys.modules if m.startswith({forbidden!r})]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [name for name in out.stdout.strip().split(",") if name]
