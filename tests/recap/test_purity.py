"""The recap's rendering core stays pure: only source.py and publish.py touch the database."""

from __future__ import annotations

from pathlib import Path

import chatbot.recap
from tests.purity import forbidden_imports, modules_loaded_by

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
EDGES = frozenset({"source.py", "publish.py"})
PACKAGE = Path(chatbot.recap.__file__).parent


def test_pure_modules_import_no_io() -> None:
    assert forbidden_imports(PACKAGE, FORBIDDEN, skip=EDGES) == []


def test_importing_the_package_loads_none_of_them() -> None:
    assert modules_loaded_by("chatbot.recap", FORBIDDEN) == []
