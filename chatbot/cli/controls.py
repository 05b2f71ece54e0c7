"""Live controls from another terminal: chatbot status, pause, resume, skip, delay, post-now."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import click

from chatbot.cli.group import CONTEXT_SETTINGS, cli
from chatbot.cli.jsonout import emit
from chatbot.cli.options import clock_option, database_url_option, json_option, make_clock

if TYPE_CHECKING:
    from chatbot.bot.controls import ControlReport

_event = click.argument("event")


@cli.command("status")
@_event
@database_url_option
@clock_option
@json_option
def status_command(event: str, database_url: str, clock: str, as_json: bool) -> None:
    """Show every post of EVENT: due time in the event's zone, state and link per network.

    EVENT is an event id, a hashtag (#sm35 or sm35: its running or next
    event, else its latest) or TAG@YYYY-MM-DD (its chat starting that day).
    Then the posts and participants as the transcript and recap count them,
    and the coverage report: per network, server and source, the posts
    found (and those nothing else found), pages, requests, errors, closed
    feeds, the server's own daily tag counts, and what cannot be seen.

    \b
    Example:
        chatbot status sm35
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        # "now" picks a hashtag's running or next chat: the sandbox's now on a sandbox.
        report = controls.status(engine, event, now=make_clock(clock).now())
    if as_json:
        emit(report.as_dict())
    else:
        click.echo(report.summary())


@cli.command("pause")
@_event
@database_url_option
@clock_option
@json_option
def pause_command(event: str, database_url: str, clock: str, as_json: bool) -> None:
    """Stop posting EVENT's posts until chatbot resume (takes effect within 2 seconds).

    A post already being sent still goes out.

    \b
    Example:
        chatbot pause sm35
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        report = controls.pause(engine, event, now=make_clock(clock).now())
    _show(report, as_json)


@cli.command("resume")
@_event
@database_url_option
@clock_option
@json_option
def resume_command(event: str, database_url: str, clock: str, as_json: bool) -> None:
    """Post EVENT's posts again after chatbot pause.

    Each post that fell due during the pause goes out now, in order, or, when
    it is more than the late limit behind (the run's --late-limit, else the
    setting late_limit_seconds), is skipped now. The command names each, and
    how to post a skipped one after all.

    \b
    Example:
        chatbot resume sm35
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        report = controls.resume(engine, event, now=make_clock(clock).now())
    _show(report, as_json)


@cli.command("skip")
@_event
@click.argument("post")
@click.option(
    "--only", is_flag=True, help="Skip this post alone, not a question's reminder and follow-ups."
)
@database_url_option
@clock_option
@json_option
def skip_command(
    event: str, post: str, only: bool, database_url: str, clock: str, as_json: bool
) -> None:
    """Never post POST (a label such as Q3, welcome, wrapup or 'A3 reminder') of EVENT.

    A question takes its reminder and its follow-ups (Q3a, Q3b and theirs)
    with it, unless --only. A post already out on a network cannot be skipped
    there. chatbot post-now takes a skipped post back.

    \b
    Example:
        chatbot skip sm35 Q3
        chatbot skip sm35 'A3 reminder'
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        report = controls.skip(engine, event, post, now=make_clock(clock).now(), only=only)
    _show(report, as_json)


def _show(report: ControlReport, as_json: bool) -> None:
    if as_json:
        emit(report.as_dict())
    else:
        click.echo(report.summary())


MINUS = "\u2212"  # what "-5m" becomes before click reads options: not one, so an argument
NEGATIVE = re.compile(r"-\d\S*")


class _NegativeDurations(click.Command):
    """A command whose ``-5m`` is a negative duration, not the short options -5 and -m.

    (``-2h`` would otherwise print the help: click reads it as ``-2`` and ``-h``.)
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = [MINUS + arg[1:] if NEGATIVE.fullmatch(arg) else arg for arg in args]
        return super().parse_args(ctx, rest)


@cli.command("delay", cls=_NegativeDurations, context_settings=CONTEXT_SETTINGS)
@_event
@click.argument("duration")
@database_url_option
@clock_option
@json_option
def delay_command(event: str, duration: str, database_url: str, clock: str, as_json: bool) -> None:
    """Move every post of EVENT not yet sent DURATION later (e.g. 5m, 90s, 1h), or earlier (-5m).

    The collection window moves with the first and last posts. Posts never
    come forward into the past: that is refused, with how far they can come.
    Times are shown in the event's zone.

    \b
    Example:
        chatbot delay sm35 5m
        chatbot delay sm35 -2m
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    amount = controls.parse_delay(duration.replace(MINUS, "-", 1))
    with open_store(database_url) as engine:
        report = controls.delay(engine, event, amount, now=make_clock(clock).now())
    _show(report, as_json)


@cli.command("post-now")
@_event
@click.argument("post")
@database_url_option
@clock_option
@json_option
def post_now_command(event: str, post: str, database_url: str, clock: str, as_json: bool) -> None:
    """Post POST of EVENT now instead of at its time; takes a skipped post back.

    Posts go out in order: one before POST already due goes out just before
    it, and one not due yet is reason to refuse (skip it or post it first).
    On a paused event POST goes out at the resume.

    \b
    Example:
        chatbot post-now sm35 Q4
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        report = controls.post_now(engine, event, post, now=make_clock(clock).now())
    _show(report, as_json)


__all__ = [
    "delay_command",
    "pause_command",
    "post_now_command",
    "resume_command",
    "skip_command",
    "status_command",
]
