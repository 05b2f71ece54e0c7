"""Importing chats archived elsewhere (twarc JSONL, plain CSV) as events."""

from chatbot.imports.load import ImportReport, import_file, read_file
from chatbot.imports.tweets import read_csv, read_twarc

__all__ = ["ImportReport", "import_file", "read_csv", "read_file", "read_twarc"]
