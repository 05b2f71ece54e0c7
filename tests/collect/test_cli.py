"""``chatbot collect``, ``hide`` and ``transcript``: exact output and exit codes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.cli import cli
from chatbot.models import Event, Post
from tests.export.util import post, stored_chat


def run(engine: Engine, *args: str) -> tuple[int, str]:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, [*args, "--database-url", url])
    return result.exit_code, result.output


def test_hide_by_url_keeps_the_row_and_its_reason(engine: Engine, tmp_path: Path) -> None:
    event_id = stored_chat(engine, [post(1, "A1 off topic #sm35", author="ann")])
    url = "https://bsky.app/profile/ann.test/post/0000000000001"
    code, output = run(engine, "hide", "sm35", url, "--reason", "off topic", "--no-threadgate")
    assert (code, output) == (
        0,
        "Hidden at://did:plc:ann/app.bsky.feed.post/0000000000001 from exports.\n",
    )
    code, output = run(engine, "hide", str(event_id), url, "--reason", "rude", "--no-threadgate")
    assert code == 0 and output.endswith("(it was hidden already; reason replaced).\n")
    with Session(engine) as session:
        row = session.execute(select(Post).where(Post.url == url)).scalars().one()
        assert row.hidden_reason == "rude" and row.deleted_at is None
    code, output = run(engine, "transcript", "sm35", "--format", "json", "--out", str(tmp_path))
    assert code == 0 and "off topic" not in (tmp_path / "transcript.json").read_text()


def test_hide_and_collect_refuse_bad_input_cleanly(engine: Engine) -> None:
    stored_chat(engine, [post(1, "A1 hello #sm35")])
    assert run(engine, "hide", "sm35", "https://nowhere.example/1", "--reason", "x") == (
        2,
        "Error: no post 'https://nowhere.example/1' collected for #sm35; give its URL or URI "
        "as shown in the transcript (run `chatbot collect EVENT` first if it is new)\n",
    )
    assert run(engine, "hide", "nochat", "x", "--reason", "x") == (
        2,
        "Error: no event #nochat in the database; "
        "`chatbot load FILE` (or `chatbot import FILE`) stores one\n",
    )
    assert run(engine, "collect", "sm35", "--since", "yesterday") == (
        2,
        "Error: --since 'yesterday' is not a time; use ISO 8601, e.g. 2027-12-07T17:00Z\n",
    )
    code, output = run(
        engine, "collect", "sm35", "--since", "2030-12-03T18:00Z", "--until", "2030-12-03T17:00Z"
    )
    assert (code, output) == (2, "Error: --since must be before --until\n")


def test_transcript_judges_the_chat_running_now_by_its_clock(
    engine: Engine, tmp_path: Path
) -> None:
    # Two chats of one hashtag a week apart (2030-12-03 and 2030-12-10). By the
    # system clock (years before) neither has started, so the next one: the first.
    # A sandbox clock inside the second chat picks the second.
    from datetime import timedelta

    from chatbot.bot.loading import load_event
    from chatbot.clock import AcceleratedClock
    from tests.export.util import START
    from tests.factories import make_plan

    stored_chat(engine, [post(1, "A1 hello #sm35")])
    later = make_plan(start=START + timedelta(days=7), questions=["Later?"])
    load_event(engine, later, source_path="questions/sm35-later.md")
    inside = AcceleratedClock.starting_now(1.0, START + timedelta(days=7, minutes=5)).describe()

    code, output = run(engine, "transcript", "sm35", "--format", "json", "--out", str(tmp_path))
    assert code == 0, output
    first = (tmp_path / "transcript.json").read_text()
    assert '"start": "2030-12-03T17:00:00Z"' in first
    code, output = run(
        engine, "transcript", "sm35", "--clock", inside, "--format", "json", "--out", str(tmp_path)
    )
    assert code == 0, output
    assert '"start": "2030-12-10T17:00:00Z"' in (tmp_path / "transcript.json").read_text()


def test_collect_refuses_an_unknown_live_source_and_changes_nothing(engine: Engine) -> None:
    event_id = stored_chat(engine, [post(1, "A1 hello #sm35")])
    code, output = run(engine, "collect", "sm35", "--live", "radio")
    assert code == 2 and "Invalid value for '--live': 'radio' is not one of" in output
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        cli, ["collect", "sm35", "--once", "--database-url", url],
        env={"CHATBOT_BLUESKY_LIVE": "radio"},
    )  # fmt: skip
    assert (result.exit_code, result.output) == (
        2,
        "Error: setting bluesky_live is 'radio'; use one of: jetstream, firehose, both "
        "(default 'jetstream')\n",
    )
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None and "bluesky_live" not in (event.settings or {})


def test_hide_says_when_bluesky_could_not_take_the_threadgate(
    engine: Engine, tmp_path: Path
) -> None:
    # The reply is under the bot's Q1; Bluesky can't be reached: hidden from the exports all
    # the same, and told so, with exit 1 and what to do.
    event_id = stored_chat(engine, [post(1, "A1 rude words #sm35", author="ann", parent=901)])
    url = "https://bsky.app/profile/ann.test/post/0000000000001"
    env = {
        "CHATBOT_BLUESKY_HANDLE": "chatbot.test",
        "CHATBOT_BLUESKY_PASSWORD": "not-used-here",
        "CHATBOT_BLUESKY_SERVICE": "http://127.0.0.1:9",  # nothing listens there
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    database = engine.url.render_as_string(hide_password=False)
    result = CliRunner(env=env).invoke(
        cli, ["hide", str(event_id), url, "--reason", "rude", "--database-url", database]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        "Hidden at://did:plc:ann/app.bsky.feed.post/0000000000001 from exports. "
        "Not hidden in the Bluesky thread: "
    )
    assert result.output.endswith("; run the same command again to set the threadgate.\n")
    assert "not-used-here" not in result.output
    assert "network error (" in result.output and "()" not in result.output  # says what failed
    with Session(engine) as session:
        row = session.execute(select(Post).where(Post.url == url)).scalars().one()
        assert row.hidden_reason == "rude"
