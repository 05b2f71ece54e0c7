"""``chatbot events``: every event in the store, through the CLI, as text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.cli import cli
from chatbot.models import Event, Post, PostDelivery
from tests.test_cli_load import CHAT, QUESTIONS


def events(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["events", "--database-url", database_url, *args])


def test_an_empty_store_says_how_to_begin(database_url: str) -> None:
    result = events(database_url)
    assert result.exit_code == 0
    assert result.output == "No events yet: load a question file with `chatbot load FILE`.\n"
    assert json.loads(events(database_url, "--json").output) == []


def test_every_event_with_its_progress(engine: Engine, database_url: str, tmp_path: Path) -> None:
    for tag, start in (("sm35", "2030-12-03 12:00"), ("lib", "2031-01-07 18:30")):
        path = tmp_path / f"{tag}.md"
        text = CHAT.format(questions=QUESTIONS).replace("sm35", tag)
        path.write_text(text.replace("2030-12-03 12:00", start), encoding="utf-8")
        loaded = CliRunner().invoke(cli, ["load", str(path), "--database-url", database_url])
        assert loaded.exit_code == 0, loaded.output
    with Session(engine) as session:
        sm35 = session.exec(select(Event).where(Event.hashtag == "sm35")).one()
        one, two = session.exec(
            select(PostDelivery).where(PostDelivery.event_id == sm35.id).limit(2)
        ).all()
        one.state, two.state = "posted", "failed"
        session.add(Post(
            network="bluesky", uri="at://did:plc:a/app.bsky.feed.post/1", remote_id="1",
            author_id="did:plc:a", author_handle="a.test", text="A1 yes #sm35",
            created_at=sm35.start_at, event_id=sm35.id,
        ))  # fmt: skip
        session.commit()
        sm35_id = sm35.id

    text = events(database_url)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0].split() == ["id", "hashtag", "start", "state", "posted", "collected"]
    assert "#lib" in lines[1] and "2031-01-07 18:30 EST" in lines[1]  # the latest first
    assert "#sm35" in lines[2] and "2030-12-03 12:00 EST" in lines[2]
    assert lines[2].split()[-4:] == ["1/10", "1", "(1", "failed)"]

    found = json.loads(events(database_url, "--json").output)
    assert [e["hashtag"] for e in found] == ["lib", "sm35"]
    sm35_json = found[1]
    assert (sm35_json["id"], sm35_json["posted"], sm35_json["failed"]) == (sm35_id, 1, 1)
    assert (sm35_json["deliveries"], sm35_json["collected"]) == (10, 1)
    assert sm35_json["state"] == "scheduled" and sm35_json["networks"] == ["bluesky", "mastodon"]

    only = json.loads(events(database_url, "--json", "--state", "finished").output)
    assert only == []


def test_a_state_that_does_not_exist_is_a_usage_error(database_url: str) -> None:
    result = events(database_url, "--state", "done")
    assert result.exit_code == 2
    assert "'done' is not one of" in result.output
