"""Click options shared by several commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from chatbot.db import DATABASE_URL_ENV, DEFAULT_DATABASE_URL

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


__all__ = ["database_url_option", "json_option"]
