"""``run_demo``: the example chat on the sandbox, from question file to exports and recap."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from chatbot.cli import cli
from chatbot.demo import DemoOptions, run_demo
from chatbot.hints import commands_in
from chatbot.sandbox.crowd import HOSTILE_PAYLOADS
from tests.recap.counts import every_count
from tests.recap.htmltree import parse

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_demo_writes_exports_and_a_recap(tmp_path: Path) -> None:
    lines: list[str] = []
    out = tmp_path / "sm35"
    options = DemoOptions(
        file=ROOT / "questions" / "sm35.md", speed=240, participants=12, seed=2, out=out
    )
    result = run_demo(options, say=lines.append)
    assert result.recap.path == out / "index.html"
    assert {path.name for path in result.exports} == {
        "transcript.json", "transcript.jsonl", "transcript.md", "transcript.csv",
    }  # fmt: skip
    assert result.database == tmp_path / "sm35.db"
    posted = [line for line in lines if "  posted" in line and "  reply: " not in line]
    # The crowd's late joiners ask the bot for a question and get it (bot.latejoiners).
    replies = [line for line in lines if "  reply: " in line]
    assert replies and all("  posted  http://127.0.0.1:" in line for line in replies), lines
    labels = ["welcome", "Q1", "Q2", "Q3", "wrapup"]
    assert sorted((line.split()[3], line.split()[2]) for line in posted) == sorted(
        (network, label) for network in ("bluesky", "mastodon") for label in labels
    )
    assert lines[-2] == result.recap.message()
    # The last line says where the database is, with a command that works on it.
    [command] = commands_in(lines[-1])
    assert str(result.database) in lines[-1]
    shown = CliRunner().invoke(cli, command)
    assert shown.exit_code == 0 and "Q3" in shown.output, shown.output
    root, errors = parse(result.recap.path.read_text(encoding="utf-8"))
    assert errors == []
    sections = [h.text() for h in root.iter("h3")]
    assert sections[1:4] == ["Q1", "Q2", "Q3"]
    summary = result.recap.summary
    assert summary.participants >= 6 and summary.posts >= 40  # 12 people, spam and opt-outs aside
    assert all(count > 0 for _, count in summary.answers)

    # Every link printed or exported goes to the sandbox's pages, not bsky.app; the
    # recap, made to be published, links none of them: they die with the sandbox.
    sandbox = re.compile(r"http://127\.0\.0\.1:\d+/(profile/|@)")
    printed = [word for line in posted for word in line.split() if "://" in word]
    assert len(printed) == len(posted) and all(sandbox.match(url) for url in printed), printed
    document = json.loads((out / "transcript.json").read_text(encoding="utf-8"))
    urls = [post["url"] for post in document["posts"] if post["url"]]
    assert len(urls) >= 40 and all(sandbox.match(url) for url in urls)
    recap = result.recap.path.read_text(encoding="utf-8")
    hrefs = [a.attrs["href"] for a in root.iter("a") if "href" in a.attrs]
    assert "bsky.app" not in recap and not [url for url in hrefs if "://" in url]
    assert len(list(root.iter("time"))) >= summary.posts  # each post keeps its time

    # One count everywhere: the demo's last words, the recap, the archive, the exports
    # and status say the same posts and participants of this chat.
    assert f"{summary.participants} participants, {summary.posts} posts" in lines[-2]
    found = every_count(f"sqlite:///{result.database}", "sm35", tmp_path / "reports")
    assert set(found.values()) == {(summary.posts, summary.participants)}, found

    # A showcase, not a test run: no hostile strings, the footer on the chat's own clock.
    people = {post["author"]["display_name"] for post in document["posts"]}
    for text in [post["text"] for post in document["posts"]] + sorted(people):
        assert "<" not in text and not any(p in text for p in HOSTILE_PAYLOADS), text
    footer = root.find("footer")
    assert footer is not None
    said = re.search(r" on \w+ (\d+ \w+ \d{4}) at (\d\d:\d\d) ", " ".join(footer.text().split()))
    assert said is not None, footer.text()
    zone = ZoneInfo(document["event"]["timezone"])
    made = datetime.strptime(f"{said[1]} {said[2]}", "%d %B %Y %H:%M").replace(tzinfo=zone)
    last = max(datetime.fromisoformat(post["created_at"]) for post in document["posts"])
    assert last - timedelta(minutes=1) <= made <= last + timedelta(hours=2), (made, last)
    assert datetime.fromisoformat(document["generated_at"]) >= last


def test_demo_collects_from_two_federating_mastodon_instances(tmp_path: Path) -> None:
    options = DemoOptions(
        file=ROOT / "questions" / "community-archives.md",
        speed=240,
        participants=14,
        seed=2,
        out=tmp_path / "archives",
    )
    assert options.mastodon_instances == 2  # the default: the bot's instance and another
    lines: list[str] = []
    result = run_demo(options, say=lines.append)
    assert lines[1].startswith("Mastodon: 2 federating instances, the bot's on http://127.0.0.1:")
    document = json.loads((tmp_path / "archives" / "transcript.json").read_text("utf-8"))
    handles = {
        post["author"]["handle"] for post in document["posts"] if post["network"] == "mastodon"
    }
    remote = {handle for handle in handles if "@" in handle}
    assert remote and handles - remote  # people of both instances, as the bot's instance shows
    assert all(re.fullmatch(r"[a-z_]+@127\.0\.0\.1:\d+", handle) for handle in remote)
    assert result.recap.summary.posts >= 40


def test_demo_refuses_profiles_that_do_not_fit(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--mastodon-instances", "3", "--profile", "mastodon,gotosocial"]
    )
    assert result.exit_code == 2
    assert result.output == (
        "Error: 2 profiles (mastodon,gotosocial) for 3 Mastodon instances: "
        "give one profile for all, or one per instance\n"
    )
