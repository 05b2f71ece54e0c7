"""The ``chatbot load`` command: store a question file's event in the database."""

from __future__ import annotations

from pathlib import Path

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit
from chatbot.cli.options import database_url_option, json_option
from chatbot.cli.stdio import STDIN_NAME, is_dash, read_stdin


@cli.command("load")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "--start",
    metavar="TIME",
    help="Start at another time: an ISO time (naive = the event's time zone) "
    "or a delay from now such as +30s, +5m, +1h.",
)
@click.option(
    "--compress",
    type=float,
    default=1.0,
    show_default=True,
    metavar="N",
    help="Run the schedule N times faster (offsets from the start divided by N).",
)
@click.option("--allow-past", is_flag=True, help="Load even if posts would be due in the past.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@database_url_option
@json_option
def load_command(
    file: Path,
    start: str | None,
    compress: float,
    allow_past: bool,
    dry_run: bool,
    database_url: str,
    as_json: bool,
) -> None:
    """Store FILE's event and its scheduled posts in the database.

    Loading the same file again updates the posts not yet posted (text and
    time; new ones added, vanished ones removed) and keeps the ones already
    posted.  An event with the same hashtag and start loaded from another
    file is refused.  A file with problems changes nothing.  FILE - reads
    standard input (its images relative to the current folder); loading
    standard input again updates the event it loaded.

    Example:

        chatbot load questions/sm35.md --start +5m --compress 60
    """
    from chatbot.bot.loading import load_file

    data = read_stdin() if is_dash(file) else None
    report = load_file(
        STDIN_NAME if data is not None else file,
        data=data,
        database_url=database_url,
        start=start,
        compress=compress,
        allow_past=allow_past,
        dry_run=dry_run,
    )
    if as_json:
        emit(report.as_dict())
    else:
        click.echo(report.summary())
