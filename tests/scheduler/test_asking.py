"""Reading "@bot Q3?" and its kin (bot.asking): examples, then properties over generated posts."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chatbot.bot.asking import (
    VOCABULARY,
    PostedQuestion,
    Request,
    parse_request,
    pick_question,
    reply_text,
)
from chatbot.text.length import bluesky_length


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("@bot Q3?", "Q3"),
        ("@bot.bsky.social q3", "Q3"),
        ("Q2a?", "Q2a"),
        ("what's Q2?", "Q2"),
        ("What is Q2", "Q2"),
        ("what is question 4", "Q4"),
        ("question #5 please @bot", "Q5"),
        ("@bot can you repeat Q1 please", "Q1"),
        ("what's the current question?", "current"),
        ("current question please", "current"),
        ("Hi! Just joined, what's the current question? #sm35", "current"),
        ("sorry I'm late, which question are we on?", "current"),
        ("what question are we on?", "current"),
        ("@bot latest question pls", "current"),
        ("¿Cuál es la pregunta actual?", "current"),
        ("¿cuál es la pregunta 2?", "Q2"),
        ("Quelle est la question en cours ?", "current"),
        ("C'est quoi la question ?", "current"),
        ("Was ist die aktuelle Frage?", "current"),
        ("Frage 3 bitte", "Q3"),
        ("Qual é a pergunta atual?", "current"),
        ("qual è la domanda attuale?", "current"),
        ("Wat is de huidige vraag?", "current"),
    ],
)
def test_requests(text, wanted):
    found = parse_request(text)
    assert found is not None and found.label == wanted


@pytest.mark.parametrize(
    "text",
    [
        "thanks @bot!",
        "@bot great chat",
        "A3 @bot love this",
        "A3: I think so @bot",
        "Q3 was great @bot",
        "@bot Q2 or Q3?",
        "@bot what is this",
        "I missed the question",
        "question",
        "@bot",
        "",
        "Q0?",
        "@bot Q3 https://example.org/q3 is broken",
        "@bot how do I opt out?",
        "@bot what do you think about Q3?",
    ],
)
def test_not_requests(text):
    assert parse_request(text) is None


# -- properties -------------------------------------------------------------

LABELS = st.builds(
    lambda n, s: (n, s), st.integers(min_value=1, max_value=999), st.sampled_from(["", "a", "b"])
)


@st.composite
def label_forms(draw: st.DrawFn) -> tuple[str, Request]:
    number, suffix = draw(LABELS)
    if suffix:
        form = draw(st.sampled_from(["Q{n}{s}", "q{n}{s}"]))
    else:
        form = draw(
            st.sampled_from(
                ["Q{n}", "q {n}", "question {n}", "Question #{n}", "question number {n}",
                 "pregunta {n}", "Frage {n}", "domanda {n}"]
            )
        )  # fmt: skip
    return form.format(n=number, s=suffix), Request(number, suffix)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, Request]:
    """A request as people write them, with its meaning."""
    if draw(st.booleans()):
        label, meaning = draw(label_forms())
        template = draw(
            st.sampled_from(
                ["{l}?", "{l}", "what's {l}?", "what is {l}", "{l} please", "can you repeat {l}",
                 "hi, what was {l}?", "sorry, {l} again please", "¿cuál es la {l}?"]
            )
        )  # fmt: skip
        return template.format(l=label), meaning
    template = draw(
        st.sampled_from(
            ["what's the current question?", "current question please", "which question is it?",
             "what question are we on?", "what's the question?", "latest question pls",
             "Quelle est la question actuelle ?", "was ist die aktuelle Frage?"]
        )
    )  # fmt: skip
    return template, Request()


MENTIONS = st.sampled_from(["@bot", "@chatbot.bsky.social", "@bot@example.social", "@Bot_1"])
NOISE = st.sampled_from(["", " ", "  ", "\n", " 🙏", " 👋", " #sm35", " https://example.org/x"])
WORDS = st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=10).filter(
    lambda w: w not in VOCABULARY and not w.startswith("q")
)


def _case(text: str, upper: bool) -> str:
    return text.upper() if upper else text


@given(requests(), MENTIONS, NOISE, NOISE, st.booleans(), st.booleans())
@example(("Q3?", Request(3)), "@bot", "", "", False, True)
def test_a_request_means_the_same_wherever_the_mention_and_noise_go(
    request, mention, before, after, mention_first, upper
):
    text, meaning = request
    post = f"{mention} {text}" if mention_first else f"{text} {mention}"
    assert parse_request(_case(f"{before} {post} {after}", upper)) == meaning


@given(requests(), WORDS, st.booleans())
def test_one_word_outside_the_vocabulary_makes_it_no_request(request, word, first):
    text, _ = request
    post = f"{word} {text}" if first else f"{text} {word}"
    assert parse_request(f"@bot {post}") is None


@given(st.integers(min_value=1, max_value=99), st.text(max_size=40))
def test_an_answer_is_never_a_request(number, rest):
    assert parse_request(f"A{number} {rest}") is None or rest.strip() == ""
    assert parse_request(f"A{number}: yes {rest}") is None


@given(st.text(max_size=300))
def test_any_text_is_read_without_error_and_the_same_each_time(text):
    assert parse_request(text) == parse_request(text)


@given(label_forms(), label_forms())
def test_two_different_questions_are_no_request(first, second):
    (one, a), (two, b) = first, second
    if a != b:
        assert parse_request(f"@bot {one} or {two}?") is None


# -- choosing the question and the reply ------------------------------------

POSTED = [
    PostedQuestion("Q1", 1, "", "Q1 First? #sm35", "https://x/1", 1),
    PostedQuestion("Q2a", 2, "a", "Q2a Second? #sm35", "https://x/2a", 2),
    PostedQuestion("Q2b", 2, "b", "Q2b Third? #sm35", "https://x/2b", 3),
]


@pytest.mark.parametrize(
    ("request_", "label"),
    [(Request(), "Q2b"), (Request(1), "Q1"), (Request(2), "Q2a"), (Request(2, "b"), "Q2b"),
     (Request(3), None), (Request(2, "c"), None)],
)  # fmt: skip
def test_pick_question(request_, label):
    chosen = pick_question(request_, POSTED)
    assert (chosen.label if chosen else None) == label


def test_nothing_posted_yet_answers_nothing():
    assert pick_question(Request(), []) is None


def _fits_bluesky(text: str) -> bool:
    graphemes, size = bluesky_length(text)
    return graphemes <= 300 and size <= 3000


@given(st.text(min_size=1, max_size=900), st.sampled_from(["ann.test", "a" * 60 + ".test"]))
def test_the_reply_always_fits_and_keeps_the_link(body, handle):
    question = PostedQuestion("Q3", 3, "", body, "https://bsky.app/profile/bot/post/3k", 3)
    text = reply_text(handle, question, fits=_fits_bluesky, hashtag="sm35")
    assert _fits_bluesky(text)
    assert text.startswith(f"@{handle} ") and text.endswith(
        "\nhttps://bsky.app/profile/bot/post/3k"
    )


def test_the_reply_leaves_the_chat_hashtag_out():
    question = PostedQuestion("Q3", 3, "", "Q3 What now? #SM35", "https://x/3", 3)
    assert reply_text("ann", question, fits=lambda _: True, hashtag="sm35") == (
        "@ann Q3 What now?\nhttps://x/3"
    )
    plain = PostedQuestion("Q3", 3, "", "What now?", "", 3)
    assert reply_text("ann", plain, fits=lambda _: True) == "@ann Q3: What now?"
