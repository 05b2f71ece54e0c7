"""`chatbot check` and `chatbot preview`: exact output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chatbot.cli import cli

GOOD = """---
hashtag: sm35
title: Conversations, not campaigns
start: 2030-12-03 12:00
timezone: America/New_York
networks: [bluesky, mastodon]
---
## Welcome

Welcome to #sm35!

## Questions

Q1. Why talk with customers?
Q2. What changes when you listen?

## Wrap-up

Thanks!
"""
BAD = """---
hashtag: sm35
title: Broken
start: 2030-12-03 12:00
timezone: America/New_Yrok
---
Q1. One?
Q3. Three?
"""
OVERLAP = GOOD.replace("2030-12-03 12:00", "2030-11-03 01:30")


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("good.md").write_text(GOOD, encoding="utf-8")
    Path("bad.md").write_text(BAD, encoding="utf-8")
    Path("overlap.md").write_text(OVERLAP, encoding="utf-8")

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args))

    return invoke


def test_check_ok(run):
    result = run("check", "good.md")
    assert result.exit_code == 0
    assert (
        result.output
        == "good.md: OK, 2 questions, 4 posts, starts 2030-12-03 12:00 EST (17:00 UTC)\n"
    )


def test_check_reports_every_error_and_exits_2(run):
    result = run("check", "good.md", "bad.md")
    assert result.exit_code == 2
    assert result.output == (
        "good.md: OK, 2 questions, 4 posts, starts 2030-12-03 12:00 EST (17:00 UTC)\n"
        'bad.md:5:11: error: unknown time zone "America/New_Yrok" '
        '(did you mean "America/New_York"?)\n'
        "    fix: use an IANA name such as America/New_York, Europe/Berlin or UTC\n"
        "bad.md:8:1: error: Q3 follows Q1: expected Q2\n"
        "    fix: number the questions Q1, Q2, Q3, ... in order (Q2a, Q2b for parts of Q2)\n"
        "bad.md: 2 errors\n"
    )


def test_check_prints_notes_of_a_good_file(run):
    result = run("check", "overlap.md")
    assert result.exit_code == 0
    assert result.output == (
        "overlap.md:4:8: note: 2030-11-03 01:30 happens twice in America/New_York (clocks go "
        "back); using the first one, EDT (UTC-04:00), which is 05:30 UTC\n"
        "    fix: write another time if you meant the second one\n"
        "overlap.md: OK, 2 questions, 4 posts, starts 2030-11-03 01:30 EDT (05:30 UTC)\n"
    )


def test_check_a_missing_file(run):
    result = run("check", "nope.md")
    assert result.exit_code == 2
    assert result.output == (
        "nope.md:1:1: error: cannot read the file: No such file or directory\n"
        "    fix: check the path and that the file is readable\n"
        "nope.md: 1 error\n"
    )


def test_check_json(run):
    result = run("check", "--json", "good.md", "bad.md")
    assert result.exit_code == 2
    data = json.loads(result.output)
    assert [(d["path"], d["ok"]) for d in data] == [("good.md", True), ("bad.md", False)]
    assert data[0]["problems"] == []
    assert data[0]["summary"]["posts"] == 4
    assert data[0]["summary"]["start"] == "2030-12-03T12:00:00-05:00"
    assert data[1]["summary"] is None
    assert data[1]["problems"][1] == {
        "path": "bad.md",
        "line": 8,
        "column": 1,
        "severity": "error",
        "message": "Q3 follows Q1: expected Q2",
        "hint": "number the questions Q1, Q2, Q3, ... in order (Q2a, Q2b for parts of Q2)",
    }


def test_check_mastodon_limit_and_allow_past(run):
    Path("long.md").write_text(GOOD.replace("Thanks!", "Thanks! " + "x" * 100), encoding="utf-8")
    result = run("check", "--mastodon-limit", "100", "long.md")
    assert result.exit_code == 2
    assert (
        "long.md:17:1: error: The wrap-up is 114 characters on Mastodon (limit 100): 14 over"
        in result.output
    )
    Path("old.md").write_text(GOOD.replace("2030-", "2020-"), encoding="utf-8")
    assert run("check", "old.md").exit_code == 2
    assert run("check", "--allow-past", "old.md").exit_code == 0


def test_check_needs_a_file(run):
    result = run("check")
    assert result.exit_code == 2
    assert "Missing argument 'FILES...'" in result.output


def test_preview_table(run):
    result = run("preview", "good.md", "--tz", "Europe/Berlin", "--tz", "Asia/Tokyo")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "#sm35 · Conversations, not campaigns · Tue 2030-12-03 12:00 EST · bluesky, mastodon\n"
        "2 questions, 4 posts; ends 12:30 EST\n"
        "\n"
        "POST     AMERICA/NEW_YORK  EUROPE/BERLIN  ASIA/TOKYO     UTC    LENGTH\n"
        "welcome  12:00 EST         18:00 CET      02:00 JST +1d  17:00  bsky 17/300  masto 17/500\n"  # noqa: E501
        "         Welcome to #sm35!\n"
        "\n"
        "Q1       12:10 EST         18:10 CET      02:10 JST +1d  17:10  bsky 34/300  masto 34/500\n"  # noqa: E501
        "         Q1: Why talk with customers? #sm35\n"
        "\n"
        "Q2       12:20 EST         18:20 CET      02:20 JST +1d  17:20  bsky 39/300  masto 39/500\n"  # noqa: E501
        "         Q2: What changes when you listen? #sm35\n"
        "\n"
        "wrapup   12:30 EST         18:30 CET      02:30 JST +1d  17:30  bsky 13/300  masto 13/500\n"  # noqa: E501
        "         Thanks! #sm35\n"
    )


def test_preview_wraps_long_text_to_the_width(run):
    Path("long.md").write_text(GOOD.replace("Thanks!", "Thanks! " + "word " * 40), encoding="utf-8")
    result = run("preview", "long.md")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[-1].startswith("         word")
    assert lines[-1].endswith("word #sm35")


def test_preview_json(run):
    result = run("preview", "good.md", "--json", "--tz", "Asia/Tokyo")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["hashtag"] == "sm35"
    first = data["posts"][1]
    assert first["label"] == "Q1"
    assert first["due_at"] == "2030-12-03T17:10:00+00:00"
    assert first["times"] == {
        "America/New_York": "2030-12-03T12:10:00-05:00",
        "Asia/Tokyo": "2030-12-04T02:10:00+09:00",
        "UTC": "2030-12-03T17:10:00+00:00",
    }
    assert first["texts"]["mastodon"] == "Q1: Why talk with customers? #sm35"
    assert first["lengths"] == {
        "bluesky": {"length": 34, "limit": 300},
        "mastodon": {"length": 34, "limit": 500},
    }


def test_preview_bad_zone_is_a_usage_error(run):
    result = run("preview", "good.md", "--tz", "Europe/Berln")
    assert result.exit_code == 2
    assert result.output.endswith(
        "Error: Invalid value for '--tz': unknown time zone \"Europe/Berln\" "
        '(did you mean "Europe/Berlin"?)\n'
    )
    assert "Traceback" not in result.output


def test_preview_of_a_bad_file_prints_its_problems(run):
    result = run("preview", "bad.md")
    assert result.exit_code == 2
    assert result.output == (
        'bad.md:5:11: error: unknown time zone "America/New_Yrok" '
        '(did you mean "America/New_York"?)\n'
        "    fix: use an IANA name such as America/New_York, Europe/Berlin or UTC\n"
        "bad.md:8:1: error: Q3 follows Q1: expected Q2\n"
        "    fix: number the questions Q1, Q2, Q3, ... in order (Q2a, Q2b for parts of Q2)\n"
    )


@pytest.mark.parametrize("command", ["check", "preview"])
def test_help_has_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: chatbot " + command in result.output


def test_preview_with_many_zones_moves_lengths_under_the_times(run):
    zones = ["America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata"]
    result = run("preview", "good.md", *[arg for zone in zones for arg in ("--tz", zone)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[lines.index("         Q1: Why talk with customers? #sm35") - 1] == (
        "         bsky 34/300  masto 34/500"
    )
