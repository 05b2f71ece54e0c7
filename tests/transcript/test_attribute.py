"""Attribution: each kind of evidence, their order of strength, and order independence."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.transcript import (
    METHODS,
    ChatPost,
    ChatQuestion,
    attribute,
    build_transcript,
    discover_questions,
)
from tests.transcript.util import HOST, at, post, question_posts, questions, uri


def run(posts: list[ChatPost], **kwargs: object) -> dict[str, tuple[str | None, str]]:
    result = attribute([*question_posts(), *posts], questions(), [HOST], **kwargs)  # type: ignore[arg-type]
    return {key.rsplit("/", 1)[1]: (value.question, value.method) for key, value in result.items()}


def test_question_posts_are_the_moderators() -> None:
    result = attribute(question_posts(), questions(), [HOST])
    for number in range(1, 5):
        entry = result[uri(f"q{number}")]
        assert (entry.question, entry.method, entry.is_question) == (
            f"Q{number}",
            "moderator",
            True,
        )


def test_each_kind_of_evidence() -> None:
    got = run(
        [
            post("prefixed", 12, "A1: late answer"),
            post("threaded", 3, "yes", parent="q1"),
            post("deep", 4, "and more", author="bob", parent="threaded"),
            post("reply", 13, "agreed", author="bob", parent="prefixed"),
            post("quoted", 25, "this", author="carol", quote="q2"),
            post("mention", 32, "@alice so true", author="dan", mentions=("alice.bsky.social",)),
            post("answer", 31, "A3: yes", author="alice"),
            post("clock", 35, "just words"),
            post("early", -5, "hello all"),
            post("late", 120, "bye"),
        ]
    )
    assert got["prefixed"] == ("Q1", "prefix")
    assert got["threaded"] == ("Q1", "thread")
    assert got["deep"] == ("Q1", "thread")
    assert got["reply"] == ("Q1", "reply")
    assert got["quoted"] == ("Q2", "quote")
    assert got["mention"] == ("Q3", "mention")
    assert got["clock"] == ("Q4", "time")
    assert got["early"] == (None, "none")
    assert got["late"] == (None, "none")


def test_confidences_follow_the_strength_of_evidence() -> None:
    posts = [
        post("p", 12, "A1: x"),
        post("t", 3, "y", parent="q1"),
        post("r", 13, "z", author="bob", parent="p"),
        post("c", 31, "w"),
        post("c2", 39, "w"),
    ]
    result = attribute([*question_posts(), *posts], questions(), [HOST])
    conf = {key.rsplit("/", 1)[1]: value.confidence for key, value in result.items()}
    assert conf["p"] == 0.95
    assert conf["t"] == 0.9
    assert abs(conf["r"] - 0.95 * 0.9) < 1e-9
    assert 0.2 <= conf["c2"] < conf["c"] <= 0.4  # later in the window, less sure
    assert all(0.0 <= value <= 1.0 for value in conf.values())
    assert {entry.method for entry in result.values()} <= set(METHODS)


def test_two_answers_in_one_post() -> None:
    result = attribute([*question_posts(), post("two", 15, "A2: x. A1: y")], questions(), [HOST])
    entry = result[uri("two")]
    assert (entry.question, entry.questions) == ("Q2", ("Q2", "Q1"))


def test_prefix_beats_thread_and_reply() -> None:
    got = run(
        [
            post("a", 3, "A1 first", author="alice", parent="q1"),
            post("b", 14, "A2 actually", author="bob", parent="a"),
            post("c", 15, "me too", author="carol", parent="b"),
        ]
    )
    assert got["a"] == ("Q1", "prefix")
    assert got["b"] == ("Q2", "prefix")
    assert got["c"] == ("Q2", "reply")  # follows its parent, not the root


def test_reply_collected_before_its_parent() -> None:
    child = post("child", 30, "yes!", author="bob", parent="parent")
    parent = post("parent", 2, "A1: cats")
    assert run([child, parent])["child"] == ("Q1", "reply")


def test_parent_not_collected_but_root_is_a_question() -> None:
    orphan = post("orphan", 31, "indeed", parent="gone", root="q1")
    assert run([orphan])["orphan"] == ("Q1", "thread")


def test_moderator_follow_up_keeps_its_question() -> None:
    answer = post("ans", 12, "A2: tools")
    follow = ChatPost(
        "bluesky", uri("follow"), HOST.account_id, at(13), "Say more?", HOST.handle, uri("ans")
    )
    reply = post("more", 14, "well...", parent="follow")
    result = attribute([*question_posts(), answer, follow, reply], questions(), [HOST])
    assert (result[uri("follow")].question, result[uri("follow")].method) == ("Q2", "moderator")
    assert result[uri("follow")].is_question is False
    assert result[uri("more")].question == "Q2"


def test_improvised_question_and_unknown_numbers() -> None:
    extra = ChatPost("bluesky", uri("q9"), HOST.account_id, at(45), "Q9 bonus!", HOST.handle)
    posts = [extra, post("a9", 46, "A9: bonus answer"), post("a7", 47, "A7: no such question")]
    result = attribute([*question_posts(), *posts], questions(), [HOST])
    assert result[uri("q9")].question == "Q9" and result[uri("q9")].is_question
    assert result[uri("a9")].question == "Q9"
    assert result[uri("a7")].method != "prefix"  # Q7 does not exist in this chat


def test_ends_at_closes_the_last_window() -> None:
    late = post("late", 35, "words")
    assert run([late])["late"] == ("Q4", "time")
    assert run([late], ends_at=at(32))["late"] == (None, "none")


def test_mention_window_is_a_few_minutes() -> None:
    answer = post("ans", 1, "A1: yes", author="alice")
    soon = post("soon", 14, "@alice hi", author="bob", mentions=("@Alice.bsky.social",))
    stale = post("stale", 24, "@alice hi", author="bob", mentions=("alice.bsky.social",))
    got = run([answer, soon, stale], mention_window=timedelta(minutes=15))
    assert got["soon"] == ("Q1", "mention")
    assert got["stale"] == ("Q3", "time")


def test_discover_questions_from_moderator_posts() -> None:
    found = discover_questions([*question_posts(), post("x", 3, "Q1 me too")], [HOST])
    assert [question.label for question in found] == ["Q1", "Q2", "Q3", "Q4"]
    assert found[1].uris == {"bluesky": uri("q2")}
    assert found[1].posted_at == {"bluesky": at(10)}
    assert found[0].text == "Why?"


def test_build_transcript_adds_improvised_questions_to_the_plan() -> None:
    extra = ChatPost("bluesky", uri("q5"), HOST.account_id, at(45), "Q5 bonus!", HOST.handle)
    transcript = build_transcript([*question_posts(), extra], questions(), [HOST])
    assert [question.label for question in transcript.questions] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert transcript.questions[4].uris == {"bluesky": uri("q5")}


def test_build_transcript_without_a_plan() -> None:
    transcript = build_transcript([*question_posts(), post("a", 12, "A2 x")], moderators=[HOST])
    assert len(transcript.questions) == 4
    assert transcript.attributions[uri("a")].question == "Q2"
    assert set(transcript.forest.nodes) == set(transcript.attributions)


# --- properties -------------------------------------------------------------


@st.composite
def chats(draw: st.DrawFn) -> list[ChatPost]:
    """A random chat: prefixed answers, replies (to anything earlier or later), mentions."""
    count = draw(st.integers(1, 40))
    posts: list[ChatPost] = []
    for index in range(count):
        minutes = draw(st.floats(-5, 50))
        kind = draw(st.sampled_from(["prefix", "reply", "plain", "mention", "quote"]))
        text = "words"
        parent = quote = None
        mentions: tuple[str, ...] = ()
        if kind == "prefix":
            text = f"A{draw(st.integers(1, 4))}: words"
        elif kind == "reply":
            target = draw(st.integers(0, count + 3))
            parent = f"p{target}" if target < count else f"q{target - count + 1}"
        elif kind == "mention":
            mentions = (f"u{draw(st.integers(0, 5))}.bsky.social",)
        elif kind == "quote":
            quote = f"p{draw(st.integers(0, count - 1))}"
        author = f"u{draw(st.integers(0, 5))}"
        posts.append(
            post(
                f"p{index}",
                minutes,
                text,
                author=author,
                parent=parent,
                quote=quote,
                mentions=mentions,
            )
        )
    return posts


@settings(max_examples=150, deadline=None)
@given(posts=chats(), seed=st.integers(0, 2**32))
def test_result_does_not_depend_on_input_order(posts: list[ChatPost], seed: int) -> None:
    everything = [*question_posts(), *posts]
    first = attribute(everything, questions(), [HOST])
    random.Random(seed).shuffle(everything)
    second = attribute(everything, questions(), [HOST])
    assert list(first) == list(second)
    assert first == second


@settings(max_examples=150, deadline=None)
@given(posts=chats(), n=st.integers(1, 4), minutes=st.floats(-10, 60))
def test_prefix_always_wins_over_time(posts: list[ChatPost], n: int, minutes: float) -> None:
    target = post("target", minutes, f"A{n} my answer", author="zed")
    result = attribute([*question_posts(), *posts, target], questions(), [HOST])
    assert (result[uri("target")].question, result[uri("target")].method) == (f"Q{n}", "prefix")


@settings(max_examples=150, deadline=None)
@given(posts=chats(), minutes=st.floats(-10, 60), data=st.data())
def test_unprefixed_reply_inherits_its_parents_question(
    posts: list[ChatPost], minutes: float, data: st.DataObject
) -> None:
    # At least one answer with a question (by its prefix), so there is a parent to reply to.
    everything = [*question_posts(), *posts, post("anchor", 20, "A2: words", author="amy")]
    before = attribute(everything, questions(), [HOST])
    answers = sorted(
        key for key, value in before.items() if value.question and not value.is_question
    )
    assert uri("anchor") in answers
    parent_uri = data.draw(st.sampled_from(answers), label="parent")
    child = post("child", minutes, "so true", author="zed", parent=parent_uri.rsplit("/", 1)[1])
    after = attribute([*everything, child], questions(), [HOST])
    assert after[uri("child")].question == before[parent_uri].question
    assert after[uri("child")].method in ("reply", "thread")


@settings(max_examples=100, deadline=None)
@given(posts=chats())
def test_every_post_gets_exactly_one_well_formed_answer(posts: list[ChatPost]) -> None:
    everything = [*question_posts(), *posts]
    result = attribute(everything, questions(), [HOST])
    assert set(result) == {item.uri for item in everything}
    for entry in result.values():
        assert entry.method in METHODS
        assert 0.0 <= entry.confidence <= 1.0
        assert (entry.question is None) == (entry.questions == ())
        if entry.method == "none":
            assert entry.question is None and entry.confidence == 0.0
        elif entry.question is None:
            assert entry.method == "moderator"  # a host's welcome or wrap-up
        if entry.question is not None:
            assert entry.questions[0] == entry.question


def test_time_windows_are_per_network() -> None:
    # Mastodon got each question two minutes late; a post there at minute 11
    # is still in Q1's window on Mastodon, though Bluesky already had Q2.
    plan = [
        ChatQuestion(
            n, "", "Why?", {"bluesky": at(10 * (n - 1)), "mastodon": at(10 * (n - 1) + 2)}, {}
        )
        for n in (1, 2)
    ]
    toot = ChatPost("mastodon", "https://m.example/@a/1", "101", at(11), "cats", "a@m.example")
    skeet = post("skeet", 11, "dogs")
    result = attribute([toot, skeet], plan)
    assert result[toot.uri].question == "Q1"
    assert result[uri("skeet")].question == "Q2"
