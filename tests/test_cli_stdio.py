"""``-`` for standard input and output: each file argument round trips through a pipe."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import Session, select

from chatbot.cli import cli
from chatbot.db import create_engine_for
from chatbot.models import Event
from tests.test_cli_json import IMPORT_CSV
from tests.test_cli_load import CHAT, QUESTIONS

ROOT = Path(__file__).resolve().parent.parent
GENERATED = re.compile(rb'"generated_at": ?"[^"]*"')
TWARC = "\n".join(
    json.dumps(
        {
            "id_str": tweet_id,
            "full_text": text,
            "created_at": when,
            "user": {"id_str": f"u{author}", "screen_name": author},
            "in_reply_to_status_id_str": parent,
        }
    )
    for tweet_id, author, when, text, parent in (
        ("200", "host", "Thu Mar 04 17:00:00 +0000 2021", "Q1 Why archive? #tw", None),
        ("201", "ana", "Thu Mar 04 17:01:00 +0000 2021", "A1 Memory #tw", "200"),
    )
)


def invoke(*args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, prog_name="chatbot")


@pytest.fixture
def chat_text() -> str:
    return CHAT.format(questions=QUESTIONS)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'chat.db'}"


def test_check_and_preview_read_a_question_file_from_stdin(chat_text: str, tmp_path: Path) -> None:
    piped = invoke("check", "-", stdin=chat_text)
    assert piped.exit_code == 0, piped.output
    assert piped.stdout.startswith("<stdin>: OK, 3 questions, 5 posts")
    file = tmp_path / "sm35.md"
    file.write_text(chat_text, encoding="utf-8")
    from_file = invoke("preview", str(file), "--json")
    from_pipe = invoke("preview", "-", "--json", stdin=chat_text)
    assert json.loads(from_pipe.stdout)["posts"] == json.loads(from_file.stdout)["posts"]

    broken = invoke("check", "-", stdin=chat_text.replace("interval: 10m", "interval: soon"))
    assert broken.exit_code == 2
    assert broken.stdout.startswith("<stdin>:7:")  # located as for a file


def test_check_reads_stdin_once_for_every_dash(chat_text: str) -> None:
    result = invoke("check", "-", "-", "--json", stdin=chat_text)
    assert result.exit_code == 0, result.output
    assert [item["ok"] for item in json.loads(result.stdout)] == [True, True]


def test_load_from_stdin_then_again_updates_the_same_event(
    chat_text: str, url: str, tmp_path: Path
) -> None:
    first = invoke("load", "-", "--database-url", url, "--json", stdin=chat_text)
    assert first.exit_code == 0, first.output
    loaded = json.loads(first.stdout)
    assert loaded["created"] and loaded["source_path"] == "<stdin>"
    again = invoke("load", "-", "--database-url", url, "--json", stdin=chat_text)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["event_id"] == loaded["event_id"]
    assert not json.loads(again.stdout)["created"]
    # The same chat from a file is another source: refused, as two files are.
    file = tmp_path / "sm35.md"
    file.write_text(chat_text, encoding="utf-8")
    clash = invoke("load", str(file), "--database-url", url)
    assert clash.exit_code == 2 and "already loaded from <stdin>" in clash.stderr


@pytest.mark.parametrize("text", [IMPORT_CSV, TWARC], ids=["csv", "twarc"])
def test_import_reads_stdin_and_guesses_its_format(text: str, url: str) -> None:
    result = invoke("import", "-", "--hashtag", "tc", "--host", "host", "--database-url", url,
                    "--json", stdin=text)  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["posts"], report["questions"]) == (len(text.strip().splitlines()) - (
        text is IMPORT_CSV), ["Q1"])  # fmt: skip
    with Session(create_engine_for(url)) as session:
        assert session.exec(select(Event.source_path)).one() == "<stdin>"


def test_a_bad_line_on_stdin_is_located(url: str) -> None:
    result = invoke("import", "-", "--hashtag", "tw", "--host", "host", "--format", "twarc",
                    "--database-url", url, stdin=TWARC + "\n{not json\n")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: <stdin>:3: not twarc JSON")


@pytest.fixture
def imported(url: str, tmp_path: Path) -> str:
    file = tmp_path / "tc.csv"
    file.write_text(IMPORT_CSV, encoding="utf-8")
    result = invoke("import", str(file), "--hashtag", "tc", "--host", "host", "--database-url", url)
    assert result.exit_code == 0, result.output
    return url


@pytest.mark.parametrize("fmt", ["json", "jsonl", "md", "csv"])
def test_transcript_out_dash_is_the_file_on_stdout(fmt: str, imported: str, tmp_path: Path) -> None:
    clock = ["--clock", "system", "--database-url", imported]
    written = invoke("transcript", "tc", "--format", fmt, "--out", str(tmp_path / "out"), *clock)
    assert written.exit_code == 0, written.output
    [file] = (tmp_path / "out").iterdir()
    piped = invoke("transcript", "tc", "--format", fmt, "--out", "-", *clock)
    assert piped.exit_code == 0, piped.output
    # Byte for byte, but for the time each was generated.
    assert GENERATED.sub(b"", piped.stdout_bytes) == GENERATED.sub(b"", file.read_bytes())


def test_transcript_out_dash_wants_one_format_and_no_json(imported: str) -> None:
    both = invoke("transcript", "tc", "--out", "-", "--database-url", imported)
    assert both.exit_code == 2 and "give one --format" in both.stderr
    clash = invoke("transcript", "tc", "--out", "-", "--format", "md", "--json",
                   "--database-url", imported)  # fmt: skip
    assert clash.exit_code == 2
    assert "--json" in json.loads(clash.stdout)["error"]["message"]


def test_a_transcript_piped_into_recap(imported: str, tmp_path: Path) -> None:
    exported = invoke("transcript", "tc", "--format", "json", "--out", "-",
                      "--database-url", imported)  # fmt: skip
    assert exported.exit_code == 0
    piped = invoke("recap", "--transcript", "-", "--out", str(tmp_path / "piped"), "--json",
                   stdin=exported.stdout_bytes)  # fmt: skip
    assert piped.exit_code == 0, piped.output
    direct = invoke("recap", "tc", "--out", str(tmp_path / "db"), "--json",
                    "--database-url", imported)  # fmt: skip
    figures = ("posts", "participants", "conversation_ratio")
    assert [json.loads(piped.stdout)[k] for k in figures] == [
        json.loads(direct.stdout)[k] for k in figures
    ]
    garbage = invoke("recap", "--transcript", "-", "--out", str(tmp_path / "x"), stdin=b"\xff{")
    assert garbage.exit_code == 2 and garbage.stderr.startswith("Error: <stdin>: not a transcript")


def test_sandbox_crowd_reads_and_writes_through_pipes(chat_text: str, tmp_path: Path) -> None:
    file = tmp_path / "plan.json"
    crowd = ["sandbox", "crowd", "-", "--participants", "4", "--seed", "2"]
    to_file = invoke(*crowd, "--output", str(file), stdin=chat_text)
    assert to_file.exit_code == 0, to_file.output
    piped = invoke(*crowd, "--output", "-", stdin=chat_text)
    assert piped.exit_code == 0, piped.output
    assert piped.stdout == file.read_text(encoding="utf-8")
    assert piped.stderr.startswith("#sm35: 4 participants")  # the summary moves to stderr


def _export_lines(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            [found[name]] = shlex.split(value)
    return found


def test_sandbox_serve_env_file_dash_writes_the_variables_on_stdout(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "sandbox", "serve", "--env-file", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    try:
        lines = []
        while not lines or not lines[-1].startswith("export CHATBOT_MASTODON_URL="):
            lines.append(process.stdout.readline())
        ready = json.loads(process.stderr.readline())  # the JSON line moved to stderr
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    assert rest == ""  # nothing else on stdout
    env = _export_lines("".join(lines))
    assert env["CHATBOT_BLUESKY_PASSWORD"] == ready["bluesky"]["password"]
    assert env["CHATBOT_MASTODON_TOKEN"] == ready["mastodon"]["token"]
    assert "CHATBOT_CLOCK" in env


def test_env_file_dash_and_json_both_want_stdout(tmp_path: Path) -> None:
    result = invoke("sandbox", "serve", "--env-file", "-", "--json")
    assert result.exit_code == 2
    assert "--env-file -" in json.loads(result.stdout)["error"]["message"]


@pytest.mark.slow
def test_rehearse_reads_its_file_and_writes_its_variables_through_pipes(tmp_path: Path) -> None:
    from tests.test_rehearse import SHORT

    result = subprocess.run(
        [sys.executable, "-m", "chatbot", "rehearse", "-", "--env-file", "-", "--no-live",
         "--speed", "120", "--participants", "4", "--out", str(tmp_path / "out")],
        input=SHORT, capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    env = _export_lines(result.stdout)
    assert env["CHATBOT_DATABASE_URL"].endswith("out.db")
    assert all(line.startswith(("#", "export ")) for line in result.stdout.splitlines())
    assert "Transcripts: " in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["recap", "tc", "--out", "-"],
        ["archive", "--out", "-"],
        ["demo", "--out", "-"],
        ["sandbox", "serve", "--truth", "-", "--questions", "-"],
    ],
)
def test_dash_is_refused_where_only_a_path_will_do(
    args: list[str], imported: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*args, "--database-url", imported) if args[0] in ("recap", "archive") else (
        invoke(*args))  # fmt: skip
    assert result.exit_code == 2
    assert "not - (standard output); give a path" in result.stderr
    assert not (tmp_path / "-").exists()
