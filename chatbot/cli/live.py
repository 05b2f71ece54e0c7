"""``chatbot live``: the moderator's live page of a chat, on 127.0.0.1."""

from __future__ import annotations

import sys
import threading
from datetime import timedelta

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit, json_option
from chatbot.cli.options import clock_option, database_url_option, make_clock
from chatbot.cli.stopping import STOP_GRACE, StopRequested, leave, stop_signals


@cli.command("live")
@click.argument("event")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="The port on 127.0.0.1 to serve on; 0 picks a free one.",
)
@database_url_option
@clock_option
@json_option
def live_command(event: str, port: int, database_url: str, clock: str, as_json: bool) -> None:
    """Serve a live page of EVENT for the moderator, on 127.0.0.1 only, until Ctrl-C.

    Open the address it prints (it carries a one-off access token): the
    clock in the event's zone, every post's state per network and a countdown
    to the next, the answers per question as they are collected, the counts
    per network, the spam and low-confidence queues, and buttons for pause,
    resume, skip, delay, post-now and hide that do what those commands do.
    Run it beside `chatbot run`, with the same --database-url and --clock.
    With --json, the address is printed as {"event_id": ..., "url": ...}
    once the page is up.

    \b
    Example:
        chatbot live sm35 --port 8035
    """
    from chatbot.config import resolve_settings
    from chatbot.db import open_store
    from chatbot.live import serve_live
    from chatbot.platforms import Platform, connect
    from chatbot.platforms.credentials import load_credentials

    def connector(network: str) -> Platform:
        return connect(network, load_credentials())

    late_limit = timedelta(seconds=float(resolve_settings()["late_limit_seconds"]))
    stop = threading.Event()
    with stop_signals() as signals:
        try:
            with open_store(database_url) as engine:
                server = serve_live(
                    engine, event, port=port, clock=make_clock(clock), late_limit=late_limit,
                    connect=connector,
                )  # fmt: skip
                if as_json:
                    emit({"event_id": server.event_id, "url": server.url})
                else:
                    click.echo(f"Live page of event {server.event_id}: {server.url}")
                click.echo("Open it in a browser on this machine; Ctrl-C stops.", err=as_json)
                sys.stdout.flush()
                signals.attach(stop.set)
                try:
                    server.wait(stop)
                finally:
                    # After a signal, open pages and an action stuck on a network get
                    # STOP_GRACE: every control writes the store before it calls a network.
                    server.stop(wait=STOP_GRACE if signals.requested else 5.0)
        except StopRequested:
            pass  # stopped while starting: nothing was served
    leave(0, promptly=signals.requested)


__all__ = ["live_command"]
