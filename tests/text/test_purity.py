"""The network text rules stay pure: no CLI, storage, clients, platforms, bot or sandbox."""

from __future__ import annotations

from pathlib import Path

import chatbot.text
from tests.purity import forbidden_imports, modules_loaded_by

FORBIDDEN = (
    "click",
    "sqlmodel",
    "sqlalchemy",
    "atproto",
    "mastodon",
    "chatbot.platforms",
    "chatbot.sandbox",
    "chatbot.db",
    "chatbot.models",
    "chatbot.collect",
    "chatbot.bot",
)
PACKAGE = Path(chatbot.text.__file__).parent
MODULES = ["chatbot.text." + path.stem for path in sorted(PACKAGE.glob("*.py"))]


def test_no_forbidden_import_statements() -> None:
    assert forbidden_imports(PACKAGE, FORBIDDEN) == []


def test_importing_every_module_loads_none_of_them() -> None:
    for module in MODULES:
        assert modules_loaded_by(module, FORBIDDEN) == [], module
