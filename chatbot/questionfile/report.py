"""Collects every problem of one question file, in file order."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from chatbot.errors import Problem


class Report:
    """The problems found so far in one file; parsing goes on after each."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def error(self, line: int, column: int, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.path, max(line, 1), max(column, 1), message, hint))

    def note(self, line: int, column: int, message: str, hint: str = "") -> None:
        self.problems.append(
            Problem(self.path, max(line, 1), max(column, 1), message, hint, severity="note")
        )

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def sorted(self) -> list[Problem]:
        # Stable: problems on one line keep the order they were found in.
        return sorted(self.problems, key=lambda p: (p.line, p.column))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``' (did you mean "x"?)'`` for a close match, else ``''``."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return f' (did you mean "{lowered[word.lower()]}"?)'
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not matches:
        matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        matches = [lowered[m] for m in matches]
    return f' (did you mean "{matches[0]}"?)' if matches else ""
