"""Every file of the valid/invalid corpora gets exactly the problems it states."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.questionfile import check_file

DATA = Path(__file__).resolve().parent.parent / "data" / "questions"
ROOT = DATA.parent.parent.parent
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _expected(path: Path) -> list[tuple[int, int, str, str]]:
    """Read `LINE:COL: [note: ]substring` lines from the file's .expected sidecar."""
    sidecar = path.with_suffix(".expected")
    if not sidecar.exists():
        return []
    found = []
    for line in sidecar.read_text(encoding="utf-8").splitlines():
        where, _, text = line.partition(": ")
        row, column = (int(x) for x in where.split(":"))
        severity = "note" if text.startswith("note: ") else "error"
        found.append((row, column, severity, text.removeprefix("note: ")))
    return found


def _match(problems, expected):
    remaining = list(problems)
    for row, column, severity, text in expected:
        hit = next(
            (
                p
                for p in remaining
                if (p.line, p.column, p.severity) == (row, column, severity) and text in p.message
            ),
            None,
        )
        assert hit is not None, f"expected {row}:{column}: {severity}: {text}\ngot:\n" + "\n".join(
            p.format() for p in problems
        )
        remaining.remove(hit)
    return remaining


INVALID = sorted((DATA / "invalid").glob("*.md"))
VALID = sorted((DATA / "valid").glob("*.md"))


def test_the_corpora_are_big_enough():
    assert len(INVALID) >= 25
    assert all(p.with_suffix(".expected").exists() for p in INVALID)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_reports_exactly_its_expected_problems(path):
    plan, problems = check_file(path, now=NOW)
    assert plan is None
    unexpected = _match(problems, _expected(path))
    assert not [p for p in unexpected if p.severity == "error"], "\n".join(
        p.format() for p in unexpected
    )
    assert all(p.path == str(path) for p in problems)
    assert all(p.hint for p in problems if p.severity == "error"), "every error says how to fix it"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_file_loads_with_only_its_expected_notes(path):
    plan, problems = check_file(path, now=NOW)
    assert plan is not None, "\n".join(p.format() for p in problems)
    assert not _match(problems, _expected(path))


@pytest.mark.parametrize("path", sorted((ROOT / "questions").glob("*.md")), ids=lambda p: p.stem)
def test_example_question_files_are_valid(path):
    plan, problems = check_file(path, allow_past=True)
    assert plan is not None, "\n".join(p.format() for p in problems)
    assert problems == []
