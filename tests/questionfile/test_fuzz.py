"""Whatever the input, the parser answers with a plan or with located problems."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.errors import QuestionFileError
from chatbot.questionfile import check_file, check_text, parse_text

NOW = datetime(2026, 11, 1, tzinfo=UTC)
VALID = sorted(
    (Path(__file__).resolve().parent.parent / "data" / "questions" / "valid").glob("*.md")
)
SAMPLE = (VALID[0].parent / "offsets-and-wrapup.md").read_text(encoding="utf-8")
PIECES = [
    "---",
    "\n",
    ":",
    " ",
    "#",
    "Q1.",
    "Q2a)",
    "[+5m]",
    "[+",
    "{",
    "}",
    "{text}",
    "'",
    '"',
    "- ",
    "&a",
    "*a",
    "!!python/object",
    "\t",
    "\x00",
    "🇫🇷",
    "e\u0301",
    "9" * 40,
    "## Welcome",
    "## Wrap-up",
    "<!--",
    "-->",
    "hashtag",
    "start",
    "2027-03-14 02:30",
    "timezone",
    "\\",
]


def _assert_answers(text: str) -> None:
    plan, problems = check_text(text, path="f.md", now=NOW)
    assert (plan is None) == any(p.severity == "error" for p in problems)
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1
        assert "internal error" not in problem.message, problem.format()
    try:
        again = parse_text(text, path="f.md", now=NOW)
    except QuestionFileError as error:
        assert plan is None and error.problems == problems
    else:
        assert again == plan


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_random_text(text):
    _assert_answers(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_random_arrangements_of_meaningful_pieces(text):
    _assert_answers("---\n" + text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(SAMPLE)),
            st.integers(0, 8),
            st.lists(st.sampled_from(list(":#[]{}-+\n 'Q1a") + PIECES), max_size=4).map("".join),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_mutated_valid_files(edits):
    text = SAMPLE
    for position, cut, insert in edits:
        text = text[:position] + insert + text[position + cut :]
    _assert_answers(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_from_disk(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.md"
    path.write_bytes(data)
    plan, problems = check_file(path, now=NOW)
    assert plan is None or not problems or all(p.severity == "note" for p in problems)
    assert all("internal error" not in p.message for p in problems)
