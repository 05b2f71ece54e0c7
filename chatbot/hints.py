"""The commands a message suggests, written so that they run as printed.

Every suggestion of a command with real values in it (an event id, a post
label, a duration) is built here: quoted for a POSIX shell (``A3 reminder``
becomes ``'A3 reminder'``) and set in backticks, so a reader can copy it and a
test can find every one in the output and run it (tests/test_hints.py).
"""

from __future__ import annotations

import re
import shlex

HINT = re.compile(r"`(chatbot [^`]+)`")


def command(*words: object) -> str:
    """```chatbot WORDS...``` quoted for a shell, e.g. ``command("skip", 1, "A3 reminder")``."""
    return "`" + shlex.join(["chatbot", *(str(word) for word in words)]) + "`"


PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]+$")  # FILE, EVENT, URL: a form to fill in, not a hint


def commands_in(text: str) -> list[list[str]]:
    """The arguments of every runnable command suggested in ``text`` (after ``chatbot``).

    A form with placeholders (```chatbot load FILE```) is not one, nor a
    command's bare name (```chatbot live```, as in "the address it printed").
    """
    found = [shlex.split(hint)[1:] for hint in HINT.findall(text)]
    return [
        words
        for words in found
        if len(words) > 1 and not any(PLACEHOLDER.match(word) for word in words)
    ]


__all__ = ["HINT", "PLACEHOLDER", "command", "commands_in"]
