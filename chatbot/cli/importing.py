"""The ``chatbot import`` command: a chat archived elsewhere becomes an event."""

from __future__ import annotations

import json
from pathlib import Path

import click

from chatbot.cli.group import cli
from chatbot.cli.options import database_url_option, json_option


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--hashtag", required=True, metavar="TAG", help="The chat's hashtag.")
@click.option("--host", required=True, metavar="HANDLE", help="Who posted the questions.")
@click.option(
    "--format", "fmt", type=click.Choice(["twarc", "csv"]),
    help="twarc JSONL (API v1.1 or v2) or a CSV (default: from the file name).",
)  # fmt: skip
@click.option("--title", help="The event's title (default: the hashtag).")
@database_url_option
@json_option
def import_command(
    file: Path,
    hashtag: str,
    host: str,
    fmt: str | None,
    title: str | None,
    database_url: str,
    as_json: bool,
) -> None:
    """Import FILE, a chat archived elsewhere, as an event (network "twitter").

    The host's numbered posts ("Q1 ...") become the questions; answers are
    attributed and spam flagged as for a chat the bot ran, and `chatbot
    transcript` exports it. A CSV has the columns id, author, created_at,
    text, in_reply_to_id. Importing again updates the same event.

    Example:

        chatbot import chat.jsonl --hashtag DocNowCommunity --host documentnow
    """
    from chatbot.db import open_store
    from chatbot.imports import import_file

    with open_store(database_url) as engine:
        report = import_file(engine, file, hashtag=hashtag, host=host, fmt=fmt, title=title)
    if as_json:
        click.echo(json.dumps(report.__dict__, indent=2, default=list))
        return
    click.echo(
        f"Imported #{report.hashtag} (event {report.event_id}): {report.posts} posts "
        f"({report.new} new, {report.retweets} retweets skipped), "
        f"{len(report.questions)} questions, {report.spam} flagged as spam"
    )
