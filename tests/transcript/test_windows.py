"""Clock windows: they open when a question went out (or is now due) and close at the chat's end."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from chatbot.transcript import ChatPost, ChatQuestion, attribute, chat_end, find_wrapup
from tests.transcript.util import HOST, at, post, question_posts, questions

END = at(40)  # four questions ten minutes apart, wrap-up at 40 minutes


def _shifted(question: ChatQuestion, delay: timedelta) -> ChatQuestion:
    return replace(
        question, posted_at={net: when + delay for net, when in question.posted_at.items()}
    )


@given(minutes=st.floats(0.01, 600), mention=st.booleans())
def test_a_post_after_the_end_is_never_given_to_a_question_by_the_clock(
    minutes: float, mention: bool
) -> None:
    late = post("late", 40 + minutes, "so much to think about", mentions=("nobody.test",) * mention)
    result = attribute([*question_posts(), late], questions(), [HOST], ends_at=END)[late.uri]
    assert (result.question, result.method) == (None, "none")


@given(minutes=st.floats(0.01, 600))
def test_a_prefixed_late_answer_still_counts(minutes: float) -> None:
    late = post("late", 40 + minutes, "A2: better late than never")
    result = attribute([*question_posts(), late], questions(), [HOST], ends_at=END)[late.uri]
    assert (result.question, result.method) == ("Q2", "prefix")


@given(delay=st.integers(0, 7200), seconds=st.integers(-60, 2460))
def test_delaying_every_question_moves_the_windows_by_the_same_delay(
    delay: int, seconds: int
) -> None:
    # The plan's questions only (no question posts collected): the windows
    # come from the question times alone, and a post keeps its question when
    # it moves with them (seconds, so times stay exact).
    shift = timedelta(seconds=delay)
    plain = attribute([post("p", seconds / 60, "hmm")], questions(), ends_at=END)
    moved = attribute(
        [post("p", (seconds + delay) / 60, "hmm")],
        [_shifted(q, shift) for q in questions()],
        ends_at=END + shift,
    )
    key = post("p", 0).uri
    assert (moved[key].question, moved[key].method) == (plain[key].question, plain[key].method)


def test_a_post_after_the_planned_time_but_before_the_delayed_question_is_the_earlier_ones() -> (
    None
):
    # Q2 was planned at 10 minutes and delayed to 15: a post at 12 answers Q1.
    delayed = [questions()[0], _shifted(questions()[1], timedelta(minutes=5))]
    result = attribute([post("p", 12, "hmm")], delayed, ends_at=END)[post("p", 0).uri]
    assert (result.question, result.method) == ("Q1", "time")


def test_a_question_not_out_yet_opens_its_window_when_due() -> None:
    # Q3 is due at 20 minutes (after a live delay), not posted on any network yet.
    planned = [*questions(2), ChatQuestion(3, "", "Why?", {}, {}, due_at=at(25))]
    found = attribute([post("a", 22, "hmm"), post("b", 27, "hmm")], planned, ends_at=END)
    assert [found[post(n, 0).uri].question for n in "ab"] == ["Q2", "Q3"]


def test_a_skipped_question_has_no_window() -> None:
    planned = [*questions(2), ChatQuestion(3, "", "Why?", {}, {}, due_at=None)]
    found = attribute([post("a", 27, "hmm")], planned, ends_at=END)
    assert found[post("a", 0).uri].question == "Q2"


def _host(name: str, minutes: float, text: str, parent: str | None = None) -> ChatPost:
    made = post(name, minutes, text, parent=parent)
    return replace(made, author_id=HOST.account_id, author_handle=HOST.handle)


def test_the_end_of_an_imported_chat_is_the_hosts_wrap_up() -> None:
    chat = [
        *question_posts(),
        _host("mine", 31, "A4 for me: coffee"),
        _host("reply", 33, "@bob thanks everyone like you", parent="x"),
        _host("bye", 36, "Thanks for joining us tonight! Transcript soon."),
        post("spam", 300, "Buy followers #chat"),
    ]
    wrapup = find_wrapup(chat, questions(), [HOST])
    assert wrapup is not None and wrapup.uri == post("bye", 0).uri
    assert chat_end(chat, questions(), [HOST]) == at(36)


def test_without_a_wrap_up_the_end_is_one_question_gap_after_the_last() -> None:
    # Questions at 0, 10, 20, 30: the median gap is 10 minutes. A host's
    # closing line hours later is past the horizon and is not the wrap-up.
    chat = [*question_posts(), _host("bye", 240, "Thanks for joining!"), post("s", 500, "spam")]
    assert find_wrapup(chat, questions(), [HOST]) is None
    assert chat_end(chat, questions(), [HOST]) == at(40)
