"""``chatbot review`` and ``assign``: exact output, exit codes, and the recap they change."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, select

from chatbot.cli import cli
from chatbot.db import open_store
from chatbot.models import AttributionOverride
from tests.export.test_review import BOB, BOB_URI, DAN, DAN_URI, chat
from tests.recap.htmltree import parse

REVIEW_TEXT = f"""#sm35: 2 posts under 0.60 or with no question

2030-12-03 17:05 UTC  @dan.test  bluesky
  {DAN}
  I learned from my mum
  guess: Q1 (time, 0.31)  runner-up: Q2

2030-12-03 17:12 UTC  @bob.test  bluesky
  {BOB}
  anyone else tired today
  guess: Q2 (time, 0.38)  runner-up: Q1
"""


def stored(database_url: str) -> str:
    with open_store(database_url) as engine:
        chat(engine)
    return database_url


def run(database_url: str, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, [*args, "--database-url", database_url], input=stdin)


def decisions(database_url: str) -> list[tuple[str, str | None, str]]:
    with open_store(database_url) as engine, Session(engine) as session:
        rows = session.exec(select(AttributionOverride).order_by(AttributionOverride.uri)).all()
        return [(row.uri, row.question_label, row.set_by) for row in rows]


def test_review_prints_each_unsure_post(database_url: str) -> None:
    url = stored(database_url)
    result = run(url, "review", "sm35")
    assert (result.exit_code, result.output) == (0, REVIEW_TEXT)
    result = run(url, "review", "sm35", "--below", "0.3")
    assert result.output == "#sm35: nothing to review (every post is at 0.30 or above).\n"
    result = run(url, "review", "sm35", "--json")
    listed = json.loads(result.output)
    assert listed["questions"] == ["Q1", "Q2"]
    assert [(p["uri"], p["guess"], p["runner_up"]) for p in listed["posts"]] == [
        (DAN_URI, "Q1", "Q2"),
        (BOB_URI, "Q2", "Q1"),
    ]


def test_assign_and_auto(database_url: str) -> None:
    url = stored(database_url)
    result = run(url, "assign", "sm35", BOB, "q1", "--by", "sam")
    assert (result.exit_code, result.output) == (
        0,
        f"Assigned {BOB_URI} to Q1 (set by sam).\n",
    )
    assert decisions(url) == [(BOB_URI, "Q1", "sam")]
    assert "@bob.test" not in run(url, "review", "sm35").output
    result = run(url, "assign", "sm35", BOB, "--auto")
    assert result.output == f"Removed the decision on {BOB_URI}; it is attributed automatically.\n"
    result = run(url, "assign", "sm35", BOB, "--auto")
    assert result.output == f"{BOB} had no moderator's decision; nothing changed.\n"
    assert decisions(url) == []


def test_assign_from_stdin(database_url: str) -> None:
    url = stored(database_url)
    lines = f"{BOB},Q1\n{DAN},none\n"
    result = run(url, "assign", "sm35", "--from", "-", "--by", "sam", stdin=lines)
    assert (result.exit_code, result.output) == (
        0,
        "Applied 2 decisions from <stdin> (set by sam).\n",
    )
    assert decisions(url) == [(BOB_URI, "Q1", "sam"), (DAN_URI, None, "sam")]


def test_errors_exit_2_and_change_nothing(database_url: str, tmp_path: Path) -> None:
    url = stored(database_url)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{BOB},Q1\n{DAN}\n", encoding="utf-8")
    cases = [
        (
            ["assign", "sm35", BOB + "x", "Q1"],
            f"Error: no post '{BOB}x' collected for #sm35; give its URL or URI as "
            "`chatbot review EVENT` shows it (run `chatbot collect EVENT` first if it is new)\n",
        ),
        (
            ["assign", "sm35", BOB, "Q3"],
            "Error: 'Q3' is not a question of #sm35 (its questions: Q1, Q2); give one of "
            "them, or `none` for a post that answers no question\n",
        ),
        (
            ["assign", "sm35", "--from", str(bad)],
            f"Error: {bad}:2: expected 2 or 3 columns (post,question[,note]), found 1: "
            f"'{DAN}'; fix the line, e.g. `https://bsky.app/profile/ana.example/post/3kq,Q3`; "
            "nothing was changed\n",
        ),
        (
            ["assign", "sm35", BOB],
            "Error: give QUESTION (a label such as Q3, or none), or --auto to undo\n",
        ),
        (["assign", "sm35", BOB, "Q1", "--auto"], "Error: give QUESTION or --auto, not both\n"),
        (
            ["assign", "sm35", BOB, "--from", str(bad)],
            "Error: give either --from FILE or POST, not both\n",
        ),
    ]
    for args, message in cases:
        result = run(url, *args)
        assert (result.exit_code, result.output) == (2, message), args
    assert decisions(url) == []


def test_the_recap_shows_the_moderators_question(database_url: str, tmp_path: Path) -> None:
    url = stored(database_url)
    assert run(url, "assign", "sm35", BOB, "Q1", "--by", "sam").exit_code == 0
    out = tmp_path / "site"
    result = run(url, "recap", "sm35", "--out", str(out))
    assert result.exit_code == 0, result.output
    page, errors = parse((out / "index.html").read_text(encoding="utf-8"))
    assert errors == []
    marks = [node for node in page.iter("span") if "assigned" in node.classes()]
    assert [mark.text() for mark in marks] == ["Q1 set by moderator"]
    entry = marks[0].closest("li")
    assert entry is not None and "anyone else tired today" in entry.text()
    section = entry.closest("section")
    assert section is not None and section.attrs.get("aria-labelledby") == "q1"
