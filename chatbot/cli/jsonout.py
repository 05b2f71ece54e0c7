"""``--json``: one JSON document on standard output, for a result and for an error alike.

Every command takes ``--json`` (a test walks the command tree). With it the
command prints exactly one JSON document on stdout and nothing else there:
progress, notes and the lines of long-running commands go to stderr. An error
prints ``{"error": {...}}`` on stdout (the text message still goes to stderr)
and exits with the error's code, 2 for bad input, so a script reads stdout
whatever happened and tells success by the exit status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from chatbot.errors import PlatformError, QuestionFileError, StorageError

F = TypeVar("F", bound=Callable[..., object])

JSON_META = "chatbot.json"  # ctx.meta key: --json was given (shared by nested contexts)
ARGV_META = "chatbot.argv"  # ctx.meta key: the arguments, for errors before --json is parsed

# Printed raw, C1 controls and bidirectional overrides could still steer a terminal that
# shows the JSON; as \u escapes they mean the same to every JSON reader.
_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_option(function: F) -> F:
    """``--json``: one JSON document on stdout instead of text, passed as ``as_json``."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        is_eager=True,  # remembered before other options are checked, so their errors are JSON
        callback=_remember,
        help="Print one JSON document on stdout instead of text (an error as "
        '{"error": {...}}, with the same exit code).',
    )(function)


def _remember(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[JSON_META] = True
    return value


def dumps(data: Any, indent: int | None = 2) -> str:
    """``data`` as JSON, UTF-8 kept, terminal controls escaped."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def emit(data: Any, indent: int | None = 2) -> None:
    """Print ``data`` as the command's one JSON document."""
    click.echo(dumps(data, indent))


def json_wanted(ctx: click.Context) -> bool:
    """Whether the command line asked for --json (also when parsing it failed first)."""
    if ctx.meta.get(JSON_META):
        return True
    argv: list[str] = ctx.meta.get(ARGV_META, [])
    before_dashes = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in before_dashes


def error_document(error: Exception, exit_code: int) -> dict[str, Any]:
    """The ``{"error": ...}`` document: kind, message, exit code and located problems."""
    message = error.format_message() if isinstance(error, click.ClickException) else str(error)
    if isinstance(error, StorageError):
        kind = "storage"
    elif isinstance(error, PlatformError):
        kind = "network"
    elif exit_code == 2:
        kind = "usage"
    else:
        kind = "error"
    problems = error.problems if isinstance(error, QuestionFileError) else []
    return {
        "error": {
            "kind": kind,
            "message": message,
            "exit_code": exit_code,
            "problems": [problem.as_dict() for problem in problems],
        }
    }


__all__ = [
    "ARGV_META",
    "JSON_META",
    "dumps",
    "emit",
    "error_document",
    "json_option",
    "json_wanted",
]
