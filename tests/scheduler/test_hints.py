"""Every command a message suggests works when run exactly as printed.

The controls' messages suggest commands with the event's id and a post's
label in them (``chatbot skip 1 'A3 reminder'``). One chat here provokes every
kind of suggestion and runs each as printed, with nothing but the database and
the clock in the environment, as a moderator's second terminal would have.
A scan of the source keeps the list whole: a suggestion built anywhere but
:func:`chatbot.hints.command`, or a kind of command suggested that this test
never ran, fails it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from chatbot.cli import cli
from chatbot.hints import command, commands_in
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.controlchat import TAG, ControlChat, start_chat
from tests.scheduler.stepping import file_clock

ROOT = Path(__file__).resolve().parents[2]
# A concrete command written out by hand in a message: "chatbot skip {event.id} ...".
BY_HAND = re.compile(r"chatbot [a-z-]+ \{")


@pytest.fixture
def chat(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[ControlChat]:
    with Sandbox(seed=9, clock=file_clock(tmp_path)) as box:
        yield start_chat(engine, database_url, tmp_path, box)


def _run_as_printed(chat: ControlChat, words: list[str]) -> str:
    env = {"CHATBOT_DATABASE_URL": chat.database_url, "CHATBOT_CLOCK": chat.clock.describe()}
    result = CliRunner().invoke(cli, words, env=env)
    assert result.exit_code == 0, (words, result.output)
    return result.output


def _suggested_verbs() -> set[str]:
    """The first word of every ``command(...)`` call in the package: the kinds of hints."""
    verbs: set[str] = set()
    for path in (ROOT / "chatbot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "command"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                verbs.add(str(node.args[0].value))
    return verbs


def test_no_suggestion_is_written_by_hand() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "chatbot").rglob("*.py")
        if path.name != "hints.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BY_HAND.search(line)
    ]
    assert found == [], "build these with chatbot.hints.command, so that they run as printed"


# Where messages come from while a chat is prepared, run and steered.
MESSAGES = ("bot", "collect", "export", "live", "eventref.py", "demo.py")


def _strings(tree: ast.AST) -> list[ast.Constant]:
    """Every string constant that is not a docstring."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_message_suggests_a_fixed_command() -> None:
    # A command in backticks with no placeholder (FILE, EVENT) reads as one to run as it is:
    # "`chatbot collect`" is not one (it needs an EVENT); write the form, or use command().
    found = []
    for name in MESSAGES:
        base = ROOT / "chatbot" / name
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            for node in _strings(ast.parse(path.read_text(encoding="utf-8"))):
                if commands_in(node.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}")
    assert found == []


def test_command_quotes_what_a_shell_would_split() -> None:
    assert command("skip", 3, "A3 reminder") == "`chatbot skip 3 'A3 reminder'`"
    assert commands_in("run `chatbot skip 3 'A3 reminder'` or `chatbot load FILE`") == [
        ["skip", "3", "A3 reminder"]
    ]


def test_every_hint_the_controls_print_runs_as_printed(chat: ControlChat) -> None:
    ran: list[list[str]] = []

    def follow(output: str) -> None:
        hints = commands_in(output)
        assert hints, output
        for words in hints:
            _run_as_printed(chat, words)
            ran.append(words)

    event = str(chat.event_id)
    chat.run_to(1)
    paused = chat.cli("pause", TAG)  # -> resume
    held = chat.cli("post-now", TAG, "Q1")  # on a paused chat: -> resume
    follow(paused)
    follow(held)  # resumed already: says so, exit 0
    chat.run_to(2)
    # The A1 reminder is not due: -> skip it, or post it now (quoted: a label with a space).
    follow(chat.cli("post-now", TAG, "Q2", code=2))
    chat.cli("pause", TAG)
    chat.run_to(26)
    follow(chat.cli("resume", TAG))  # posts more than 10m behind skipped: -> post-now each
    chat.run_to(27)
    follow(chat.cli("post-now", TAG, "Q3a", code=2))  # Q3 not due: -> skip --only, post-now
    chat.run_to(28)
    follow(chat.cli("skip", TAG, "Q3", code=2))  # Q3 out, its reminder not: -> skip --only
    follow(chat.cli("skip", TAG, "Q4"))  # -> post-now Q4
    chat.run_to(29)
    follow(chat.cli("delay", TAG, "-45m", code=2))  # too far: -> delay -Nm
    assert {"skip", "post-now", "delay", "resume"} <= {words[0] for words in ran}
    assert ["skip", event, "A1 reminder"] in ran and ["skip", event, "Q3", "--only"] in ran
    assert chat.hints  # the chat's own record of what it was told
    verbs = {words[0] for words in ran}
    # The demo's and the rehearsal's hints (status, pause) run in tests/test_demo.py and
    # tests/test_rehearse.py; run their kinds here too.
    for words in (["status", event], ["pause", event]):
        _run_as_printed(chat, words)
        verbs.add(words[0])
    assert _suggested_verbs() <= verbs, _suggested_verbs() - verbs
