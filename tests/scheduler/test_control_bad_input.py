"""Bad input to the live controls, rehearse and sandbox serve: a clear error, exit 2, no
traceback, and the database as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from chatbot.bot import controls
from chatbot.cli import cli
from tests.scheduler.conftest import load_chat

NOW = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
CLOCK = f"accelerated:{datetime.now(UTC).timestamp()}:{NOW.isoformat()}:1.0"


def snapshot(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))]
            for table in ("event", "scheduled_post", "post_delivery")
        }


def invoke(args: list[str], database_url: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "--database-url", database_url, "--clock", CLOCK])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["delay", "sched", "0m"], "a delay of 0 changes nothing"),
        (["delay", "sched", "soon"], "'soon' is not a duration"),
        (["delay", "sched", "-"], "is not a duration"),
        (["delay", "sched", "--5m"], "No such option '--5m'"),
        (["delay", "sched", "-5"], "'-5' is not a duration"),
        (["delay", "sched", "99999d"], "is not a duration"),
        (["delay", "sched", "-2h"], "before now"),
        (["skip", "sched", "Q9"], "has no post 'Q9'; its posts: welcome, Q1, Q2, wrapup"),
        (["skip", "sched", ""], "has no post ''"),
        (["skip", "nosuchtag", "Q1"], "no event #nosuchtag in the database"),
        (["post-now", "sched", "Q2"], "welcome comes before Q2 and is not due yet"),
        (["delay", "sched", "--bogus"], "No such option '--bogus'"),
        (["post-now", "sched", "Q9"], "has no post 'Q9'"),
        (["pause", "99"], "no event with id 99"),
        (["resume", "sched@2030-13-01"], "2030-13-01"),
    ],
)
def test_a_bad_control_changes_nothing(
    args: list[str], says: str, engine: Engine, database_url: str
) -> None:
    load_chat(engine, NOW + timedelta(minutes=30), questions=2)
    before = snapshot(engine)
    code, output = invoke(args, database_url)
    assert code == 2 and "Error: " in output and says in output, output
    assert snapshot(engine) == before


def test_a_finished_chat_refuses_every_control(engine: Engine, database_url: str) -> None:
    load_chat(engine, NOW - timedelta(minutes=5), questions=0, networks=("bluesky",))
    controls.skip(engine, "sched", "welcome", now=NOW)
    controls.skip(engine, "sched", "wrapup", now=NOW)
    before = snapshot(engine)
    for args in (["pause", "sched"], ["resume", "sched"], ["delay", "sched", "5m"]):
        code, output = invoke(args, database_url)
        assert code == 2 and "is finished; there is nothing left to" in output, output
    code, output = invoke(["skip", "sched", "welcome"], database_url)
    assert code == 2 and "is finished" in output
    assert snapshot(engine) == before


QUESTIONS = Path(__file__).resolve().parents[2] / "questions" / "sm35.md"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["rehearse", "no-such-file.md"], "does not exist"),
        (["rehearse", str(QUESTIONS), "--speed", "0"], "--speed"),
        (["rehearse", str(QUESTIONS), "--speed", "nan"], "--speed"),
        (["rehearse", str(QUESTIONS), "--live-port", "70000"], "--live-port"),
        (["rehearse", str(QUESTIONS), "--env-file", "."], "that is a folder"),
        (["rehearse", str(QUESTIONS), "--env-file", "no/such/dir/x.env"], "does not exist"),
        (["rehearse", "BAD"], "questions/bad.md"),
        (["sandbox", "serve", "--env-file", "."], "that is a folder"),
    ],
)
def test_rehearse_and_serve_refuse_bad_input_before_any_work(
    args: list[str], says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "questions" / "bad.md"
    bad.parent.mkdir()
    bad.write_text("---\nhashtag: x\n---\nQ2. out of order\n", encoding="utf-8")
    args = [str(bad.relative_to(tmp_path)) if a == "BAD" else a for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 2 and says in result.output, result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["questions"]  # nothing written
