"""The ``chatbot import`` command: a chat archived elsewhere becomes an event."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit
from chatbot.cli.options import FreeText, database_url_option, json_option
from chatbot.cli.progress import progress_bar
from chatbot.cli.stdio import STDIN_NAME, is_dash, stdin_copy
from chatbot.cli.stopping import StopRequested, leave, say, stop_signals

# Said when Ctrl-C or SIGTERM stops an import: it is one transaction, so nothing is half-done.
STOPPED = "Stopped: nothing was imported (an import is all or nothing); run the same command again."


@cli.command("import")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "--hashtag", required=True, metavar="TAG", type=FreeText(100), help="The chat's hashtag."
)
@click.option(
    "--host", required=True, metavar="HANDLE", type=FreeText(300),
    help="Who posted the questions.",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["twarc", "csv"]),
    help="twarc JSONL (API v1.1 or v2) or a CSV (default: from the file name, else its "
    "first character).",
)  # fmt: skip
@click.option("--title", type=FreeText(300), help="The event's title (default: the hashtag).")
@click.option(
    "--question", "questions", multiple=True, metavar="TWEET", type=FreeText(1000),
    help="In a chat whose host asks in plain words, a post that asks a question "
    "(id or address); repeat for each, they become Q1, Q2, ... in time order.",
)  # fmt: skip
@database_url_option
@json_option
def import_command(
    file: Path,
    hashtag: str,
    host: str,
    fmt: str | None,
    title: str | None,
    questions: tuple[str, ...],
    database_url: str,
    as_json: bool,
) -> None:
    """Import FILE, a chat archived elsewhere, as an event (network "twitter").

    The host's numbered posts ("Q1 ...") become the questions, or, where the
    host asked in plain words, the posts named with --question; answers are
    attributed and spam flagged as for a chat the bot ran, and `chatbot
    transcript` exports it. A CSV has the columns id, author, created_at,
    text, in_reply_to_id, and optionally lang, urls (space-separated) and
    quoted_id. Importing again updates the same event. FILE - reads
    standard input (an event of its own, "<stdin>"). On a terminal a bar
    shows how much of the file is stored. Ctrl-C or SIGTERM stops at once
    and leaves the database as it was (exit 130 or 143).

    \b
    Examples:
        chatbot import chat.jsonl --hashtag DocNowCommunity --host documentnow
        chatbot import day.csv --hashtag PSTweetChat --host JeffHicks \\
            --question 1489660745918914561 --question 1489665608090271753
    """
    from chatbot.db import open_store
    from chatbot.imports import import_file

    with stop_signals(STOPPED):
        try:
            with ExitStack() as stack:  # unwound (rolled back) before a stop leaves
                name = str(file)
                if is_dash(file):
                    file, name = stack.enter_context(stdin_copy()), STDIN_NAME
                engine = stack.enter_context(open_store(database_url))
                size = file.stat().st_size
                bar = stack.enter_context(progress_bar(f"Importing {name}", size, quiet=as_json))
                report = import_file(
                    engine, file, hashtag=hashtag, host=host, fmt=fmt, title=title,
                    question_posts=questions, name=name, progress=bar.to if bar else None,
                )  # fmt: skip
        except StopRequested as stop:
            say(STOPPED)
            leave(128 + stop.number)
    # Committed: from here a signal ends the process as usual, and loses nothing.
    if as_json:
        emit(report.__dict__)
        return
    click.echo(
        f"Imported #{report.hashtag} (event {report.event_id}): {report.posts} posts "
        f"({report.new} new, {report.retweets} retweets skipped), "
        f"{len(report.questions)} questions, {report.spam} flagged as spam"
    )
