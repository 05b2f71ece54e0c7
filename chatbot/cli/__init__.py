"""The ``chatbot`` command line: thin click glue over the library.

Each command module registers its commands on :data:`cli`; this module only
builds the group and turns :class:`chatbot.errors.ChatbotError` into a message
and an exit code (2 for usage errors), never a traceback.
"""

from __future__ import annotations

import sys

import click

from chatbot import __version__
from chatbot.errors import ChatbotError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ChatbotGroup(click.Group):
    """A click group that reports our own errors cleanly."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ChatbotError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=ChatbotGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="chatbot")
def cli() -> None:
    """Host hashtag chats on Bluesky and Mastodon.

    A moderator writes a question file, checks and loads it; the bot posts
    the welcome, the questions and the wrap-up on time, collects the answers
    and writes transcripts and a recap page.

    Example:

        chatbot check questions/sm35.md
    """


def _register_commands() -> None:
    # Imported for their side effect of adding commands to ``cli``.
    from chatbot.cli import (
        collect,  # noqa: F401
        controls,  # noqa: F401
        demo,  # noqa: F401
        importing,  # noqa: F401
        load,  # noqa: F401
        questions,  # noqa: F401
        recap,  # noqa: F401
        run,  # noqa: F401
        sandbox,  # noqa: F401
        transcript,  # noqa: F401
    )


_register_commands()


def main() -> None:
    """Entry point of the ``chatbot`` console script."""
    cli(prog_name="chatbot")
    sys.exit(0)


__all__ = ["cli", "main"]
