"""Plain text as Markdown that renders as written: escaped only where it would turn into markup.

The transcript's Markdown is read by people, in editors and on forges, so
``A1 Curiosity! #sm35 (and hope)`` must stay as it is, not become
``A1 Curiosity\\! \\#sm35 \\(and hope\\)``. A character is escaped only where
CommonMark or GitHub's Markdown would read it as markup in the place the
exporter puts text: inline, after other text on a list item's line (post
text, names), in a heading (question text), or at the start of a line.

Inline, what can make markup is: emphasis and strikethrough (``*``, ``~``,
and ``_`` unless inside a word), code spans (`````), backslash escapes (a
``\\`` before punctuation or at a line's end), entity references
(``&amp;``), raw HTML and autolinks (``<`` before a letter, ``/``, ``!`` or
``?``) and links and images (a ``]`` right before ``(``). Nothing in a line
of text can start a block (headings, lists, quotes, tables, code blocks):
text always follows other text on its line, and line breaks become
``<br>``. A block's first characters and a heading's closing ``#`` are
escaped where they stand.
"""

from __future__ import annotations

import re
import string

__all__ = ["at_line_start", "heading", "inline"]

_PUNCTUATION = frozenset(string.punctuation)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")
_ALWAYS = frozenset("*`~")
_TAG_START = frozenset(string.ascii_letters + "/!?")
_BLOCK_START = frozenset("#>+-=|[")  # "[" opens a link reference definition
_ORDERED = re.compile(r"^(\d{1,9})([.)])")
_CLOSING = re.compile(r"(^|[ \t])(#+)[ \t]*$")


def _escape_line(line: str) -> str:
    out: list[str] = []
    last = len(line) - 1
    for index, char in enumerate(line):
        after = line[index + 1] if index < last else ""
        if char in _ALWAYS:
            out.append("\\" + char)
        elif char == "_":
            before = line[index - 1] if index else ""
            inside_word = before.isalnum() and after.isalnum()
            out.append("_" if inside_word else "\\_")
        elif char == "\\":
            out.append("\\\\" if after == "" or after in _PUNCTUATION else "\\")
        elif char == "<":
            out.append("\\<" if after in _TAG_START else "<")
        elif char == "]":
            out.append("\\]" if after == "(" else "]")
        elif char == "&":
            out.append("\\&" if _ENTITY.match(line, index) else "&")
        else:
            out.append(char)
    return "".join(out)


def inline(text: str) -> str:
    """``text`` for a place after other text on a line: lines stripped, joined by ``<br>``."""
    lines = (line.strip() for line in text.splitlines())
    return "<br>".join(_escape_line(line) for line in lines if line)


def at_line_start(text: str) -> str:
    """``text`` for the start of a line (a paragraph of its own): no block can open either."""
    escaped = inline(text)
    ordered = _ORDERED.match(escaped)
    if ordered:
        return f"{ordered[1]}\\{ordered[2]}{escaped[ordered.end() :]}"
    if escaped[:1] in _BLOCK_START:
        return "\\" + escaped
    return escaped


def heading(text: str) -> str:
    """``text`` for after ``# ``: a trailing run of ``#`` would be taken for the closing one."""
    escaped = inline(text)
    closing = _CLOSING.search(escaped)
    if closing:
        start = closing.start(2)
        return f"{escaped[:start]}\\{escaped[start:]}"
    return escaped
