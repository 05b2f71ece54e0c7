"""Every report's count of one chat, read as a user reads it: the commands' output and pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from chatbot.cli import cli

from .htmltree import parse


def _number(text: str) -> int:
    return int(text.split()[0].replace(",", ""))


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def every_count(database_url: str, event: str, folder: Path) -> dict[str, tuple[int, int]]:
    """(posts, participants) of ``event`` as each report shows them.

    The recap's page and ``--json``, the archive page's row, ``chatbot
    transcript --json``, its JSON and its Markdown, ``chatbot status --json`` and its
    text. The event must be the database's only chat of its hashtag. The recap's
    new and returning participants are checked against the archive's on the way.
    """
    db = ("--database-url", database_url)
    found: dict[str, tuple[int, int]] = {}
    recap_dir = folder / "recap"
    recap = json.loads(_run("recap", event, "--out", str(recap_dir), "--json", *db))
    found["recap --json"] = (recap["posts"], recap["participants"])
    root, errors = parse((recap_dir / "index.html").read_text(encoding="utf-8"))
    assert errors == []
    figures = {
        dt.text().strip(): dd.text() for div in root.iter("div")
        for dt in div.iter("dt") for dd in div.iter("dd")
    }  # fmt: skip
    found["recap page"] = (_number(figures["Posts"]), _number(figures["Participants"]))

    archive_dir = folder / "archive"
    _run("archive", "--out", str(archive_dir), *db)
    page, errors = parse((archive_dir / "index.html").read_text(encoding="utf-8"))
    assert errors == []
    rows = [
        [" ".join(cell.text().split()) for cell in tr.iter() if cell.tag in ("td", "th")]
        for tr in page.iter("tr")
        if tr.closest("tbody") is not None
    ]
    [row] = rows  # one chat in the database
    found["archive page"] = (_number(row[2]), _number(row[3]))
    # New and returning people too: the recap's figure is the archive's row.
    new, returning = figures["New / returning"].split("/")[:2]
    assert (_number(new), _number(returning)) == (_number(row[4]), _number(row[5])), row

    exported = json.loads(
        _run("transcript", event, "--out", str(folder / "t"), "--format", "md", "--format",
             "json", "--json", *db)
    )  # fmt: skip
    counts = exported["counts"]
    found["transcript --json"] = (counts["posts"], counts["participants"])
    written = json.loads((folder / "t" / "transcript.json").read_text(encoding="utf-8"))
    found["transcript.json"] = (written["counts"]["posts"], written["counts"]["participants"])
    markdown = (folder / "t" / "transcript.md").read_text(encoding="utf-8")
    said = re.search(r"^(\d+) posts? by (\d+) participants?", markdown, re.MULTILINE)
    assert said is not None, markdown[:400]
    found["transcript.md"] = (int(said[1]), int(said[2]))

    status = json.loads(_run("status", event, "--json", *db))["counts"]
    found["status --json"] = (status["posts"], status["participants"])
    text = _run("status", event, *db)
    line = re.search(r"in the transcript and recap: (\d+) posts? by (\d+) participants?", text)
    assert line is not None, text
    found["status"] = (int(line[1]), int(line[2]))
    return found
