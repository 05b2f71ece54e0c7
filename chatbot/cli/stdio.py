"""``-`` for standard input or output wherever a command reads or writes a file.

A file read from ``-`` is read from standard input once, whole, and named
``<stdin>`` in messages. A file written to ``-`` goes to standard output, and
then it is the only thing there: what the command would otherwise print on
stdout goes to stderr, and ``--json`` (which also wants stdout) is refused.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from chatbot.errors import UsageError

DASH = "-"
STDIN_NAME = "<stdin>"

_STDIN_META = "chatbot.stdin"  # ctx.meta key: standard input, once read (``check - -``)


def is_dash(value: str | Path | None) -> bool:
    """Whether a file argument is ``-``."""
    return value is not None and str(value) == DASH


def read_stdin() -> bytes:
    """Everything on standard input (the same bytes when asked again by the same command)."""
    meta = click.get_current_context().meta
    if _STDIN_META not in meta:
        if sys.stdin.isatty():
            click.echo("Reading standard input (end it with Ctrl-D)...", err=True)
        meta[_STDIN_META] = sys.stdin.buffer.read()
    data: bytes = meta[_STDIN_META]
    return data


@contextmanager
def stdin_copy() -> Iterator[Path]:
    """Standard input copied to a private temporary file (for readers that need a file:
    an import reads it twice and measures it), a chunk at a time; removed after."""
    with tempfile.TemporaryDirectory(prefix="chatbot-stdin-") as folder:
        path = Path(folder) / "stdin"
        with path.open("wb") as copy:
            shutil.copyfileobj(sys.stdin.buffer, copy, 1 << 20)
        yield path


def write_stdout(data: bytes | str | Iterable[bytes]) -> None:
    """Write a file's content (or its pieces) on standard output, as a file would hold it."""
    sys.stdout.flush()  # anything printed before goes first
    pieces = [data] if isinstance(data, bytes | str) else data
    for piece in pieces:
        sys.stdout.buffer.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
    sys.stdout.buffer.flush()


def stdout_taken(option: str, as_json: bool) -> None:
    """Refuse ``--json`` beside an output ``-``: both want standard output."""
    if as_json:
        raise UsageError(
            f"{option} - writes to standard output, where --json would print too; "
            "give one of them (or a file name to the other)"
        )


def not_dash(option: str, value: str | Path | None, what: str = "a folder") -> None:
    """Refuse ``-`` where only a path will do (a folder of several files, say)."""
    if is_dash(value):
        raise UsageError(f"{option} takes {what}, not - (standard output); give a path")


def say_to(output_is_stdout: bool) -> Callable[[str], None]:
    """Where the command's own lines go: stderr while stdout carries a file."""
    return lambda line: click.echo(line, err=output_is_stdout)


__all__ = [
    "DASH",
    "STDIN_NAME",
    "is_dash",
    "not_dash",
    "read_stdin",
    "say_to",
    "stdin_copy",
    "stdout_taken",
    "write_stdout",
]
