"""The ``chatbot recap`` and ``chatbot archive`` commands: publishable static pages."""

from __future__ import annotations

from pathlib import Path

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit
from chatbot.cli.options import FreeText, clock_option, database_url_option, json_option, make_clock
from chatbot.cli.progress import progress_bar
from chatbot.cli.stdio import STDIN_NAME, is_dash, not_dash, read_stdin
from chatbot.defaults import OUTPUT_DIR as DEFAULT_OUT
from chatbot.defaults import RECAP_SPLIT_AT as DEFAULT_SPLIT_AT

_templates = click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Folder of templates that override the built-in ones (same names, e.g. recap.css).",
)


@cli.command("recap")
@click.argument("event", required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where to write index.html (default: transcripts/<hashtag>-<date>/).",
)
@click.option(
    "--transcript",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    metavar="FILE",
    help="Render this transcript JSON (from `chatbot transcript`; - reads standard input) "
    "instead of the database's.",
)
@click.option(
    "--split-at",
    type=click.IntRange(1, None),
    default=DEFAULT_SPLIT_AT,
    show_default=True,
    metavar="N",
    help="Past N posts, each question's answers get pages of their own (never over 1 MB each).",
)
@click.option(
    "--url",
    "site_url",
    metavar="URL",
    type=FreeText(2000),
    help=(
        "Where the recap will be published (https://...), so link previews find its image "
        "(default: the address given to `chatbot run --recap-url`)."
    ),
)
@_templates
@clock_option
@database_url_option
@json_option
def recap_command(
    event: str | None,
    out_dir: Path | None,
    transcript: Path | None,
    split_at: int,
    site_url: str | None,
    templates: Path | None,
    clock: str,
    database_url: str,
    as_json: bool,
) -> None:
    """Write the recap page of EVENT: figures, threads per question, timeline.

    EVENT is an event id, a hashtag (its chat running now, else its most
    recent, else its next) or TAG@YYYY-MM-DD (its chat starting that day).
    The page is self-contained static HTML (no script, no request to any
    other host) that organizers can publish as it is.  Deleted posts,
    hidden posts and people who opted out are left out.  On a terminal a
    bar shows its steps.

    Example:

        chatbot recap sm35 --out site/sm35
    """
    from chatbot.recap.publish import recap_event

    not_dash("--out", out_dir)
    now = make_clock(clock).now()
    data = read_stdin() if is_dash(transcript) else None
    with progress_bar("Writing the recap", 100, quiet=as_json) as bar:
        result = recap_event(
            event,
            database_url=database_url,
            transcript=Path(STDIN_NAME) if data is not None else transcript,
            transcript_data=data,
            progress=bar.to if bar else None,
            out_dir=out_dir,
            templates=templates,
            split_at=split_at,
            now=now,
            site_url=site_url,
        )
    if as_json:
        emit(result.as_dict())
    else:
        click.echo(result.message())


@cli.command("archive")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    metavar="DIR",
    help="Where to write index.html; recaps in DIR/<hashtag>-<date>/ are linked.",
)
@click.option(
    "--title", default="Chat archive", show_default=True, type=FreeText(300),
    help="The page's title.",
)  # fmt: skip
@_templates
@database_url_option
@json_option
def archive_command(
    out_dir: Path, title: str, templates: Path | None, database_url: str, as_json: bool
) -> None:
    """Write an index of every chat in the database, grouped by hashtag series.

    Each chat shows its posts, participants (new and returning) and a link
    to its recap when one was written under the same folder; each series
    shows how many people came back.

    Example:

        chatbot archive --out transcripts
    """
    from chatbot.recap.publish import write_archive

    not_dash("--out", out_dir)
    path, series, chats = write_archive(
        database_url=database_url, out_dir=out_dir, templates=templates, title=title
    )
    if as_json:
        emit({"path": str(path), "series": series, "chats": chats})
    else:
        click.echo(f"Wrote {path}: {chats} chat{'s' if chats != 1 else ''} in {series} series")
