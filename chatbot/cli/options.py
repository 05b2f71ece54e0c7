"""Click options shared by several commands, defined once."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

from chatbot.clock import Clock
from chatbot.db import DATABASE_URL_ENV, DEFAULT_DATABASE_URL
from chatbot.errors import UsageError

F = TypeVar("F", bound=Callable[..., object])


def database_url_option(function: F) -> F:
    """``--database-url URL`` (env ``CHATBOT_DATABASE_URL``), passed as ``database_url``."""
    return click.option(
        "--database-url",
        "database_url",
        envvar=DATABASE_URL_ENV,
        show_envvar=True,
        default=DEFAULT_DATABASE_URL,
        show_default=True,
        metavar="URL",
        help="Database to use: an SQLite file, or postgresql+psycopg://user@host/db.",
    )(function)


def json_option(function: F) -> F:
    """``--json``: print the result as JSON instead of text, passed as ``as_json``."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the result as JSON instead of text."
    )(function)


CLOCK_ENV = "CHATBOT_CLOCK"


def clock_option(function: F) -> F:
    """``--clock TEXT`` (env ``CHATBOT_CLOCK``), passed as ``clock``."""
    return click.option(
        "--clock",
        "clock",
        envvar=CLOCK_ENV,
        show_envvar=True,
        default="system",
        show_default=True,
        metavar="CLOCK",
        help="The clock to run on: 'system'; an accelerated sandbox clock string "
        "(GET /_sandbox/clock on a sandbox server); or 'file:<speed>:<path>', a clock "
        "read from a file that a rehearsal or a test moves by hand.",
    )(function)


def make_clock(text: str) -> Clock:
    """The clock a ``--clock`` string names; a bad one is a usage error."""
    from chatbot.clock import clock_from_string

    try:
        clock = clock_from_string(text)
        clock.now()  # a file clock whose file is missing or garbled fails here, not later
    except (ValueError, OSError, OverflowError) as error:
        raise UsageError(f"--clock {text!r}: {error}; use 'system' or a sandbox clock") from None
    return clock


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that refuses NaN and infinities, which pass its bounds unchecked."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number.", param, ctx)
        return number


__all__ = [
    "CLOCK_ENV",
    "FiniteFloatRange",
    "clock_option",
    "database_url_option",
    "json_option",
    "make_clock",
]
