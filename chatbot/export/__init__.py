"""Exports of a chat's transcript: JSON, JSON Lines, Markdown and CSV."""

from chatbot.export.document import ExportOptions, build_document, exclusion
from chatbot.export.markdown import to_markdown
from chatbot.export.tabular import to_csv, to_json, to_jsonl
from chatbot.export.write import FORMATS, default_dir, write_exports

__all__ = [
    "FORMATS",
    "ExportOptions",
    "build_document",
    "default_dir",
    "exclusion",
    "to_csv",
    "to_json",
    "to_jsonl",
    "to_markdown",
    "write_exports",
]
