"""The transcript core stays pure: no CLI, storage, network clients or sandbox behind it."""

from __future__ import annotations

from pathlib import Path

import chatbot.transcript
from tests.purity import forbidden_imports, modules_loaded_by

FORBIDDEN = (
    "click",
    "sqlmodel",
    "sqlalchemy",
    "atproto",
    "mastodon",
    "chatbot.platforms",
    "chatbot.sandbox",
)
PACKAGE = Path(chatbot.transcript.__file__).parent


def test_no_forbidden_import_statements() -> None:
    assert forbidden_imports(PACKAGE, FORBIDDEN) == []


def test_importing_the_package_loads_none_of_them() -> None:
    assert modules_loaded_by("chatbot.transcript", FORBIDDEN) == []
