"""The ``chatbot demo`` command: a whole chat on the sandbox, from questions to recap."""

from __future__ import annotations

from pathlib import Path

import click

import chatbot
from chatbot.cli.group import cli
from chatbot.cli.options import FiniteFloatRange, fediverse_options
from chatbot.demo import DEFAULT_FILE, DEFAULT_INSTANCES, DemoOptions, run_demo
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
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
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
    options = DemoOptions(
        file=file or _default_file(),
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
    run_demo(options, say=click.echo)
