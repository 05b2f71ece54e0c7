"""The ``chatbot events`` command: every chat in the store, one line each."""

from __future__ import annotations

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit
from chatbot.cli.options import database_url_option, json_option
from chatbot.defaults import EVENT_STATES


@cli.command("events")
@click.option(
    "--state", type=click.Choice(EVENT_STATES), default=None,
    help="Only the events in this state.",
)  # fmt: skip
@database_url_option
@json_option
def events_command(state: str | None, database_url: str, as_json: bool) -> None:
    """List every event in the database, the latest first.

    Each with its id (what every other command takes as EVENT), hashtag,
    start in its own time zone, state, the posts made of those planned (one
    per network), failed posts, and the posts collected.

    \b
    Example:
        chatbot events --state scheduled
    """
    from chatbot.bot.eventlist import list_events
    from chatbot.db import open_store

    with open_store(database_url) as engine:
        found = list_events(engine, state=state)
    if as_json:
        emit([event.as_dict() for event in found])
        return
    if not found:
        which = f"in state {state}" if state else "yet"
        click.echo(f"No events {which}: load a question file with `chatbot load FILE`.")
        return
    click.echo(f"{'id':>4}  {'hashtag':<20} {'start':<22} {'state':<9} {'posted':>9}  collected")
    for event in found:
        posted = f"{event.posted}/{event.deliveries}"
        failed = f" ({event.failed} failed)" if event.failed else ""
        tag = f"#{event.hashtag}"
        click.echo(
            f"{event.id:>4}  {tag:<20} {event.start_local:<22} {event.state:<9} "
            f"{posted:>9}  {event.collected}{failed}"
        )
