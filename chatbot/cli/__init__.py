"""The ``chatbot`` command line: thin click glue over the library.

Each command module registers its commands on :data:`cli` (built in
:mod:`chatbot.cli.group`, which turns :class:`chatbot.errors.ChatbotError`
into a message and an exit code, 2 for usage errors, never a traceback);
importing this package registers them all.
"""

from __future__ import annotations

import sys

from chatbot.cli import (  # noqa: F401  (imported to register their commands)
    collect,
    controls,
    demo,
    events,
    importing,
    live,
    load,
    login,
    questions,
    recap,
    review,
    run,
    sandbox,
    transcript,
)
from chatbot.cli.group import cli


def main() -> None:
    """Entry point of the ``chatbot`` console script."""
    cli(prog_name="chatbot")
    sys.exit(0)


__all__ = ["cli", "main"]
