"""Hostile arguments get a clear message and exit code 2, never a traceback, and store nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from chatbot.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SM35 = str(ROOT / "questions" / "sm35.md")


def run(args: list[str], tmp_path: Path) -> tuple[int, str]:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    result = CliRunner().invoke(cli, [*args, "--database-url", url])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def stored_events(tmp_path: Path) -> int:
    path = tmp_path / "chat.db"
    if not path.exists():
        return 0
    engine = create_engine(f"sqlite:///{path}")
    try:
        if "event" not in inspect(engine).get_table_names():
            return 0
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM event").scalar() or 0)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["load", SM35, "--start", "9999-12-31T23:00"], "out of range"),
        (["load", SM35, "--start", "9999-12-31T23:59+14:00"], "more than 5 years"),
        (["load", SM35, "--start", "2099-01-01T00:00Z"], "more than 5 years"),
        (["load", SM35, "--start", "0001-01-01T00:00"], "before 1970"),
        (["load", SM35, "--start", "+99999999999999d"], "more than 5 years"),
        (["load", SM35, "--start", "+5m", "--compress", "0"], "--compress 0 must be"),
        (["load", SM35, "--start", "+5m", "--compress", "1e-300"], "must be a number from"),
        (["load", SM35, "--start", "+5m", "--compress", "1e300"], "must be a number from"),
        (["load", SM35, "--start", "+5m", "--compress", "nan"], "must be a number from"),
        (["load", SM35, "--start", "+5m", "--compress", "-2"], "must be a number from"),
        (["load", SM35, "--start", "+5m", "--compress", "-0"], "must be a number from"),
        (["review", "1", "--below", "nan"], "is not a number"),
        (["review", "1", "--clock", "accelerated:1:2026-01-01T00:00:00+00:00:nan"], "speed"),
        (["review", "1", "--clock", "accelerated:1:2026-01-01T00:00:00+00:00:-5"], "speed"),
        (["review", "1", "--clock", "accelerated:1:2026-01-01T00:00:00+00:00:inf"], "speed"),
        (["review", "1", "--clock", "accelerated:nan:2026-01-01T00:00:00+00:00:60"], "origin"),
        (["review", "1", "--clock", "accelerated:1:2026-01-01T00:00:00:60"], "time zone"),
        (["review", "1", "--clock", "file:nan:clock.txt"], "speed"),
        (["review", "1", "--clock", "file:60:/no/such/clock/file"], "No such file"),
    ],
)
def test_hostile_arguments_are_usage_errors(args: list[str], says: str, tmp_path: Path) -> None:
    code, output = run(args, tmp_path)
    assert code == 2, output
    assert "Error:" in output and says in output, output
    assert stored_events(tmp_path) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["login", "mastodon", "--instance", "http://[::1"],
        ["login", "mastodon", "--instance", "\x1b[31mred"],
        ["login", "bluesky", "--handle", "a.bsky.social", "--pds", "https://[host"],
    ],
)
def test_a_server_address_that_cannot_be_parsed_is_refused(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args, input="")
    assert result.exit_code == 2 and "is not a server address" in result.output, result.output


def test_an_output_folder_that_is_a_device_is_refused(tmp_path: Path) -> None:
    url = _loaded(tmp_path)
    result = CliRunner().invoke(cli, ["archive", "--out", "/dev/null", "--database-url", url])
    assert result.exit_code == 2 and result.output == "Error: /dev/null: File exists\n"


@pytest.mark.parametrize("command", [["demo"], ["sandbox", "serve"]])
def test_a_speed_that_is_no_number_is_refused(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--speed", "nan"])
    assert result.exit_code == 2 and "'nan' is not a number" in result.output


def test_an_import_file_not_in_utf8_names_the_line(tmp_path: Path) -> None:
    chat = tmp_path / "latin1.csv"
    chat.write_bytes(
        b"id,author,created_at,text,in_reply_to_id\n1,host,2022-01-01T00:00:00Z,Q1 caf\xe9?,\n"
    )
    code, output = run(["import", str(chat), "--hashtag", "x", "--host", "host"], tmp_path)
    assert code == 2
    assert f"{chat}:2: not UTF-8 text (byte 0xe9)" in output
    assert stored_events(tmp_path) == 0


def test_an_import_field_over_the_csv_limit_names_the_line(tmp_path: Path) -> None:
    chat = tmp_path / "big.csv"
    text = "x" * 200_000
    chat.write_text(
        f'id,author,created_at,text,in_reply_to_id\n1,host,2022-01-01T00:00:00Z,"{text}",\n',
        encoding="utf-8",
    )
    code, output = run(["import", str(chat), "--hashtag", "x", "--host", "host"], tmp_path)
    assert code == 2
    assert f"{chat}:2: not a CSV row (field larger than field limit (131072))" in output
    assert stored_events(tmp_path) == 0


def test_a_title_of_megabytes_is_refused(tmp_path: Path) -> None:
    chat = tmp_path / "chat.csv"
    chat.write_text(
        "id,author,created_at,text,in_reply_to_id\n1,host,2022-01-01T00:00:00Z,Q1 hi?,\n",
        encoding="utf-8",
    )
    huge = "x" * 10_000_000
    args = ["import", str(chat), "--hashtag", "x", "--host", "host", "--title", huge]
    code, output = run(args, tmp_path)
    assert code == 2 and "--title is 10,000,000 characters long" in output
    assert stored_events(tmp_path) == 0

    questions = tmp_path / "big.md"
    text = Path(SM35).read_text(encoding="utf-8")
    start = text.index("title:")
    end = text.index("\n", start)
    questions.write_text(text[:start] + "title: " + "y" * 100_000 + text[end:], encoding="utf-8")
    code, output = run(["load", str(questions), "--start", "+5m"], tmp_path)
    assert code == 2 and "title is 100,000 characters long" in output, output
    assert stored_events(tmp_path) == 0


def _loaded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    result = CliRunner().invoke(cli, ["load", SM35, "--start", "+1d", "--database-url", url])
    assert result.exit_code == 0, result.output
    return url


def _dump(tmp_path: Path) -> list[str]:
    import sqlite3

    connection = sqlite3.connect(tmp_path / "chat.db")
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["hide", "sm35", "x", "--reason", "r" * 10_000_000], "--reason is 10,000,000 characters"),
        (["hide", "sm35", "x", "--reason", "spam\x00link"], "--reason holds the control character"),
        (["assign", "sm35", "x", "Q1", "--by", "b" * 5000], "--by is 5,000 characters long"),
        (["run", "sm35", "--recap-url", "u" * 100_000], "--recap-url is 100,000 characters"),
        (["recap", "sm35", "--url", "https://x/\n"], "--url holds the control character"),
        (["import", SM35, "--hashtag", "h" * 1000, "--host", "h"], "--hashtag is 1,000 characters"),
    ],
)
def test_free_text_over_its_limit_is_refused(args: list[str], says: str, tmp_path: Path) -> None:
    url = _loaded(tmp_path)
    before = _dump(tmp_path)
    result = CliRunner().invoke(cli, [*args, "--database-url", url])
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output, result.output[-500:]
    assert _dump(tmp_path) == before


def test_front_matter_text_over_its_limit_is_refused(tmp_path: Path) -> None:
    text = Path(SM35).read_text(encoding="utf-8")
    for old, new, says in [
        ('"@sm35host.bsky.social"', '"' + "m" * 1_000_000 + '"', "each moderator is 1,000,000"),
        ("America/New_York", "A" * 100_000, "timezone is 100,000 characters long; at most 1,000"),
        ("language: en", "language: " + "e" * 5000, "language is 5,000 characters long"),
    ]:
        questions = tmp_path / "big.md"
        questions.write_text(text.replace(old, new), encoding="utf-8")
        code, output = run(["load", str(questions), "--start", "+5m"], tmp_path)
        assert code == 2 and says in output, output[-500:]
        assert len(output) < 2000  # the message quotes no megabyte
        assert stored_events(tmp_path) == 0


def test_run_refused_for_missing_credentials_stores_none_of_its_options(tmp_path: Path) -> None:
    url = _loaded(tmp_path)
    before = _dump(tmp_path)
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("CHATBOT_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    args = ["run", "sm35", "--layout", "thread", "--late-limit", "5m", "--database-url", url]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2 and "no Bluesky credentials" in result.output, result.output
    assert _dump(tmp_path) == before


def test_a_decision_note_over_its_limit_is_refused(tmp_path: Path) -> None:
    url = _loaded(tmp_path)
    before = _dump(tmp_path)
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("https://example.social/@ana/1,Q1," + "n" * 5000 + "\n", encoding="utf-8")
    args = ["assign", "sm35", "--from", str(decisions), "--database-url", url]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert f"{decisions}:1: the note is 5,000 characters long; at most 1,000" in result.output
    assert _dump(tmp_path) == before
