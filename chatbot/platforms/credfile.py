"""Writing one table of the private credentials file, the rest of the file kept as it was.

``chatbot login`` stores what it verified here, in the file
:func:`~chatbot.platforms.credentials.load_credentials` reads. The file is
replaced atomically by a new one created with mode 0600 (never a moment
readable by others, never half written); the other tables, and their
comments, stay byte for byte.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chatbot.errors import ConfigError
from chatbot.platforms.credentials import read_private_toml

_HEADER = re.compile(r"^[ \t]*\[[ \t]*(?P<name>[A-Za-z0-9_-]+)[ \t]*\][ \t]*(?:#.*)?$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else toml_string(name)


def render_table(name: str, values: Mapping[str, str]) -> str:
    lines = [f"[{_key(name)}]"]
    lines += [f"{_key(key)} = {toml_string(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _spliced(text: str, name: str, table: str) -> str:
    """``text`` with table ``name`` (header to the next header) replaced, or appended."""
    lines = text.splitlines(keepends=True)
    start = end = None
    for number, line in enumerate(lines):
        match = _HEADER.match(line.rstrip("\r\n"))
        if match is None:
            continue
        if start is not None:
            end = number
            break
        if match["name"] == name:
            start = number
    if start is None:
        joiner = (
            "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        )
        return text + joiner + table
    end = len(lines) if end is None else end
    # Blank lines and comments at the table's end stay (hints such as "# web = ...", or
    # the next table's heading comment); only the header and the values are replaced.
    while end > start + 1 and (
        not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
    ):
        end -= 1
    tail = lines[end:]
    gap = "\n" if tail and _HEADER.match(tail[0].rstrip("\r\n")) else ""
    return "".join(lines[:start]) + table + gap + "".join(tail)


def set_table(text: str, name: str, values: Mapping[str, str]) -> str:
    """``text`` (a TOML document) with table ``name`` holding exactly ``values``.

    Other tables keep their text; if the document is laid out so that the
    table can't be cut out cleanly (say, dotted keys), it is written anew from
    its parsed values, comments lost, and only if every value is a string.
    """
    original = tomllib.loads(text)
    table = render_table(name, values)
    result = _spliced(text, name, table)
    expected = {k: v for k, v in original.items() if k != name} | {name: dict(values)}
    try:
        if tomllib.loads(result) == expected:
            return result
    except tomllib.TOMLDecodeError:
        pass
    return _rendered(expected)


def _rendered(document: Mapping[str, Any]) -> str:
    parts = []
    for table_name, table in document.items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ConfigError(
                f"cannot rewrite the credentials file: [{table_name}] holds more than text values"
            )
        parts.append(render_table(table_name, table))
    return "\n".join(parts)


def existing_table(path: Path, name: str) -> dict[str, str]:
    """Table ``name`` of the file at ``path`` if there is one (checked private, as the bot does)."""
    if not path.exists():
        return {}
    table = read_private_toml(path).get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return {k: v for k, v in table.items() if isinstance(v, str)}


def write_table(path: Path, name: str, values: Mapping[str, str]) -> Path:
    """Store ``values`` as table ``name`` of the private file at ``path``; returns the file written.

    An existing file must already be private (mode 0600 or stricter) and valid
    TOML: it is refused otherwise, and left as it is. A symlink is followed.
    """
    target = path.expanduser()
    text = ""
    if target.exists():
        target = target.resolve()
        read_private_toml(target)  # refuses a file others can read, or invalid TOML
        text = target.read_text(encoding="utf-8")
    updated = set_table(text, name, values)
    _write_private(target, updated)
    return target


def _write_private(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{path.parent}: cannot create the directory: {error.strerror}") from None
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        temporary.unlink()
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise ConfigError(f"{path}: cannot write the credentials file: {error.strerror}") from None
    try:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            data = text.encode("utf-8")
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise ConfigError(f"{path}: cannot write the credentials file: {error.strerror}") from None


__all__ = ["existing_table", "render_table", "set_table", "toml_string", "write_table"]
