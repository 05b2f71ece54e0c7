"""Click options shared by several commands, defined once."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

from chatbot.cli.jsonout import json_option
from chatbot.clock import CLOCK_ENV, Clock
from chatbot.defaults import DATABASE_URL_ENV, DEFAULT_DATABASE_URL
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


def live_option(function: F) -> F:
    """``--live jetstream|firehose|both``: Bluesky's live sources, passed as ``live``."""
    return click.option(
        "--live",
        type=click.Choice(["jetstream", "firehose", "both"]),
        metavar="SOURCES",
        help="Bluesky's live sources between polls: jetstream, firehose (the relay's) or "
        "both. Stored with the event; default: the event's, else setting bluesky_live.",
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


class FreeText(click.ParamType[str]):
    """Text a user types that is stored or shown: at most ``limit`` characters, one line.

    A title of megabytes or a NUL (which PostgreSQL refuses in text) is a usage
    error naming the option, never a failure deep in the database.
    """

    name = "TEXT"

    def __init__(self, limit: int):
        self.limit = limit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        what = param.opts[0] if param is not None and param.opts else "the text"
        if len(text) > self.limit:
            raise click.UsageError(
                f"{what} is {len(text):,} characters long; at most {self.limit:,}", ctx
            )
        bad = next((c for c in text if ord(c) < 32 or 0x7F <= ord(c) < 0xA0), None)
        if bad is not None:
            raise click.UsageError(
                f"{what} holds the control character U+{ord(bad):04X}; give plain text on one line",
                ctx,
            )
        return text


class ProfileList(click.ParamType[str]):
    """Sandbox Mastodon server profiles, comma-separated (``mastodon,gotosocial``)."""

    name = "PROFILES"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from chatbot.sandbox.mastodon.profile import PROFILES

        names = [name.strip().lower() for name in str(value).split(",")]
        unknown = [name for name in names if name not in PROFILES]
        if unknown or not names:
            choices = ", ".join(sorted(PROFILES))
            self.fail(f"{value!r}: each profile must be one of {choices}", param, ctx)
        return ",".join(names)


def fediverse_options(instances: int) -> Callable[[F], F]:
    """``--mastodon-instances N``, ``--mastodon-profile``/``--profile``, ``--federation-delay``
    and ``--federation-loss`` for the sandbox's Mastodon instances (``instances`` by default)."""

    def decorate(function: F) -> F:
        for option in reversed(
            (
                click.option(
                    "--mastodon-instances",
                    type=click.IntRange(1, 20),
                    default=instances,
                    show_default=True,
                    help="How many sandbox Mastodon instances run, each its own server; the "
                    "bot's account is on the first, the crowd spreads over all.",
                ),
                click.option(
                    "--mastodon-profile",
                    "--profile",
                    "mastodon_profile",
                    type=ProfileList(),
                    default="mastodon",
                    show_default=True,
                    help="Which server each instance behaves like (ids, tag timeline, "
                    "streaming, rate limits): one profile for all, or one per instance, "
                    "e.g. mastodon,gotosocial.",
                ),
                click.option(
                    "--federation-delay",
                    type=FiniteFloatRange(0, 86400),
                    default=0.0,
                    show_default=True,
                    metavar="SECONDS",
                    help="Longest time (sandbox seconds) a status takes to reach another "
                    "instance; each delivery takes a seeded share of it.",
                ),
                click.option(
                    "--federation-loss",
                    type=FiniteFloatRange(0, 1),
                    default=0.0,
                    show_default=True,
                    metavar="SHARE",
                    help="Share of statuses that never reach a given other instance, 0..1 "
                    "(replies and mentions always reach whom they address).",
                ),
            )
        ):
            function = option(function)
        return function

    return decorate


__all__ = [
    "CLOCK_ENV",
    "FiniteFloatRange",
    "FreeText",
    "ProfileList",
    "clock_option",
    "database_url_option",
    "fediverse_options",
    "json_option",
    "live_option",
    "make_clock",
]
