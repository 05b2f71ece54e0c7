"""The ``chatbot`` click group: error reporting and the global options, no commands.

Command modules add their commands to :data:`cli`; ``chatbot.cli`` imports them
all. Keeping the group apart means no command module imports the package that
imports it.
"""

from __future__ import annotations

import click

from chatbot import __version__
from chatbot.cli.jsonout import ARGV_META, emit, error_document, json_wanted
from chatbot.errors import ChatbotError

# A path given that cannot be used as asked: the user's to fix (exit 2, as a usage error).
_PATH_ERRORS = (
    FileExistsError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
)  # fmt: skip
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ChatbotGroup(click.Group):
    """A click group that reports errors cleanly: a message (and with --json, a document)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta.setdefault(ARGV_META, list(args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ChatbotError as error:
            if json_wanted(ctx):
                emit(error_document(error, error.exit_code))
            click.echo(f"Error: {error}", err=True)
            ctx.exit(error.exit_code)
        except click.ClickException as error:
            # Bad options and arguments: click prints its usage message on stderr as ever.
            if json_wanted(ctx):
                emit(error_document(error, error.exit_code))
            raise
        except OSError as error:  # a file or folder the command could not read or write
            where = f"{error.filename}: " if error.filename else ""
            code = 2 if isinstance(error, _PATH_ERRORS) else 1
            message = f"{where}{error.strerror or error}"
            if json_wanted(ctx):
                emit(error_document(ChatbotError(message), code))
            click.echo(f"Error: {message}", err=True)
            ctx.exit(code)


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


__all__ = ["CONTEXT_SETTINGS", "ChatbotGroup", "cli"]
