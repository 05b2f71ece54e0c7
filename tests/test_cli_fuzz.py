"""Every command with hostile arguments: a clear message and exit 0, 1 or 2, never a traceback.

The command tree is walked from click itself, so a new command or option is
fuzzed without a change here. Each example runs one command against a copy
of a database holding one loaded chat, with no credentials: huge, negative,
NaN and empty numbers, unicode, control characters, '-', missing and
unreadable files, very long text and unknown events. An exit 2 must leave the
database as it was.

Not fuzzed here: ``chatbot login`` (it asks for a password or opens a
browser on a real server; tests/test_cli_login.py covers its bad input).
Commands that would run for good on valid input (``live``, ``demo``,
``rehearse``, ``sandbox serve``) always get one value that cannot be used,
drawn from the same hostile lists, so each example ends.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SM35 = ROOT / "questions" / "sm35.md"
SKIPPED = {("login",)}
# Commands that serve or run a chat until stopped when their input is good.
ENDLESS = {("live",), ("demo",), ("rehearse",), ("sandbox", "serve")}

NUMBERS = ["1", "5", "60", "0", "-1", "-0", "1e309", "-1e309", "nan", "NaN", "inf", "-inf",
           "1e-320", "0x10", "99999999999999999999999999", "-99999999999999999999", "٣",
           "1_000", ""]  # fmt: skip
WORDS = ["", " ", "-", "--", "#", "@", "nan", "sm35", "#sm35", "SM35", "sm35@2027-12-07",
         "sm35@9999-99-99", "0", "1", "2", "999999999", "-5", "Q1", "Q99", "A1 reminder",
         "welcome", "wrapup", "+5m", "-5m", "+99999999999d", "1e309m", "-2h", "9999-12-31T23:59",
         "0001-01-01T00:00Z", "2027-12-07T17:00Z", "system", "accelerated:nan:x:1",
         "file:60:/no/such/file", "https://", "http://[::1", "x" * 100_000, "é" * 5000,
         "\u202e\u0000"[0] + "rtl", "a\tb", "line\nbreak", "\x1b[31mred", "😀" * 300,
         "postgresql+psycopg://nobody@127.0.0.1:1/none", "sqlite:///",
         "../../etc/passwd"]  # fmt: skip
VALID = ["sm35", "1", "Q1", "welcome", "+5m", "10m", "bluesky", "2027-12-07T17:00Z", "0.5"]
UNKNOWN_EVENTS = ["999999", "0", "-1", "nosuchtag", "sm35@2001-01-01", "", "x" * 100_000]


def _files(folder: Path) -> list[str]:
    """Paths that are no good as input files, and '-'."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latin1.md").write_bytes(b"---\nhashtag: caf\xe9\n---\n")
    (folder / "empty.md").write_bytes(b"")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (folder / "huge-line.md").write_text("Q1. " + "w " * 200_000, encoding="utf-8")
    (folder / "only-front.md").write_text("---\nhashtag: x\n---\n", encoding="utf-8")
    (folder / "bad.json").write_text("{not json", encoding="utf-8")
    (folder / "a-folder").mkdir(exist_ok=True)
    return [str(folder / name) for name in sorted(os.listdir(folder))] + [
        "-", "", str(folder / "no-such-file.md"), "/dev/null", "/",
    ]  # fmt: skip


def _commands() -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name, sub in sorted(command.commands.items()):
                walk(sub, (*path, name))
        elif path[:1] not in SKIPPED:
            found.append((path, command))

    walk(cli, ())
    return found


COMMANDS = _commands()
WORK = Path(tempfile.mkdtemp(prefix="chatbot-cli-fuzz-"))
FILES = _files(WORK / "files")  # none of them can be used
# And some that can: a copy of the example chat (a command may write over it), a folder.
PATHS = [*FILES, str(shutil.copy(SM35, WORK / "sm35.md")), str(WORK / "out")]


def _values(param: click.Parameter) -> st.SearchStrategy[str]:
    kind = param.type
    if isinstance(kind, click.Choice):
        return st.sampled_from([*map(str, kind.choices), "", "nope", "BLUESKY"])
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return st.sampled_from(NUMBERS)
    if isinstance(kind, click.Path | click.File):
        return st.sampled_from(PATHS)
    return st.one_of(
        st.sampled_from(WORDS + PATHS),
        st.sampled_from(VALID),
        st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                max_size=30),
    )  # fmt: skip


@st.composite
def invocations(draw: st.DrawFn, path: tuple[str, ...], command: click.Command) -> list[str]:
    args: list[str] = list(path)
    for param in command.params:
        if isinstance(param, click.Argument):
            values = _values(param)
            if path in ENDLESS:  # what it would run must not exist or be readable
                values = st.sampled_from(UNKNOWN_EVENTS if path == ("live",) else FILES)
            least = 1 if param.required or path in ENDLESS else 0
            count = (
                1
                if param.nargs == 1 and least
                else draw(st.integers(least, 1 if param.nargs == 1 else 3))
            )
            args += [draw(values) for _ in range(count)]
        elif isinstance(param, click.Option) and draw(st.booleans()):
            name = param.opts[0]
            if param.is_flag:
                args.append(draw(st.sampled_from(param.opts + param.secondary_opts)))
            elif param.name in {"database_url"}:
                continue  # the test's own database
            else:
                args += [name, draw(_values(param))]
    if path == ("sandbox", "serve"):
        args += ["--questions", draw(st.sampled_from(FILES))]  # refused before it starts
    if draw(st.integers(0, 9)) == 0:
        args.append(draw(st.sampled_from(["--no-such-option", "extra", "-"])))
    return args


@contextmanager
def _database() -> Iterator[tuple[Path, str]]:
    template = WORK / "template.db"
    if not template.exists():
        result = CliRunner().invoke(
            cli, ["load", str(SM35), "--start", "+2d", "--database-url", f"sqlite:///{template}"]
        )
        assert result.exit_code == 0, result.output
    folder = Path(tempfile.mkdtemp(dir=WORK))
    database = folder / "chat.db"
    shutil.copy(template, database)
    cwd = os.getcwd()
    os.chdir(folder)  # outputs written to the current folder land here
    try:
        yield database, f"sqlite:///{database}"
    finally:
        os.chdir(cwd)
        shutil.rmtree(folder, ignore_errors=True)


def _fingerprint(database: Path) -> str:
    connection = sqlite3.connect(database)
    try:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    finally:
        connection.close()


def _environment(url: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("CHATBOT_")}
    env.update(
        CHATBOT_DATABASE_URL=url,
        XDG_CONFIG_HOME=str(WORK / "config"),
        XDG_STATE_HOME=str(WORK / "state"),
    )
    return env


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_hostile_arguments_never_give_a_traceback(
    path: tuple[str, ...], command: click.Command
) -> None:
    @settings(
        max_examples=int(os.environ.get("CHATBOT_FUZZ_EXAMPLES", "25")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(invocations(path, command))
    def check(args: list[str]) -> None:
        with _database() as (database, url):
            before = _fingerprint(database)
            result = CliRunner().invoke(cli, args, env=_environment(url), input="")
            shown = f"chatbot {' '.join(a[:80] for a in args)}\n{result.output[-3000:]}"
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise AssertionError(shown) from result.exception
            assert result.exit_code in (0, 1, 2), shown
            assert "Traceback" not in result.output, shown
            if result.exit_code == 2:
                assert _fingerprint(database) == before, f"database changed: {shown}"

    check()
