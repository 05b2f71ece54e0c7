"""docs/architecture.md stays the map of what exists: every package and module is in it."""

from __future__ import annotations

import re
from pathlib import Path

import chatbot

ROOT = Path(chatbot.__file__).resolve().parent
DOC = ROOT.parent / "docs" / "architecture.md"


def _modules_on_disk() -> set[str]:
    """``chatbot.X`` for every subpackage and top-level module of the package."""
    found = {f"chatbot.{path.stem}" for path in ROOT.glob("*.py") if path.stem != "__init__"}
    found |= {f"chatbot.{path.parent.name}" for path in ROOT.glob("*/__init__.py")}
    return found


def _layers_table() -> set[str]:
    """The modules the Layers table names (its rows between the header and the next heading)."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    return {name for row in rows for name in re.findall(r"`(chatbot\.[\w_]+)`", row)}


def test_every_package_and_module_is_on_the_map():
    missing = _modules_on_disk() - _layers_table()
    assert not missing, f"add these to the Layers table of {DOC.name}: {sorted(missing)}"


def test_the_map_names_nothing_that_is_gone():
    gone = _layers_table() - _modules_on_disk()
    assert not gone, f"{DOC.name} names modules that no longer exist: {sorted(gone)}"


def test_every_package_has_a_row_in_the_packages_table():
    text = DOC.read_text(encoding="utf-8").split("## Packages", 1)[1].split("\n## ", 1)[0]
    described = set(re.findall(r"^\| `(chatbot\.\w+)` \|", text, flags=re.M))
    packages = {f"chatbot.{path.parent.name}" for path in ROOT.glob("*/__init__.py")}
    assert packages - described == set(), f"describe in Packages: {sorted(packages - described)}"


def test_the_layers_in_the_doc_are_the_checked_ones():
    """The Layers table lists the same modules, in the same order, as the import-linter contract."""
    import tomllib

    config = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    checked = [
        sorted(f"chatbot.{m.strip()}" for m in layer.split("|")) for layer in contract["layers"]
    ]
    text = DOC.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`chatbot." in line]
    documented = [sorted(re.findall(r"`(chatbot\.[\w_]+)`", row.split("|")[2])) for row in rows]
    assert documented == checked
