"""Names and defaults the command line shows before any heavy library is imported.

Each command's options name these (a choice list, a default) when the
``chatbot`` program starts, for every command and for ``--help``. Kept here,
apart from the modules that use them, so that starting the program imports no
database, network or web library: those are imported by the command that runs
(tests/test_cli_imports.py). The modules that own each value import it from
here under their own names.
"""

from __future__ import annotations

from pathlib import Path

# The store (chatbot.db).
DEFAULT_DATABASE_URL = "sqlite:///chatbot.db"
DATABASE_URL_ENV = "CHATBOT_DATABASE_URL"

# The states of an event (chatbot.models); the live ones are still to be posted.
EVENT_STATES: tuple[str, ...] = ("scheduled", "running", "paused", "finished", "cancelled")
LIVE_EVENT_STATES: tuple[str, ...] = ("scheduled", "running", "paused")

# Seconds a stopped run gives the post in flight before giving it back (chatbot.bot.scheduler).
STOP_GRACE = 1.0

# What `chatbot demo` runs (chatbot.demo): the example chat, and the crowd's Mastodon
# instances (the bot's and another).
DEMO_FILE = Path("questions/sm35.md")
DEMO_INSTANCES = 2

# Where transcripts and recaps go (chatbot.export, chatbot.recap), and the posts a
# question's answers reach before they get a page of their own in the recap.
OUTPUT_DIR = Path("transcripts")
RECAP_SPLIT_AT = 400

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "DEMO_FILE",
    "DEMO_INSTANCES",
    "EVENT_STATES",
    "LIVE_EVENT_STATES",
    "OUTPUT_DIR",
    "RECAP_SPLIT_AT",
    "STOP_GRACE",
]
