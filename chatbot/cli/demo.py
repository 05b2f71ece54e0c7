"""The ``chatbot demo`` command: a whole chat on the sandbox, from questions to recap."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

import chatbot
from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit, json_option
from chatbot.cli.options import FiniteFloatRange, fediverse_options
from chatbot.cli.stdio import (
    STDIN_NAME,
    is_dash,
    not_dash,
    read_stdin,
    stdout_taken,
    write_stdout,
)
from chatbot.cli.stopping import StopRequested, leave, stop_signals
from chatbot.defaults import DEMO_FILE as DEFAULT_FILE
from chatbot.defaults import DEMO_INSTANCES as DEFAULT_INSTANCES
from chatbot.errors import UsageError


def _default_file() -> Path:
    """questions/sm35.md here, or beside the installed package (an editable install)."""
    for candidate in (DEFAULT_FILE, Path(chatbot.__file__).parent.parent / DEFAULT_FILE):
        if candidate.is_file():
            return candidate
    raise UsageError(
        f"no {DEFAULT_FILE} here: run the demo from the project's folder, "
        "or give a question file: chatbot demo FILE"
    )


@cli.command("demo")
@click.argument(
    "file",
    required=False,
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
)
@click.option(
    "--speed",
    type=FiniteFloatRange(min=1, max=2000),
    default=60.0,
    show_default=True,
    help="How many sandbox seconds pass per real second (60: an hour in a minute).",
)
@click.option(
    "--participants",
    type=click.IntRange(1, 2000),
    default=20,
    show_default=True,
    help="How many simulated people take part.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the crowd.")
@click.option(
    "--faults",
    type=FiniteFloatRange(0, 0.5),
    default=0.0,
    show_default=True,
    help="Share of requests the sandbox networks fail (rate limits, 5xx, drops).",
)
@fediverse_options(instances=DEFAULT_INSTANCES)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where to write the transcripts and recap (default: transcripts/<hashtag>-<date>/).",
)
@json_option
def demo_command(
    file: Path | None,
    speed: float,
    participants: int,
    seed: int,
    faults: float,
    mastodon_instances: int,
    mastodon_profile: str,
    federation_delay: float,
    federation_loss: float,
    out: Path | None,
    as_json: bool,
) -> None:
    """Run a whole chat on the sandbox networks and write its transcripts and recap.

    Starts local Bluesky and Mastodon stand-ins on 127.0.0.1 (two federating
    Mastodon instances unless --mastodon-instances says otherwise; the bot's
    account is on the first, the crowd posts from all), loads FILE (default:
    the example questions/sm35.md) with its start moved to now, and runs the
    scheduler, the collector and a simulated crowd on an accelerated clock.
    Needs no account and no network; takes about a minute at --speed 60. Use
    it as a dress rehearsal of your own question file.

    Example:

        chatbot demo

        chatbot demo questions/my-chat.md --participants 50 --speed 120

        chatbot demo --mastodon-instances 3 --profile mastodon,gotosocial,mastodon
    """
    from chatbot.demo import DemoOptions, run_demo

    not_dash("--out", out)
    file, data = _source(file)
    options = DemoOptions(
        file=file or _default_file(),
        data=data,
        speed=speed,
        participants=participants,
        seed=seed,
        faults=faults,
        out=out,
        mastodon_instances=mastodon_instances,
        mastodon_profile=mastodon_profile,
        federation_delay=federation_delay,
        federation_loss=federation_loss,
    )
    with stop_signals() as signals:
        try:
            result = run_demo(options, say=_say(as_json))
        except StopRequested as stop:
            leave(128 + stop.number)
    if as_json:
        emit(result.as_dict())
    leave(0, promptly=signals.requested)


def _source(file: Path | None) -> tuple[Path | None, bytes | None]:
    """A question file, or for - its content read from standard input (named <stdin>)."""
    return (Path(STDIN_NAME), read_stdin()) if is_dash(file) else (file, None)


def _say(as_json: bool) -> Callable[[str], None]:
    """Progress lines: on stdout, or on stderr when stdout carries the JSON document."""
    return lambda line: click.echo(line, err=as_json)


@cli.command("rehearse")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "--speed",
    type=FiniteFloatRange(min=1, max=2000),
    default=20.0,
    show_default=True,
    help="Sandbox seconds per real second (20: a ten-minute interval in 30 s, time to steer).",
)
@click.option(
    "--participants",
    type=click.IntRange(1, 2000),
    default=20,
    show_default=True,
    help="How many simulated people answer.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the crowd.")
@click.option(
    "--env-file",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Write the variables a second terminal needs here (mode 0600), to read with '. PATH'; "
    "- writes them on stdout (the other lines then go to stderr).",
)
@click.option("--live/--no-live", default=True, show_default=True, help="Serve the live page.")
@click.option(
    "--live-port",
    type=click.IntRange(0, 65535),
    default=0,
    help="The live page's port on 127.0.0.1 (default: any free one).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where to write the transcripts and recap (default: transcripts/<hashtag>-<date>/).",
)
@json_option
def rehearse_command(
    file: Path,
    speed: float,
    participants: int,
    seed: int,
    env_file: Path | None,
    live: bool,
    live_port: int,
    out: Path | None,
    as_json: bool,
) -> None:
    """Rehearse FILE on the sandbox in one command: the whole chat, steerable as it runs.

    Starts local Bluesky and Mastodon stand-ins and a simulated crowd on
    127.0.0.1, loads FILE to start a minute or so ahead on an accelerated
    clock (before its welcome), and runs every post and the collection to
    the end, then writes the transcripts and the recap. It prints how a
    second terminal reaches the chat (the variables; with --env-file, a file
    to read with '. PATH') for chatbot status, pause, resume, skip, delay and
    post-now, and where the live page is. It opens nothing by itself.

    \b
    Example:
        chatbot rehearse questions/sm35.md
        chatbot rehearse questions/my-chat.md --env-file rehearsal.env --speed 10
    """
    from chatbot.demo import DemoOptions, run_rehearsal

    not_dash("--out", out)
    name, data = _source(file)
    options = DemoOptions(
        file=name or file, data=data, speed=speed, participants=participants, seed=seed, out=out
    )
    to_stdout = is_dash(env_file)
    if to_stdout:
        stdout_taken("--env-file", as_json)
    with stop_signals() as signals:
        try:
            result = run_rehearsal(
                options,
                env_file=None if to_stdout else env_file,
                env_to=write_stdout if to_stdout else None,
                live=live,
                live_port=live_port,
                say=_say(as_json or to_stdout),
            )
        except StopRequested as stop:
            leave(128 + stop.number)
    if as_json:
        emit(result.as_dict())
    leave(0, promptly=signals.requested)
