"""Attribution: each kind of evidence, their order of strength, and order independence."""

from __future__ import annotations

import gc
import random
from dataclasses import replace

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
            post("clock", 35, "just words", author="erin"),
            post("early", -5, "hello all"),
            post("late", 120, "thoughts"),
        ]
    )
    assert got["prefixed"] == ("Q1", "prefix")
    assert got["threaded"] == ("Q1", "thread")
    assert got["deep"] == ("Q1", "thread")
    assert got["reply"] == ("Q1", "reply")
    assert got["quoted"] == ("Q2", "quote")
    assert got["mention"] == ("Q3", "mention")
    assert got["clock"] == ("Q4", "time")
    assert got["early"] == (None, "aside")  # a hello, and before Q1 anyway
    assert got["late"] == (None, "none")


def test_confidences_follow_the_strength_of_evidence() -> None:
    posts = [
        post("p", 12, "A1: x"),
        post("t", 3, "y", parent="q1"),
        post("r", 13, "z", author="bob", parent="p"),
        post("c", 31, "w", author="carol"),
        post("c2", 39, "w", author="dan"),
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


def test_a_reply_by_names_finds_the_post_it_answers_within_the_hour() -> None:
    answer = post("ans", 1, "A1: yes", author="alice")
    other = post("other", 2, "A1: no", author="bob")
    soon = post("soon", 14, "@alice.bsky.social same here", author="bob")
    late = post("late", 33, "@Alice.bsky.social indeed", author="carol")
    got = run([answer, other, soon, late])
    assert got["soon"] == ("Q1", "mention")  # Q2 was open: the conversation wins
    assert got["late"] == ("Q1", "mention")
    stale = post("stale", 62, "@alice.bsky.social same here", author="bob")
    assert run([answer, stale], ends_at=at(70))["stale"] == ("Q4", "time")  # over an hour on


def test_a_reply_by_names_answers_the_post_between_the_same_people() -> None:
    # Bob answered Alice's Q1 answer; Alice's reply names Bob and Carol, the
    # people of Carol's Q2 answer that named Bob: that is the post answered.
    posts = [
        post("a1", 2, "A1: cats", author="alice"),
        post("b", 12, "A2: dogs", author="bob"),
        post("c", 13, "@bob.bsky.social so true", author="carol"),
        post("a2", 16, "@carol.bsky.social @bob.bsky.social agreed", author="alice"),
        post("d", 17, "@bob.bsky.social me too", author="dan"),
    ]
    got = run(posts)
    assert got["c"] == ("Q2", "mention")
    assert got["a2"] == ("Q2", "mention")
    assert got["d"] == ("Q2", "mention")


def test_names_of_people_not_in_the_chat_are_not_a_conversation() -> None:
    # "@club is meeting" names a subject; the post still carries on its author's answer.
    posts = [
        post("ans", 21, "A2: our club restarted", author="alice"),
        post("more", 23, "@club.bsky.social is meeting again", author="alice"),
    ]
    assert run(posts)["more"] == ("Q2", "continues")


def test_an_author_carries_on_their_answer_until_the_next_question() -> None:
    posts = [
        post("late", 22, "A2: late answer", author="alice"),
        post("more", 24, "and another thing", author="alice"),
        post("after", 31, "something new", author="alice"),  # Q4 is out since 30
        post("other", 25, "unrelated", author="bob"),
    ]
    got = run(posts, ends_at=at(50))
    assert got["more"] == ("Q2", "continues")
    assert got["after"] == ("Q4", "time")
    assert got["other"] == ("Q3", "time")


def test_the_questions_words_place_a_post_the_clock_would_misplace() -> None:
    asked = [
        ChatQuestion(1, "", "Which archives are you building?", {"bluesky": at(0)}),
        ChatQuestion(2, "", "What barriers keep you from collecting?", {"bluesky": at(10)}),
        ChatQuestion(3, "", "How do you decide on appraisal?", {"bluesky": at(20)}),
    ]
    plain = [*question_posts(3)]
    posts = [
        post("back", 21, "funding and staff are our barriers", author="alice"),
        post("same", 25, "appraisal is hard", author="bob"),
        post("vague", 26, "building slowly", author="carol"),  # Q1's word, but Q3 is 6 min on
        post("none", 27, "agreed", author="dan"),
    ]
    result = attribute([*plain, *posts], asked, [HOST], ends_at=at(30))
    got = {key.rsplit("/", 1)[1]: (v.question, v.method) for key, v in result.items()}
    assert got["back"] == ("Q2", "words")  # just after Q3: still talking about Q2
    assert got["same"] == ("Q3", "words")
    assert got["vague"] == ("Q3", "time")
    assert got["none"] == ("Q3", "time")
    assert result[uri("same")].confidence > result[uri("none")].confidence


def test_housekeeping_and_small_talk_answer_nothing() -> None:
    host = ChatPost(
        "bluesky", uri("remind"), HOST.account_id, at(12), "Reminder: use the #tag!", HOST.handle
    )
    posts = [
        host,
        post("hello", 13, "Hi all, glad I made it!", author="bob"),
        post(
            "answer",
            14,
            "Hello! Our archive keeps zines, flyers, posters, letters and tapes of local bands",
            author="eve",
        ),
    ]
    got = run(posts)
    assert got["remind"] == (None, "moderator")
    assert got["hello"] == (None, "aside")
    assert got["answer"] == ("Q2", "time")


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
        made = post(
            f"p{index}", minutes, text, author=author, parent=parent, quote=quote,
            mentions=mentions,
        )  # fmt: skip
        # Now and then a post of the account under another handle (renamed mid-chat) or
        # none (an archive that lost it): the account is still one, whatever the order.
        handle = draw(st.sampled_from(["same", "same", "same", "renamed", "none"]))
        if handle != "same":
            renamed = f"{author}-new.bsky.social" if handle == "renamed" else ""
            made = replace(made, author_handle=renamed)
        posts.append(made)
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
            # a host's welcome or wrap-up, a hello, or talk about one of those
            assert entry.method in ("moderator", "aside", "reply", "quote")
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


def test_named_replies_on_bluesky_answer_the_latest_post_and_tweets_the_exact_people() -> None:
    # Bob answered Q1, then talked with Carol about Q2. Alice names only Bob.
    posts = [
        post("b1", 2, "A1: cats", author="bob"),
        post("c", 12, "A2: dogs", author="carol"),
        post("b2", 13, "@carol.bsky.social so true", author="bob"),
        post("a", 15, "@bob.bsky.social same here", author="alice"),
    ]
    got = run(posts)
    assert got["a"] == ("Q2", "mention")  # typed names: what Bob said last
    # A tweet's reply box fills in everyone of the post answered: naming only
    # Bob means a post of Bob's that named nobody else.
    tweets = [replace(p, network="twitter") for p in [*question_posts(), *posts]]
    plan = [replace(q, posted_at={"twitter": q.posted_at["bluesky"]}) for q in questions()]
    result = attribute(tweets, plan, [replace(HOST, network="twitter")])
    assert (result[uri("a")].question, result[uri("a")].via) == ("Q1", uri("b1"))


def test_talk_about_a_hello_answers_nothing_all_the_way_down() -> None:
    posts = [
        post("hello", 12, "Hi all, glad I made it!", author="bob"),
        post("back", 13, "welcome bob!", author="carol", parent="hello"),
        post("more", 14, "where from?", author="dan", parent="back"),
    ]
    got = run(posts)
    assert got["hello"] == (None, "aside")
    assert got["back"] == (None, "reply")
    assert got["more"] == (None, "reply")


def test_a_typed_name_gives_way_to_words_naming_another_question() -> None:
    asked = [
        ChatQuestion(1, "", "Which tools do you use?", {"bluesky": at(0)}),
        ChatQuestion(2, "", "Who funds your work?", {"bluesky": at(10)}),
    ]
    posts = [
        *question_posts(2),
        post("a1", 3, "A1: spreadsheets", author="amy"),
        post("a2", 12, "A2: a small grant", author="amy"),
        post("ask", 14, "@amy.bsky.social did you write anything up about tools?", author="bo"),
        post("same", 15, "@amy.bsky.social same here!", author="cy"),
    ]
    result = attribute(posts, asked, [HOST], ends_at=at(30))
    assert (result[uri("ask")].question, result[uri("ask")].method) == ("Q1", "words")
    assert (result[uri("same")].question, result[uri("same")].method) == ("Q2", "mention")


def test_a_named_reply_to_a_hello_answers_nothing_but_one_to_a_host_aside_looks_further() -> None:
    host_thanks = ChatPost(
        "bluesky", uri("thanks"), HOST.account_id, at(16), "Thanks for joining!", HOST.handle
    )
    posts = [
        post("hello", 12, "Good morning from Osaka", author="bob"),
        post("ask", 13, "@bob.bsky.social do you have a link?", author="cy"),
        post("ans", 14, "@host.bsky.social A2: grants", author="amy"),
        host_thanks,
        post("reply", 17, "@host.bsky.social thanks!", author="dan"),
    ]
    got = run(posts)
    assert got["hello"] == (None, "aside")
    assert got["ask"] == (None, "mention")
    assert got["reply"][0] == "Q2"  # past the host's housekeeping, to what the host asked


def test_a_reply_whose_parent_is_gone_is_not_given_another_post_of_the_person_named() -> None:
    posts = [
        post("old", 3, "A1: cats", author="finn"),
        # Finn's later answer was deleted; Cy's reply to it names Finn.
        post("reply", 24, "@finn.bsky.social good question!", author="cy", parent="deleted"),
    ]
    got = run(posts)
    assert got["reply"] == ("Q3", "time")  # not Q1 from Finn's other post


def test_a_greeting_back_answers_nothing_whatever_it_replies_to() -> None:
    posts = [
        # A hello in words the asides do not know: the clock puts it under Q2.
        post("hello", 12, "Morning! Archivist at a small museum in Leeds", author="bob"),
        post("back", 13, "Welcome, Bob! 👋", author="cy", parent="hello"),
        post("named", 14, "@bob.bsky.social hi there, glad you made it", author="dan"),
        post("said", 15, "how is Leeds these days?", author="eve", parent="hello"),
    ]
    got = run(posts)
    assert got["hello"] == ("Q2", "time")
    assert got["back"] == (None, "aside")
    assert got["named"] == (None, "aside")
    assert got["said"] == (got["hello"][0], "reply")  # talk about the post itself follows it


def test_an_author_carries_on_past_the_wrap_up_but_not_from_a_quote() -> None:
    posts = [
        post("ans", 33, "A4: we keep it simple", author="alice"),
        post("more", 41, "and we write it all down", author="alice"),  # after the wrap-up at 40
        post("quoted", 34, "so true", author="bob", quote="ans"),
        post("own", 36, "we never managed that", author="bob"),
    ]
    got = run(posts, ends_at=at(40))
    assert got["more"] == ("Q4", "continues")  # the wrap-up opens no question
    assert got["quoted"] == ("Q4", "quote")
    assert got["own"] == ("Q4", "time")  # not carrying on bob's quote of alice


def test_a_post_that_says_it_carries_on_outweighs_a_word_of_another_question() -> None:
    asked = [
        ChatQuestion(1, "", "Which tools do you use?", {"bluesky": at(0)}),
        ChatQuestion(2, "", "Who funds your work?", {"bluesky": at(10)}),
    ]
    posts = [
        *question_posts(2),
        post("a2", 12, "A2: a small grant from the council", author="amy"),
        post("more", 13, "Should add: our tools budget comes from it too", author="amy"),
        post("plain", 14, "our tools are spreadsheets", author="bo"),
    ]
    result = attribute(posts, asked, [HOST], ends_at=at(30))
    got = {key.rsplit("/", 1)[1]: (v.question, v.method) for key, v in result.items()}
    assert got["more"] == ("Q2", "continues")
    assert got["plain"] == ("Q1", "words")


def test_attribution_leaves_the_garbage_collector_as_it_found_it() -> None:
    posts = [*question_posts(), post("a", 12, "A1: yes"), post("b", 13, "@alice.bsky.social hi")]
    frozen = gc.get_freeze_count()
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            attribute(posts, questions(), [HOST])
            assert gc.isenabled() is enabled
            assert gc.get_freeze_count() == frozen  # nothing left out of collection for good
        finally:
            gc.enable()
