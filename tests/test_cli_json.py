"""``--json`` on every command: one JSON document on stdout, for results and errors alike.

The command tree is walked, so a new command without ``--json`` (or without a
case here) fails these tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from chatbot.cli import cli
from chatbot.cli.reference import iter_commands
from tests.test_cli_load import CHAT, QUESTIONS

ROOT = Path(__file__).resolve().parent.parent
IMPORT_CSV = """\
id,author,created_at,text,in_reply_to_id
100,host,2021-03-04T17:00:00Z,Q1 What do you archive? #tc,
101,ana,2021-03-04T17:02:00Z,A1 Tweets mostly #tc,100
102,ben,2021-03-04T17:03:00Z,A1 Web pages #tc,100
"""
TWEET = "https://twitter.com/ana/status/101"


def _acts(command: click.Command) -> bool:
    """A command that does something itself (a group only when it runs without a subcommand)."""
    return not isinstance(command, click.Group) or command.invoke_without_command


ACTING = {path: command for path, command in iter_commands(cli) if _acts(command)}


@dataclass(frozen=True)
class Chat:
    """A database with a loaded chat (sm35, far ahead) and an imported one (tc)."""

    tmp: Path
    url: str
    file: Path

    def db(self, *args: str) -> list[str]:
        return [*args, "--database-url", self.url]


@dataclass(frozen=True)
class Case:
    args: Callable[[Chat], list[str]]
    code: int = 0
    keys: tuple[str, ...] = ()  # top-level keys of the document (of its first item for a list)
    input: str | None = None
    env: dict[str, str] | None = None


CASES: dict[str, Case] = {
    "chatbot archive": Case(
        lambda c: c.db("archive", "--out", str(c.tmp / "site")), keys=("path", "chats")
    ),
    "chatbot assign": Case(
        lambda c: c.db("assign", "tc", TWEET, "Q1", "--by", "sam"), keys=("uri", "question")
    ),
    "chatbot check": Case(lambda c: ["check", str(c.file), "--allow-past"], keys=("ok",)),
    "chatbot collect": Case(lambda c: c.db("collect", "sm35", "--once"), code=2),  # no login
    "chatbot delay": Case(lambda c: c.db("delay", "sm35", "5m"), keys=("lines", "commands")),
    # No file: click's own parameter error, as JSON too.
    "chatbot demo": Case(lambda c: ["demo", str(c.tmp / "missing.md")], code=2),
    "chatbot events": Case(lambda c: c.db("events"), keys=("id", "hashtag", "state")),
    "chatbot hide": Case(
        lambda c: c.db("hide", "tc", TWEET, "--reason", "test", "--no-threadgate"),
        keys=("uri",),
    ),
    "chatbot import": Case(
        lambda c: c.db("import", str(c.tmp / "more.csv"), "--hashtag", "more", "--host", "host"),
        keys=("event_id", "posts", "questions"),
    ),
    "chatbot live": Case(lambda c: c.db("live", "nosuchchat"), code=2),
    "chatbot load": Case(
        lambda c: c.db("load", str(c.file), "--dry-run"), keys=("event_id", "dry_run")
    ),
    # A server that does not answer: a report, exit code 2.
    "chatbot login": Case(
        lambda c: ["login", "--check", "--timeout", "2"],
        code=2,
        keys=("checks", "exit_code"),
        env={"CHATBOT_MASTODON_URL": "http://127.0.0.1:9", "CHATBOT_MASTODON_TOKEN": "x" * 20},
    ),
    "chatbot login bluesky": Case(
        lambda c: ["login", "bluesky", "--handle", "bot.test", "--pds", "http://127.0.0.1:9"],
        code=1,
        input="abcd-efgh-ijkl-mnop\n",
    ),
    "chatbot login mastodon": Case(
        lambda c: ["login", "mastodon", "--instance", "http://127.0.0.1:9", "--timeout", "2"],
        code=2,
    ),
    "chatbot pause": Case(lambda c: c.db("pause", "sm35"), keys=("event_id", "lines")),
    "chatbot post-now": Case(lambda c: c.db("post-now", "sm35", "Q1"), code=2),  # not in order
    "chatbot preview": Case(lambda c: ["preview", str(c.file)], keys=("posts",)),
    "chatbot recap": Case(
        lambda c: c.db("recap", "tc", "--out", str(c.tmp / "recap")), keys=("path", "posts")
    ),
    "chatbot rehearse": Case(lambda c: ["rehearse", str(c.tmp / "missing.md")], code=2),
    "chatbot resume": Case(lambda c: c.db("resume", "sm35"), keys=("lines",)),
    "chatbot review": Case(lambda c: c.db("review", "tc"), keys=("hashtag", "posts")),
    "chatbot run": Case(lambda c: c.db("run", "sm35"), code=2),  # no credentials
    "chatbot sandbox crowd": Case(
        lambda c: ["sandbox", "crowd", str(c.file), "--participants", "3"],
        keys=("participants", "actions"),
    ),
    "chatbot sandbox serve": Case(lambda c: [], keys=("bluesky", "mastodon")),  # a process
    "chatbot skip": Case(lambda c: c.db("skip", "sm35", "Q2"), keys=("lines",)),
    "chatbot status": Case(lambda c: c.db("status", "sm35"), keys=("hashtag",)),
    "chatbot transcript": Case(
        lambda c: c.db("transcript", "tc", "--out", str(c.tmp / "out"), "--format", "md"),
        keys=("files",),
    ),
}


@pytest.fixture
def chat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chat:
    monkeypatch.setenv("HOME", str(tmp_path))  # no credentials file
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("CHATBOT_CONFIG", raising=False)
    for name in [n for n in os.environ if n.startswith(("CHATBOT_BLUESKY", "CHATBOT_MASTODON"))]:
        monkeypatch.delenv(name)
    file = tmp_path / "sm35.md"
    file.write_text(CHAT.format(questions=QUESTIONS), encoding="utf-8")
    (tmp_path / "tc.csv").write_text(IMPORT_CSV, encoding="utf-8")
    (tmp_path / "more.csv").write_text(IMPORT_CSV.replace("#tc", "#more"), encoding="utf-8")
    found = Chat(tmp_path, f"sqlite:///{tmp_path / 'chat.db'}", file)
    for args in (
        ["load", str(file)],
        ["import", str(tmp_path / "tc.csv"), "--hashtag", "tc", "--host", "host"],
    ):
        result = CliRunner().invoke(cli, found.db(*args))
        assert result.exit_code == 0, result.output
    return found


def document(result: Result) -> Any:
    """The one JSON document on stdout (json.loads refuses anything more or less)."""
    return json.loads(result.stdout)


def test_every_command_takes_json() -> None:
    missing = [
        path
        for path, command in ACTING.items()
        if not any("--json" in param.opts for param in command.params)
    ]
    assert missing == [], "these commands lack --json (use chatbot.cli.options.json_option)"


def test_every_command_has_a_json_case() -> None:
    assert sorted(CASES) == sorted(ACTING), "add a Case for each new command to CASES"


@pytest.mark.parametrize("path", sorted(set(CASES) - {"chatbot sandbox serve"}))
def test_json_is_one_document_on_stdout(path: str, chat: Chat) -> None:
    case = CASES[path]
    args = case.args(chat)
    result = CliRunner().invoke(
        cli, [*args, "--json"], input=case.input, env=case.env, prog_name="chatbot"
    )
    assert result.exit_code == case.code, result.output
    found = document(result)
    if case.code in (1, 2) and "error" in found:
        error = found["error"]
        assert set(error) == {"kind", "message", "exit_code", "problems"}
        assert error["exit_code"] == case.code and error["message"]
        assert f"Error: {error['message'].splitlines()[0]}" in result.stderr  # text too
        assert not case.keys
        return
    item = found[0] if isinstance(found, list) else found
    assert set(case.keys) <= set(item), sorted(item)


def test_sandbox_serve_prints_its_json_document_when_ready(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "sandbox", "serve", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        assert ready["bluesky"]["url"].startswith("http://127.0.0.1:")
        assert set(CASES["chatbot sandbox serve"].keys) <= set(ready)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert process.returncode == 0


def test_without_json_an_error_is_text_only(chat: Chat) -> None:
    result = CliRunner().invoke(cli, chat.db("pause", "nosuchchat"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")


@pytest.mark.parametrize(
    "args",
    [
        ["events", "--state", "nope", "--json"],  # a bad choice, after --json
        ["events", "--json", "--state", "nope"],  # and before it
        ["events", "--json", "--no-such-option"],
        ["pause", "--json"],  # a missing argument
    ],
)
def test_click_usage_errors_are_json_documents_too(args: list[str], chat: Chat) -> None:
    result = CliRunner().invoke(cli, chat.db(*args))
    assert result.exit_code == 2
    error = document(result)["error"]
    assert error["kind"] == "usage" and error["exit_code"] == 2
    assert "Usage: " in result.stderr


def test_a_question_file_error_lists_each_problem(chat: Chat) -> None:
    broken = chat.tmp / "broken.md"
    broken.write_text(CHAT.format(questions=QUESTIONS).replace("10m", "ten"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["preview", str(broken), "--json"])
    assert result.exit_code == 2
    error = document(result)["error"]
    assert error["problems"] and error["problems"][0]["path"] == str(broken)
    assert {"line", "column", "message", "hint"} <= set(error["problems"][0])


def test_terminal_controls_in_untrusted_text_are_escaped(chat: Chat) -> None:
    hostile = "Evil \u202e title \u2066"
    file = chat.tmp / "hostile.md"
    text = CHAT.format(questions=QUESTIONS).replace("Conversations, not campaigns", hostile)
    file.write_text(text.replace("sm35", "evil"), encoding="utf-8")
    result = CliRunner().invoke(cli, chat.db("load", str(file), "--json"))
    assert result.exit_code == 0, result.output
    assert "\u202e" not in result.stdout and "\u2066" not in result.stdout
    assert "\\u202e" in result.stdout
    assert document(result)["title"] == hostile


@pytest.mark.slow
def test_a_demo_with_json_says_where_everything_went(tmp_path: Path) -> None:
    args = ["demo", str(ROOT / "questions" / "sm35.md"), "--speed", "240", "--participants", "4",
            "--out", str(tmp_path / "sm35"), "--json"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "chatbot", *args], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)  # the whole of stdout: one document
    assert found["recap"]["path"] == str(tmp_path / "sm35" / "index.html")
    assert sorted(Path(path).name for path in found["exports"]) == [
        "transcript.csv", "transcript.json", "transcript.jsonl", "transcript.md",
    ]  # fmt: skip
    assert found["database"] == str(tmp_path / "sm35.db")
    # The chat's count is the recap's; 'collected' also has the bot's and left-out posts.
    assert found["collected"] > found["recap"]["posts"] > 0 and found["recap"]["participants"] > 0
    assert "Transcripts: " in result.stderr  # the running lines went to stderr
