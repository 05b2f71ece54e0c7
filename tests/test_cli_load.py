"""``chatbot load`` on real question files: exact output, exit codes, database effects."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from chatbot.cli import cli
from chatbot.db import create_engine_for
from chatbot.models import Event, PostDelivery, ScheduledPost
from tests.test_load import dump

CHAT = """\
---
hashtag: sm35
title: Conversations, not campaigns
moderators: "@sm35host.bsky.social"
start: 2030-12-03 12:00
timezone: America/New_York
interval: 10m
networks: [bluesky, mastodon]
---

## Welcome

Welcome to #sm35!

## Questions

{questions}

## Wrap-up

Thanks!
"""
QUESTIONS = "Q1. First?\n\nQ2. Second?\n\nQ3. Third?"
FIRST_LOAD = (
    'Loaded #sm35 "Conversations, not campaigns": 5 posts (5 new) on bluesky and mastodon, '
    "first 2030-12-03 12:00 EST\n"
)


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    path = tmp_path / "sm35.md"
    path.write_text(CHAT.format(questions=QUESTIONS), encoding="utf-8")
    return path


def run(*args: str | Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["load", *map(str, args)], env=env)


def content(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine_for(database_url)
    try:
        return dump(engine)
    finally:
        engine.dispose()


def test_load_then_reload(chat, database_url):
    result = run(chat, "--database-url", database_url)
    assert (result.exit_code, result.output) == (0, FIRST_LOAD)
    chat.write_text(
        CHAT.format(questions="Q1. First?\n\nQ2. A better second?\n\nQ3. Third?\n\nQ4. Fourth?"),
        encoding="utf-8",
    )
    result = run(chat, "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert result.output == (
        'Loaded #sm35 "Conversations, not campaigns": 6 posts (1 new) on bluesky and mastodon, '
        "first 2030-12-03 12:00 EST\n"
        "2 updated, 3 unchanged, 0 removed, 0 kept (already posted)\n"
    )


def test_reload_keeps_posted_posts(chat, database_url):
    assert run(chat, "--database-url", database_url).exit_code == 0
    engine = create_engine_for(database_url)
    with Session(engine) as session:
        for delivery in session.exec(
            select(PostDelivery).join(ScheduledPost).where(ScheduledPost.label == "Q1")
        ):
            delivery.state, delivery.remote_id = "posted", "113"
            session.add(delivery)
        session.commit()
    posted = [row for row in dump(engine)["post_delivery"] if "posted" in row]
    # Q1 reworded (too late: it is posted), Q3 dropped, so the wrap-up moves.
    chat.write_text(CHAT.format(questions="Q1. First, reworded?\n\nQ2. Second?"), encoding="utf-8")
    result = run(chat, "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[1]
        == "1 updated, 2 unchanged, 1 removed, 1 kept (already posted)"
    )
    assert [row for row in dump(engine)["post_delivery"] if "posted" in row] == posted
    engine.dispose()


def test_a_conflicting_event_is_refused(chat, database_url, tmp_path):
    assert run(chat, "--database-url", database_url).exit_code == 0
    before = content(database_url)
    other = tmp_path / "copy.md"
    other.write_text(chat.read_text(encoding="utf-8"), encoding="utf-8")
    result = run(other, "--database-url", database_url)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: #sm35 starting 2030-12-03 12:00 EST is already loaded from {chat.resolve()} "
        "(event 1); load that file instead, or give this one another start with --start\n"
    )
    assert content(database_url) == before
    result = run(other, "--database-url", database_url, "--start", "2030-12-10T12:00")
    assert result.exit_code == 0, result.output


def test_an_invalid_file_changes_nothing(chat, database_url):
    assert run(chat, "--database-url", database_url).exit_code == 0
    before = content(database_url)
    chat.write_text(CHAT.format(questions=QUESTIONS).replace("interval: 10m", "interval: soon"))
    result = run(chat, "--database-url", database_url)
    assert result.exit_code == 2
    assert result.output == (
        f'Error: {chat}:7:11: error: interval "soon" is not a duration\n'
        "    fix: write e.g. interval: 5m, 90s or 1h\n"
    )
    assert content(database_url) == before


def test_an_invalid_file_creates_no_database(tmp_path, chat):
    chat.write_text("not a question file\n", encoding="utf-8")
    database = tmp_path / "fresh.db"
    result = run(chat, "--database-url", f"sqlite:///{database}")
    assert result.exit_code == 2 and result.output.startswith(f"Error: {chat}:1:1: error:")
    assert not database.exists()


def test_start_naive_iso_is_in_the_event_zone(chat, database_url):
    result = run(chat, "--database-url", database_url, "--start", "2031-01-07T09:30")
    assert result.exit_code == 0, result.output
    assert result.output == (
        'Loaded #sm35 "Conversations, not campaigns": 5 posts (5 new) on bluesky and mastodon, '
        "first 2031-01-07 09:30 EST\n"
        "note: moved to start at 2031-01-07 09:30:00 EST\n"
    )


def test_start_with_zone_and_compress(chat, database_url):
    result = run(
        chat, "--database-url", database_url, "--start", "2031-01-07T14:30Z", "--compress", "60"
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[1]
        == "note: moved to start at 2031-01-07 09:30:00 EST, 60 times faster"
    )
    engine = create_engine_for(database_url)
    with Session(engine) as session:
        dues = session.exec(select(ScheduledPost.due_at).order_by(ScheduledPost.position)).all()
    engine.dispose()
    start = datetime(2031, 1, 7, 14, 30, tzinfo=UTC)
    assert dues == [start + timedelta(seconds=s) for s in (0, 10, 20, 30, 40)]


def test_start_in_five_minutes(chat, database_url):
    before = datetime.now(UTC)
    result = run(chat, "--database-url", database_url, "--start", "+5m", "--compress", "30")
    after = datetime.now(UTC)
    assert result.exit_code == 0, result.output
    engine = create_engine_for(database_url)
    with Session(engine) as session:
        event = session.exec(select(Event)).one()
    engine.dispose()
    assert before + timedelta(minutes=5) <= event.start_at <= after + timedelta(minutes=5)
    assert event.end_at - event.start_at == timedelta(seconds=80)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--start", "tomorrow"],
            "Error: --start 'tomorrow' is not a time; use an ISO time such as",
        ),
        (["--start", "+5x"], "Error: --start '+5x' is not a delay; use an ISO time such as"),
        (
            ["--compress", "0"],
            "Error: --compress 0 must be a number from 0.01 to 1e+06; e.g. --compress 60",
        ),
        (
            ["--compress", "fast"],
            "Error: Invalid value for '--compress': 'fast' is not a valid float.",
        ),
        (
            ["--start", "2020-01-07T09:30"],
            "Error: --start 2020-01-07T09:30 puts the first post at "
            "2020-01-07 09:30 EST, which is in the past; "
            "give a later --start (e.g. +5m), or add --allow-past",
        ),
    ],
)
def test_bad_start_and_compress_values_are_usage_errors(chat, database_url, args, message):
    assert run(chat, "--database-url", database_url).exit_code == 0
    before = content(database_url)
    result = run(chat, "--database-url", database_url, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert content(database_url) == before


def test_allow_past_loads_an_old_time(chat, database_url):
    result = run(
        chat, "--database-url", database_url, "--start", "2020-01-07T09:30", "--allow-past"
    )
    assert result.exit_code == 0, result.output
    assert "first 2020-01-07 09:30 EST" in result.output


def test_dry_run_writes_nothing(chat, database_url):
    assert run(chat, "--database-url", database_url).exit_code == 0
    before = content(database_url)
    chat.write_text(CHAT.format(questions="Q1. First?"), encoding="utf-8")
    result = run(chat, "--database-url", database_url, "--dry-run")
    assert result.exit_code == 0
    assert result.output == (
        'Would load #sm35 "Conversations, not campaigns": 3 posts (0 new) on bluesky and mastodon, '
        "first 2030-12-03 12:00 EST\n"
        "1 updated, 2 unchanged, 2 removed, 0 kept (already posted)\n"
        "Dry run: nothing was written.\n"
    )
    assert content(database_url) == before


def test_json_output_and_env_database_url(chat, database_url):
    result = run(chat, "--json", env={"CHATBOT_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {k: data[k] for k in ("event_id", "hashtag", "posts", "new", "created", "networks")} == {
        "event_id": 1,
        "hashtag": "sm35",
        "posts": 5,
        "new": 5,
        "created": True,
        "networks": ["bluesky", "mastodon"],
    }
    assert data["start_at"] == "2030-12-03T17:00:00+00:00"
    assert len(content(database_url)["event"]) == 1


def test_an_unreachable_database_is_a_clean_error(chat):
    url = "postgresql+psycopg://bot:s3cret@127.0.0.1:1/chat?connect_timeout=2"
    result = run(chat, "--database-url", url)
    assert result.exit_code == 2
    assert result.output.startswith(
        "Error: cannot use the database at postgresql+psycopg://bot:***@127.0.0.1:1/chat"
    )
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_a_missing_file_is_a_usage_error(tmp_path):
    result = run(tmp_path / "nope.md")
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_the_example_file_loads(database_url):
    example = Path(__file__).resolve().parent.parent / "questions" / "sm35.md"
    result = run(example, "--database-url", database_url, "--start", "2031-01-07T12:00")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        'Loaded #sm35 "Conversations, not campaigns": 5 posts (5 new) on bluesky and mastodon, '
        "first 2031-01-07 12:00 EST"
    )
