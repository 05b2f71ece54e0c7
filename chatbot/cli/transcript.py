"""The ``chatbot transcript`` and ``chatbot hide`` commands: exports and moderation."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit
from chatbot.cli.options import FreeText, clock_option, database_url_option, json_option, make_clock
from chatbot.cli.stdio import is_dash, stdout_taken, write_stdout
from chatbot.errors import UsageError

FORMAT_CHOICES = ("json", "jsonl", "md", "csv")


@cli.command("transcript")
@click.argument("event")
@click.option(
    "--format", "formats", multiple=True, type=click.Choice(FORMAT_CHOICES),
    help="Format to write (repeatable; default: all four).",
)  # fmt: skip
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write to (default: transcripts/<hashtag>-<date>/); - writes the one "
    "--format given on standard output.",
)  # fmt: skip
@click.option(
    "--anonymise-opted-out", is_flag=True,
    help="Keep opted-out participants' posts with their names and links removed.",
)  # fmt: skip
@click.option(
    "--review", is_flag=True,
    help="Keep spam and moderator-hidden posts, flagged, for review (not for publishing).",
)  # fmt: skip
@clock_option
@database_url_option
@json_option
def transcript_command(
    event: str,
    formats: tuple[str, ...],
    out_dir: Path | None,
    anonymise_opted_out: bool,
    review: bool,
    clock: str,
    database_url: str,
    as_json: bool,
) -> None:
    """Write EVENT's transcript: questions, answers and threads, as JSON, JSONL, Markdown, CSV.

    Deleted posts, posts of participants who opted out, unlisted or private
    posts and posts hidden by request never appear; spam and posts hidden by
    a moderator appear only with --review. The JSON format is described in
    docs/transcript-format.md. Says the files written and the count of posts
    and participants, the figures the recap and the archive show.

    Example:

        chatbot transcript sm35 --format md --format csv

        chatbot transcript sm35 --format json --out - | jq '.posts | length'
    """
    from chatbot.config import resolve_settings
    from chatbot.db import open_store
    from chatbot.export import ExportOptions, write_exports
    from chatbot.export.write import export_pieces

    options = ExportOptions(anonymise_opted_out=anonymise_opted_out, review=review)
    if is_dash(out_dir):
        stdout_taken("--out", as_json)
        if len(set(formats)) != 1:
            raise UsageError(
                "--out - writes one format on standard output: "
                f"give one --format ({', '.join(FORMAT_CHOICES)})"
            )
        with open_store(database_url) as engine:
            pieces = export_pieces(
                engine, event, formats[0], options=options, now=make_clock(clock).now()
            )
        write_stdout(pieces)
        return
    with open_store(database_url) as engine:
        exported = write_exports(
            engine,
            event,
            formats or FORMAT_CHOICES,
            out_dir=out_dir,
            base=str(resolve_settings()["transcripts_dir"]),
            options=options,
            now=make_clock(clock).now(),
        )
    if as_json:
        emit({"files": [str(path) for path in exported.files], "counts": exported.counts.as_dict()})
    else:
        for path in exported.files:
            click.echo(f"Wrote {path}")
        click.echo(exported.message())


@cli.command("hide")
@click.argument("event")
@click.argument("post")
@click.option(
    "--reason", required=True, type=FreeText(1000),
    help="Why it is hidden (kept with the post).",
)  # fmt: skip
@click.option("--by-request", is_flag=True, help="Its author asked: never shown, even in review.")
@click.option(
    "--no-threadgate", is_flag=True,
    help="Don't also hide it under the bot's own Bluesky post (threadgate).",
)  # fmt: skip
@clock_option
@database_url_option
@json_option
def hide_command(
    event: str,
    post: str,
    reason: str,
    by_request: bool,
    no_threadgate: bool,
    clock: str,
    database_url: str,
    as_json: bool,
) -> None:
    """Hide POST (its URL or URI) of EVENT from every transcript and recap.

    The post is kept in the database with the reason. A Bluesky reply in the
    thread of one of the bot's own posts is also added to that post's
    threadgate, so Bluesky apps hide it too (needs the bot's credentials).
    When Bluesky can't take it, the post is hidden from the exports all the
    same and the command says why and exits 1: run it again to set the
    threadgate.

    Example:

        chatbot hide sm35 https://bsky.app/profile/x.bsky.social/post/3kq --reason "spam link"
    """
    from chatbot.collect.hide import hide_post
    from chatbot.db import open_store
    from chatbot.platforms import Platform, connect
    from chatbot.platforms.credentials import load_credentials

    def connector(network: str) -> Platform:
        return connect(network, load_credentials())

    with open_store(database_url) as engine:
        report = hide_post(
            engine,
            event,
            post,
            reason,
            by_request=by_request,
            connect=None if no_threadgate else connector,
            now=make_clock(clock).now(),
        )
    if as_json:
        emit(report.__dict__)
    else:
        click.echo(report.message())
    if report.threadgate_error is not None:
        sys.exit(1)  # hidden in the transcript, not yet on Bluesky: scripts must see it


__all__ = ["hide_command", "transcript_command"]
