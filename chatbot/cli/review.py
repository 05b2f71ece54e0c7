"""The ``chatbot review`` and ``chatbot assign`` commands: the moderator checks and corrects."""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit
from chatbot.cli.options import (
    FiniteFloatRange,
    FreeText,
    clock_option,
    database_url_option,
    json_option,
    make_clock,
)
from chatbot.errors import UsageError


def _default_moderator() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "moderator"


@cli.command("review")
@click.argument("event")
@click.option(
    "--below", type=FiniteFloatRange(0.0, 1.0), default=0.6, show_default=True,
    help="List posts attributed with a confidence under this (and those with no question).",
)  # fmt: skip
@clock_option
@database_url_option
@json_option
def review_command(event: str, below: float, clock: str, database_url: str, as_json: bool) -> None:
    """List EVENT's posts the attribution is unsure of, to check them by hand.

    Each post the transcripts show whose question was found with a confidence
    under --below, or not found at all, with its author, time (UTC), text, the
    best guess and the runner-up. Correct one with `chatbot assign`; posts
    already decided are not listed again.

    Example:

        chatbot review sm35 --below 0.5
    """
    from chatbot.db import open_store
    from chatbot.export.review import review

    with open_store(database_url) as engine:
        result = review(engine, event, below=below, now=make_clock(clock).now())
    if as_json:
        payload = {
            "hashtag": result.hashtag,
            "below": result.below,
            "questions": result.questions,
            "posts": [item.as_dict() for item in result.items],
        }
        emit(payload)
        return
    if not result.items:
        click.echo(f"#{result.hashtag}: nothing to review (every post is at {below:.2f} or above).")
        return
    count = len(result.items)
    posts = "post" if count == 1 else "posts"
    click.echo(f"#{result.hashtag}: {count} {posts} under {below:.2f} or with no question")
    for item in result.items:
        when = item.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        guess = f"{item.guess or 'none'} ({item.method}, {item.confidence:.2f})"
        if item.method == "none":
            guess = "none"
        click.echo("")
        click.echo(f"{when}  @{item.author}  {item.network}")
        click.echo(f"  {item.url or item.uri}")
        click.echo(f"  {' '.join(item.text.split())}")
        click.echo(f"  guess: {guess}  runner-up: {item.runner_up or 'none'}")
        if item.via:
            click.echo(f"  from: {item.via}")


@cli.command("assign")
@click.argument("event")
@click.argument("post", required=False)
@click.argument("question", required=False)
@click.option("--auto", is_flag=True, help="Undo the decision on POST: attribute it automatically.")
@click.option(
    "--from", "from_file", metavar="FILE.csv",
    help="Apply the decisions of a CSV file (post,question[,note]); '-' reads stdin.",
)  # fmt: skip
@click.option(
    "--by", "by", metavar="NAME", type=FreeText(100),
    help="Who decided (default: your login name).",
)  # fmt: skip
@clock_option
@database_url_option
@json_option
def assign_command(
    event: str,
    post: str | None,
    question: str | None,
    auto: bool,
    from_file: str | None,
    by: str | None,
    clock: str,
    database_url: str,
    as_json: bool,
) -> None:
    """Decide which question POST (its URL or URI) of EVENT answers: a label such as Q3, or none.

    The decision is kept apart from the automatic attribution, with who and
    when, and every transcript, export, recap and the archive show the post
    under that question, "set by moderator". --auto takes it back. --from
    applies a CSV file of post,question[,note] lines, all or nothing.

    Examples:

        chatbot assign sm35 https://bsky.app/profile/ana.example/post/3kq Q3

        chatbot assign sm35 https://bsky.app/profile/ana.example/post/3kq --auto

        chatbot assign sm35 --from decisions.csv --by sam
    """
    from chatbot.db import open_store
    from chatbot.export.overrides import assign, assign_from_csv, unassign

    if from_file is not None and (post or auto):
        raise UsageError("give either --from FILE or POST, not both")
    if from_file is None and not post:
        raise UsageError("give POST and QUESTION, POST --auto, or --from FILE.csv")
    if auto and question:
        raise UsageError("give QUESTION or --auto, not both")
    if from_file is None and not auto and not question:
        raise UsageError("give QUESTION (a label such as Q3, or none), or --auto to undo")
    who = by or _default_moderator()
    now = make_clock(clock).now()
    with open_store(database_url) as engine:
        if from_file is not None:
            text = sys.stdin.read() if from_file == "-" else None
            name = "<stdin>" if from_file == "-" else from_file
            decisions = assign_from_csv(engine, event, Path(name), by=who, text=text, now=now)
            if as_json:
                emit([d.as_dict() for d in decisions])
            else:
                click.echo(f"Applied {len(decisions)} decisions from {name} (set by {who}).")
            return
        assert post is not None
        if auto:
            undone = unassign(engine, event, post, now=now)
            if as_json:
                emit(undone.as_dict() if undone else None)
            elif undone is None:
                click.echo(f"{post} had no moderator's decision; nothing changed.")
            else:
                click.echo(f"Removed the decision on {undone.uri}; it is attributed automatically.")
            return
        assert question is not None
        decision = assign(engine, event, post, question, by=who, now=now)
    if as_json:
        emit(decision.as_dict())
        return
    target = decision.question or "no question"
    click.echo(f"Assigned {decision.uri} to {target} (set by {decision.set_by}).")


__all__ = ["assign_command", "review_command"]
