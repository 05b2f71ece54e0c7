"""Live controls from another terminal: chatbot status, pause, resume, skip, delay, post-now."""

from __future__ import annotations

import json
from datetime import timedelta

import click

from chatbot.cli.group import cli
from chatbot.cli.options import clock_option, database_url_option, json_option, make_clock

_event = click.argument("event")


def _late_limit() -> timedelta:
    from chatbot.config import resolve_settings

    return timedelta(seconds=float(resolve_settings()["late_limit_seconds"]))


@cli.command("status")
@_event
@database_url_option
@json_option
def status_command(event: str, database_url: str, as_json: bool) -> None:
    """Show every post of EVENT: due time in the event's zone, state and link per network.

    EVENT is an event id, a hashtag (#sm35 or sm35: its running or next
    event, else its latest) or TAG@YYYY-MM-DD (its chat starting that day).

    \b
    Example:
        chatbot status sm35
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        report = controls.status(engine, event)
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.summary())


@cli.command("pause")
@_event
@database_url_option
@clock_option
def pause_command(event: str, database_url: str, clock: str) -> None:
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
    click.echo(report.summary())


@cli.command("resume")
@_event
@database_url_option
@clock_option
def resume_command(event: str, database_url: str, clock: str) -> None:
    """Post EVENT's posts again after chatbot pause.

    Posts that fell due during the pause go out at once, in order; one more
    than the late limit behind is skipped (the command says so first).

    \b
    Example:
        chatbot resume sm35
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        report = controls.resume(
            engine, event, now=make_clock(clock).now(), late_limit=_late_limit()
        )
    click.echo(report.summary())


@cli.command("skip")
@_event
@click.argument("post")
@database_url_option
@clock_option
def skip_command(event: str, post: str, database_url: str, clock: str) -> None:
    """Never post POST (a label such as Q3, welcome or wrapup) of EVENT.

    A post already out on a network cannot be skipped there.

    \b
    Example:
        chatbot skip sm35 Q3
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        report = controls.skip(engine, event, post, now=make_clock(clock).now())
    click.echo(report.summary())


@cli.command("delay")
@_event
@click.argument("duration")
@database_url_option
@clock_option
def delay_command(event: str, duration: str, database_url: str, clock: str) -> None:
    """Move every post of EVENT not yet sent DURATION later (e.g. 5m, 90s, 1h).

    \b
    Example:
        chatbot delay sm35 5m
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    amount = controls.parse_delay(duration)
    with open_store(database_url) as engine:
        report = controls.delay(engine, event, amount, now=make_clock(clock).now())
    click.echo(report.summary())


@cli.command("post-now")
@_event
@click.argument("post")
@database_url_option
@clock_option
def post_now_command(event: str, post: str, database_url: str, clock: str) -> None:
    """Post POST of EVENT now instead of at its time (the posts before it must be out).

    \b
    Example:
        chatbot post-now sm35 Q4
    """
    from chatbot.bot import controls
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        report = controls.post_now(engine, event, post, now=make_clock(clock).now())
    click.echo(report.summary())


__all__ = [
    "delay_command",
    "pause_command",
    "post_now_command",
    "resume_command",
    "skip_command",
    "status_command",
]
