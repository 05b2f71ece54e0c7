"""The answer-prefix reader: every style participants use, and the look-alikes it must skip."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.sandbox.crowd import texts
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
    # the spaced form with only a space after it, as the crowd writes it
    ("A 1 yes", ("Q1",)),
    ("A 1", ("Q1",)),
    ("A 1 For us it's mostly about consent.", ("Q1",)),
    ("A 3 Time. It's always time.", ("Q3",)),
    ("A 2 Year? Mostly trial and error so far", ("Q2",)),
    ("A 4 In 2020 we started small", ("Q4",)),
    ("a 1 in my experience, yes", ("Q1",)),
    ("a 2 for a small team it works", ("Q2",)),
    ("A 8 last one", ("Q8",)),
    ("A 2 🙂 same as last time", ("Q2",)),
    ("#sm35 A 2 Still figuring out consent", ("Q2",)),
    ("🇳🇬 A 3 Mostly archive, with a side of context.", ("Q3",)),
    ("@bob A 4 Honestly yes", ("Q4",)),
    ("Agree with @bob! A 2 For us it's mostly about tools.", ("Q2",)),
    ("A 1 cats. A 2 dogs", ("Q1", "Q2")),
    ("Ａ ２ full width, spaced", ("Q2",)),
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
    # ...and the spaced form's English look-alikes
    ("A 2 hour wait", ()),
    ("A 3 day week would be nice", ()),
    ("A 1 in 10 chance", ()),
    ("A 2 for 1 deal", ()),
    ("A 1 to 1 meeting", ()),
    ("A 1 in a million", ()),
    ("A 3 and a half hour chat", ()),
    ("A 5 star review", ()),
    ("A 3 person team", ()),
    ("A 4 page report", ()),
    ("A 1 sauce is great", ()),
    ("A 5 % rise", ()),
    ("A 1 2 3 go", ()),
    ("A 9 Honestly yes", ()),  # the spaced form has no margin past the count
    ("A 12 month plan", ()),
    ("We walked. A 2 mile loop", ()),
    ("A 2b spaced sub-question", ()),
    ("Q 3 spaced question reference", ()),
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


def test_spaced_form_limit_and_confidence() -> None:
    assert labels(read_prefixes("A 8 yes", 8)) == ("Q8",)
    assert labels(read_prefixes("A 9 yes", 8)) == ()
    assert labels(read_prefixes("A9 yes", 8)) == ("Q9",)  # the margin of the usual forms
    assert labels(read_prefixes("A 20 yes")) == ("Q20",)  # count unknown
    assert labels(read_prefixes("A 21 yes")) == ()
    (spaced,) = read_prefixes("A 1 yes", 8)
    (plain,) = read_prefixes("A1 yes", 8)
    (separated,) = read_prefixes("A 1: yes", 8)
    assert spaced.confidence == 0.85
    assert spaced.confidence < plain.confidence == separated.confidence
    first, second = read_prefixes("Agree! A 1 cats. A 2 dogs", 8)
    assert (first.at, second.at) == ("sentence", "sentence")
    assert first.confidence < plain.confidence


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


# The crowd's own styles and phrase banks: every answer it writes is read.
CROWD_STYLES = [style for style in texts.PREFIX_STYLES if style != "none"]
KEYWORDS = (
    *("archive", "consent", "context", "tools", "funding", "metadata", "community"),
    *("time", "year", "minute", "hour", "people", "star", "page", "point", "person", "week"),
)


@settings(max_examples=400, deadline=None)
@given(
    data=st.data(),
    max_number=st.integers(1, 20),
    style=st.sampled_from(CROWD_STYLES),
    words=st.lists(st.sampled_from(KEYWORDS), min_size=1, max_size=6),
    rng=st.randoms(use_true_random=False),
    agree=st.booleans(),
    unicode=st.sampled_from((None, *texts.UNICODE_KINDS)),
)
def test_reader_reads_every_crowd_answer(
    data: st.DataObject,
    max_number: int,
    style: str,
    words: list[str],
    rng: random.Random,
    agree: bool,
    unicode: str | None,
) -> None:
    pair = style in ("A1/A2", "A1..A2")
    if pair and max_number < 2:
        style, pair = "A1", False
    first = data.draw(st.integers(1, max_number - 1 if pair else max_number))
    numbers = [first, data.draw(st.integers(first + 1, max_number))] if pair else [first]
    question = "How do you think about " + " and ".join(words) + "?"
    bodies = [texts.answer_body(rng, question) for _ in numbers]
    text = texts.prefixed(style, [f"Q{n}" for n in numbers], bodies)
    if agree:
        text = f"Agree with @bob.crowd.test! {text}"
    if unicode:
        text = texts.decorate(rng, text, unicode)
    text = texts.with_hashtag(rng, text, "sm35")
    found = [m for m in read_prefixes(text, max_number) if m.kind == "A"]
    assert list(dict.fromkeys(m.number for m in found)) == numbers, text


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
