"""Progress bars on a terminal, on stderr; nothing at all when stderr is not one.

Long commands (import, a collect backfill, a large recap) show a bar while
they work so a moderator knows they are not stuck. Piped or redirected, they
print no bar (a log should not fill with carriage returns), and ``--quiet``
or ``--json`` switch it off too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


def on_terminal() -> bool:
    """Whether stderr is a terminal a bar can redraw in place."""
    return sys.stderr.isatty()


class Bar:
    """A bar of ``length`` units; :meth:`to` moves it to an absolute position."""

    def __init__(self, label: str, length: int, *, show_pos: bool = False) -> None:
        self.length = max(length, 1)
        self._bar: Any = click.progressbar(
            length=self.length, label=label, file=sys.stderr, show_pos=show_pos, show_eta=True
        )
        self._bar.__enter__()

    def to(self, done: int, length: int | None = None) -> None:
        """Move to ``done`` of ``length`` (the bar's own length when not given)."""
        if length is not None and length > 0 and length != self.length:
            done = round(done * self.length / length)
        step = min(max(done, 0), self.length) - self._bar.pos
        if step > 0:
            self._bar.update(step)

    def close(self) -> None:
        self._bar.__exit__(None, None, None)


@contextmanager
def progress_bar(
    label: str, length: int, *, quiet: bool = False, show_pos: bool = False
) -> Iterator[Bar | None]:
    """A :class:`Bar` on a terminal, else None (callers skip their updates)."""
    if quiet or not on_terminal():
        yield None
        return
    bar = Bar(label, length, show_pos=show_pos)
    try:
        yield bar
    finally:
        bar.close()


__all__ = ["Bar", "on_terminal", "progress_bar"]
