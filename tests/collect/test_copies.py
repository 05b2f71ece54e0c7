"""Same or nearly the same text from several accounts: the normaliser, the rule, its properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.collect.copies import copy_groups, normalise
from chatbot.collect.spam import SpamInput, classify

T0 = datetime(2030, 1, 1, 17, 0, tzinfo=UTC)
WAVE = "Honestly the best archiving course I ever took, changed how my whole team works"


def post(uri: str, author: str, text: str, minutes: float = 0, **extra: object) -> SpamInput:
    return SpamInput(
        uri=uri, author=author, handle=f"{author}.test", created_at=T0 + timedelta(minutes=minutes),
        text=text, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_normalise_drops_links_mentions_tags_labels_emoji_case_and_numbers() -> None:
    one = "A1: JUST GET 62 followers 🔥🔥 → https://t.co/abc @bob #Cabinet #sm35"
    two = "just   get 85 FOLLOWERS!!! http://mcaf.ee/x @ann@example.social #TheOpen"
    assert normalise(one) == normalise(two) == "just get 0 followers"
    assert normalise("We&#39;re &gt;&gt; here") == "we re here"
    assert normalise("mail me@example.org") == "mail me example org"


def test_identical_text_from_several_accounts_names_the_count_and_the_first() -> None:
    posts = [
        post("1", "spam1", WAVE + " https://a.example", 5),
        post("2", "spam2", WAVE.upper() + "!!", 1),
        post("3", "spam3", f"#sm35 {WAVE} 🙌", 9),
        post("4", "ann", "A1 I keep a paper notebook #sm35", answers=True),
    ]
    reasons = classify(posts, "sm35")
    expected = "same text from 3 accounts (first by @spam2.test at 2030-01-01 17:01 UTC)"
    assert reasons == {"1": expected, "2": expected, "3": expected}


def test_nearly_the_same_text_with_a_word_swapped_is_spam_too() -> None:
    posts = [
        post("1", "spam1", WAVE),
        post("2", "spam2", WAVE.replace("course", "class"), 3),
    ]
    reasons = classify(posts, "sm35")
    assert (
        reasons["2"]
        == "nearly the same text from 2 accounts (first by @spam1.test at 2030-01-01 17:00 UTC)"
    )
    assert set(reasons) == {"1", "2"}


SHORT = (
    *("A1 yes", "A1: Yes!", "Thanks for hosting!", "thanks for hosting", "Great chat everyone"),
    *("A2 I think context matters most of all", "A2 I think consent matters most of all"),
)


def test_short_common_answers_from_several_people_are_not_spam() -> None:
    posts = [post(str(n), f"user{n}", text, n) for n, text in enumerate(SHORT)]
    assert classify(posts, "sm35") == {}


def test_two_different_answers_echoing_the_question_are_not_near_copies() -> None:
    one = "A3 the hardest part of archiving social media is getting consent from the people in it"
    two = "A3 the hardest part of archiving social media for us is keeping the context of a thread"
    assert classify([post("1", "ann", one), post("2", "bob", two)], "sm35") == {}


def test_a_copy_of_a_hosts_post_is_spam_but_the_host_and_cohosts_are_not() -> None:
    text = "I finally got in on the Copilot program, slow at first but now it helps me write code"
    posts = [
        post("1", "jeff", text, 0, moderator=True),
        post("2", "cohost", text + " https://blog.example", 1, moderator=True, has_link=True),
        post("3", "copier", "#clouddoor " + text, 4),
    ]
    reasons = classify(posts, "sm35")
    assert reasons == {
        "3": "same text from 3 accounts (first by @jeff.test at 2030-01-01 17:00 UTC)"
    }


def test_the_copied_answer_stays_and_the_copies_do_not() -> None:
    original = post("1", "ann", "A2 " + WAVE, 0, answers=True)
    copies = [post("2", "bot1", WAVE, 2), post("3", "bot2", WAVE, 3)]
    assert set(classify([original, *copies], "sm35")) == {"2", "3"}


def test_copy_groups_join_identical_and_near_texts_only() -> None:
    keys = [normalise(t) for t in (WAVE, WAVE, "A1 yes", "A1 yes", WAVE.replace("team", "lab"))]
    assert copy_groups(keys) == [([0, 1, 4], True)]


# Properties ------------------------------------------------------------------

VOCABULARY = "the archive consent tweets context we our tools ethics scale library a of and"
WORDS = st.sampled_from(VOCABULARY.split(" "))
TEXTS = st.lists(WORDS, min_size=1, max_size=16).map(" ".join)
DECOR = st.sampled_from(["", " #sm35", " https://x.example/1", " @bob", " 🙂", "!!", " #Other"])


@given(TEXTS, DECOR, DECOR, st.booleans())
def test_normalise_ignores_decoration_and_case(
    text: str, before: str, after: str, upper: bool
) -> None:
    varied = before.strip() + " " + (text.upper() if upper else text) + after
    assert normalise(varied) == normalise(text)
    assert normalise(normalise(text)) == normalise(text)


POSTS = st.lists(
    st.tuples(st.integers(0, 5), TEXTS, DECOR, st.integers(0, 60), st.booleans()),
    min_size=1,
    max_size=30,
)


def _inputs(rows: list[tuple[int, str, str, int, bool]]) -> list[SpamInput]:
    return [
        post(str(n), f"user{author}", text + decor, minutes, moderator=author == 0 and mod)
        for n, (author, text, decor, minutes, mod) in enumerate(rows)
    ]


@settings(max_examples=150, deadline=None)
@given(POSTS, st.randoms(use_true_random=False))
def test_the_order_of_posts_never_changes_the_result(rows, random) -> None:
    posts = _inputs(rows)
    shuffled = list(posts)
    random.shuffle(shuffled)
    assert classify(posts, "sm35") == classify(shuffled, "sm35")


@settings(max_examples=150, deadline=None)
@given(POSTS)
def test_one_accounts_repeats_are_never_several_accounts_spam(rows) -> None:
    posts = [post(p.uri, "solo", p.text, (p.created_at - T0).seconds / 60) for p in _inputs(rows)]
    reasons = classify(posts, "sm35")
    assert not any("accounts" in reason for reason in reasons.values())


@settings(max_examples=150, deadline=None)
@given(POSTS)
def test_a_moderators_post_is_never_flagged(rows) -> None:
    posts = _inputs(rows)
    reasons = classify(posts, "sm35")
    assert not any(p.uri in reasons for p in posts if p.moderator)


def test_a_retweet_by_hand_credits_the_author_and_is_no_copy() -> None:
    posts = [post("1", "ann", WAVE), post("2", "bob", f"RT @ann.test: {WAVE}", 1)]
    assert normalise(posts[1].text) == ""
    assert classify(posts, "sm35") == {}


LONG_WORDS = st.lists(
    st.text("bcdfghjklmnprstvz", min_size=3, max_size=8), min_size=12, max_size=20, unique=True
)


@settings(max_examples=100, deadline=None)
@given(LONG_WORDS, st.lists(st.integers(0, 30), min_size=2, max_size=8), st.randoms())
def test_a_wave_with_one_word_swapped_per_copy_is_caught_in_any_order(words, swaps, random):
    posts = []
    for n, where in enumerate(swaps):
        text = list(words)
        text[where % len(text)] = "swapped" if n % 2 else text[where % len(text)]
        posts.append(post(str(n), f"bot{n}", " ".join(text) + f" https://x.example/{n}", n))
    shuffled = list(posts)
    random.shuffle(shuffled)
    reasons = classify(posts, "sm35")
    assert reasons == classify(shuffled, "sm35")
    assert set(reasons) == {p.uri for p in posts}
    assert all(f"from {len(posts)} accounts" in reason for reason in reasons.values())
