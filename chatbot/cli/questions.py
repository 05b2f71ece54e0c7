"""Commands for question files: check and preview."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit, json_option
from chatbot.cli.stdio import STDIN_NAME, is_dash, read_stdin
from chatbot.errors import QuestionFileError
from chatbot.questionfile import check_file, load_plan, summary
from chatbot.questionfile.model import EventPlan
from chatbot.questionfile.preview import preview_data, preview_table
from chatbot.questionfile.timing import find_zone
from chatbot.text.length import MASTODON_DEFAULT_LIMIT

_allow_past = click.option(
    "--allow-past", is_flag=True, help="Accept a start time in the past (to check an old file)."
)
_mastodon_limit = click.option(
    "--mastodon-limit",
    type=click.IntRange(1, 100_000),
    default=MASTODON_DEFAULT_LIMIT,
    show_default=True,
    help="Your Mastodon instance's character limit (a file's max_characters wins).",
)


def _summary_data(plan: EventPlan) -> dict[str, object]:
    return {
        "text": summary(plan),
        "hashtag": plan.hashtag,
        "title": plan.title,
        "questions": len(plan.questions),
        "posts": len(plan.posts),
        "start": plan.start.isoformat(),
        "timezone": plan.timezone,
        "networks": list(plan.networks),
    }


@cli.command()
@click.argument("files", nargs=-1, required=True)
@json_option
@_allow_past
@_mastodon_limit
def check(files: tuple[str, ...], as_json: bool, allow_past: bool, mastodon_limit: int) -> None:
    """Check question files before a chat: settings, times and post lengths.

    Every problem is printed as FILE:LINE:COL with a fix; a good file gets a
    one-line summary. Exits with status 2 if any file has an error. A FILE
    of - reads standard input (named <stdin>).

    Example: chatbot check questions/sm35.md
    """
    results = []
    failed = False
    for path in files:
        name, data = _source(path)
        plan, problems = check_file(
            name, allow_past=allow_past, mastodon_limit=mastodon_limit, data=data
        )
        failed = failed or plan is None
        if as_json:
            results.append(
                {
                    "path": name,
                    "ok": plan is not None,
                    "problems": [p.as_dict() for p in problems],
                    "summary": _summary_data(plan) if plan else None,
                }
            )
            continue
        for problem in problems:
            click.echo(problem.format())
        if plan is not None:
            click.echo(summary(plan))
        else:
            errors = sum(p.severity == "error" for p in problems)
            click.echo(f"{name}: {errors} error{'s' * (errors != 1)}")
    if as_json:
        emit(results)
    if failed:
        raise SystemExit(2)


def _source(path: str) -> tuple[str, bytes | None]:
    """A question file's name and, for -, its content from standard input."""
    return (STDIN_NAME, read_stdin()) if is_dash(path) else (path, None)


def _parse_zones(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[ZoneInfo]:
    zones = []
    for name in values:
        zone, suggestion = find_zone(name)
        if zone is None:
            raise click.BadParameter(f'unknown time zone "{name}"{suggestion}', ctx, param)
        zones.append(zone)
    return zones


@cli.command()
@click.argument("file")
@click.option(
    "--tz",
    "zones",
    multiple=True,
    callback=_parse_zones,
    metavar="ZONE",
    help="Also show times in this IANA zone, e.g. Europe/Berlin (repeatable).",
)
@json_option
@_allow_past
@_mastodon_limit
@click.option(
    "--width",
    type=click.IntRange(40, 400),
    default=100,
    show_default=True,
    help="Wrap the table to this many columns.",
)
def preview(
    file: str,
    zones: list[ZoneInfo],
    as_json: bool,
    allow_past: bool,
    mastodon_limit: int,
    width: int,
) -> None:
    """Show every post a question file will make, when, and how long it is.

    Times are shown in the event's zone, in each --tz zone and in UTC;
    lengths are per network against its limit (bsky 87/300  masto 95/500).
    FILE - reads standard input.

    Example: chatbot preview questions/sm35.md --tz Europe/London
    """
    try:
        name, data = _source(file)
        plan = load_plan(name, allow_past=allow_past, mastodon_limit=mastodon_limit, data=data)
    except QuestionFileError as error:
        if as_json:
            raise  # {"error": ...} with every problem located
        # Printed like `chatbot check` does, one problem per line, not as one "Error:".
        for problem in error.problems:
            click.echo(problem.format(), err=True)
        raise SystemExit(2) from None
    if as_json:
        emit(preview_data(plan, zones))
        return
    for note in plan.notes:
        click.echo(note, err=True)
    click.echo(preview_table(plan, zones, width=width), nl=False)
