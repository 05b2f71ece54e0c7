"""The answer-prefix reader: every style participants use, and the look-alikes it must skip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.transcript.prefix import fold, labels, read_prefixes

# (text, expected labels). Eight questions unless the case says otherwise.
CASES: list[tuple[str, tuple[str, ...]]] = [
    # the plain styles
    ("A1", ("Q1",)),
    ("A1 yes", ("Q1",)),
    ("A1: yes", ("Q1",)),
    ("A1:yes", ("Q1",)),
    ("A1. yes", ("Q1",)),
    ("a1 - yes", ("Q1",)),
    ("A1 — yes", ("Q1",)),
    ("A 1: yes", ("Q1",)),
    ("A 1 - yes", ("Q1",)),
    ("A1a yes", ("Q1a",)),
    ("A2b: yes", ("Q2b",)),
    ("A1) yes", ("Q1",)),
    ("(A1) yes", ("Q1",)),
    ("[A1] yes", ("Q1",)),
    ("A8 last one", ("Q8",)),
    ("**A1**: bold as markdown", ("Q1",)),
    ("A1→ arrow", ("Q1",)),
    # several questions in one post
    ("A1/A2 both", ("Q1", "Q2")),
    ("A1 & A2 both", ("Q1", "Q2")),
    ("A1, A2 and A3: all", ("Q1", "Q2", "Q3")),
    ("A1 cats. A2 dogs", ("Q1", "Q2")),
    ("A1: cats\nA2: dogs", ("Q1", "Q2")),
    ("A1: cats A2: dogs", ("Q1", "Q2")),
    ("A3 (cont) it depends", ("Q3",)),
    # what may stand before it
    ("@bob A2 yes", ("Q2",)),
    ("@bob @carol.bsky.social A2 yes", ("Q2",)),
    ("@bob@mastodon.social A2: yes", ("Q2",)),
    ("#sm35 A3: yes", ("Q3",)),
    ("#DocNowCommunity A2: As we collaborate", ("Q2",)),
    ("😀 A1 yes", ("Q1",)),
    ("👉 A4: yes", ("Q4",)),
    ("  A1: leading space", ("Q1",)),
    ("Late to the party, catching up now. A3 deletion matters", ("Q3",)),
    # look-alike characters
    ("Ａ１ full width", ("Q1",)),
    ("Ａ１：full width colon", ("Q1",)),
    ("𝐀𝟏 bold maths letters", ("Q1",)),
    # a participant naming the question
    ("Q3: the thing", ("Q3",)),
    ("Q3 #DocNowCommunity a general fear", ("Q3",)),
    ("#DocNowCommunity Q3. Loss of context", ("Q3",)),
    # negatives
    ("I love A1 sauce", ()),
    ("A1 sauce is the best", ()),
    ("A1 steak tonight", ()),
    ("A4 paper only", ()),
    ("A10-year plan", ()),
    ("A 5 minute walk", ()),
    ("a 1 hour chat", ()),
    ("A1.5 million people", ()),
    ("A1's features", ()),
    ("A1am or later", ()),
    ("A12 is not a question here", ()),
    ("A0: zero is no question", ()),
    ("Hi all, currently on here from A2. Hoping to learn", ()),
    ("use A1, A2, etc, as you reply", ()),
    ("I guess this could count as A4 too.", ()),
    ("Route A1 north is closed", ()),
    ("", ()),
    ("no digits at all", ()),
    ("#A1 is a hashtag", ()),
    ("email me at qa1@example.org", ()),
    ("A2B is not a suffix we read", ()),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_prefix_table(text: str, expected: tuple[str, ...]) -> None:
    assert labels(read_prefixes(text, 8)) == expected


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 40


def test_positions_and_bodies() -> None:
    text = "@bob (A1) cats. A2: dogs  "
    first, second = read_prefixes(text, 8)
    assert text[first.start : first.end] == "(A1)"
    assert text[first.body_start : first.body_end] == "cats."
    assert text[second.start : second.end] == "A2"
    assert text[second.body_start : second.body_end] == "dogs"
    assert (first.at, second.at) == ("start", "sentence")


def test_grouped_answers_share_one_body() -> None:
    first, second = read_prefixes("A1/A2 both of them", 8)
    assert (first.label, second.label) == ("Q1", "Q2")
    assert (first.body_start, first.body_end) == (second.body_start, second.body_end)


def test_full_width_positions_index_the_original_text() -> None:
    text = "Ａ１ yes"
    (match,) = read_prefixes(text)
    assert text[match.start : match.end] == "Ａ１"
    assert fold(text) == "A1 yes"


def test_question_reference_is_less_certain_than_an_answer() -> None:
    (answer,) = read_prefixes("A3: yes", 8)
    (question,) = read_prefixes("Q3: yes", 8)
    assert question.kind == "Q" and answer.kind == "A"
    assert question.confidence < answer.confidence


def test_limit_follows_the_number_of_questions() -> None:
    assert labels(read_prefixes("A10: yes", 8)) == ("Q10",)  # within the margin
    assert labels(read_prefixes("A11: yes", 8)) == ()
    assert labels(read_prefixes("A11: yes")) == ("Q11",)  # count unknown


def test_inline_needs_an_opening_prefix() -> None:
    assert labels(read_prefixes("so A2: is it?", 8)) == ()
    assert labels(read_prefixes("A1 yes and A2: no", 8)) == ("Q1", "Q2")


# --- properties -------------------------------------------------------------

STYLES = (
    "A{n} ",
    "A{n}: ",
    "A{n}. ",
    "a{n} - ",
    "A {n}: ",
    "A{n}) ",
    "(A{n}) ",
    "[A{n}] ",
    "@bob A{n} ",
    "#sm35 A{n}: ",
    "🙂 A{n} ",
    "{full} ",
)
FULL_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
words = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ,'!?"), min_size=0, max_size=60
)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 20), style=st.sampled_from(STYLES), tail=words, before=words)
def test_reader_finds_the_number_in_any_style(n: int, style: str, tail: str, before: str) -> None:
    full = "Ａ" + str(n).translate(FULL_DIGITS)
    prefix = style.format(n=n, full=full)
    # at the start of the post...
    found = read_prefixes(prefix + "x" + tail, 20)
    assert found and found[0].number == n
    # ...and at the start of a later sentence
    later = read_prefixes(before + ". " + prefix + "x" + tail, 20)
    assert n in [match.number for match in later]


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=200))
def test_random_text_never_crashes_and_positions_stay_inside(text: str) -> None:
    for match in read_prefixes(text, 8):
        assert 0 <= match.start < match.end <= len(text)
        assert match.end <= match.body_start <= match.body_end <= len(text)
        assert 1 <= match.number <= 10


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("Aa Qq0123456789:.-/&()[]@#\n😀xyz")), max_size=80)
)
def test_adversarial_alphabet_is_consistent(text: str) -> None:
    matches = read_prefixes(text, 8)
    starts = [match.start for match in matches]
    assert starts == sorted(starts)
    for match in matches:
        assert fold(text)[match.start].upper() in "AQ([" or text[match.start] in "([Ａ"


def test_long_runs_do_not_backtrack() -> None:
    # Mentions and spaces without a prefix must fail fast, not exponentially.
    text = "@a.b " * 2000 + "x"
    assert read_prefixes(text) == ()
    assert read_prefixes(" " * 20000 + "A1: yes") != ()
