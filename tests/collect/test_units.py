"""The collector's pure parts: spam rules, request budgets and backoff, Mastodon ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatbot.collect.pacing import OutOfBudget, Pacer, waiting_out
from chatbot.collect.spam import SpamInput, classify
from chatbot.errors import RateLimitedError

T0 = datetime(2030, 1, 1, 17, 0, tzinfo=UTC)


def post(uri: str, author: str, text: str, minutes: float = 0, **extra: object) -> SpamInput:
    return SpamInput(
        uri=uri, author=author, handle=f"{author}.test", created_at=T0 + timedelta(minutes=minutes),
        text=text, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_spam_rules_each_with_its_reason() -> None:
    posts = [
        post("1", "ann", "A1 I use pencils and a lot of paper #sm35", answers=True),
        post(
            "2", "spam1", "Get 10,000 real followers now https://x.example #sm35", 1, has_link=True
        ),
        post(
            "3", "spam2", "Get 10,000 real followers now https://x.example #sm35", 2, has_link=True
        ),
        post(
            "4",
            "copy",
            "A1 I use pencils and a lot of paper #sm35 https://y.example",
            3,
            has_link=True,
        ),
        post("5", "tags", "hi #sm35 #a #b #c #d", tags=("sm35", "a", "b", "c", "d")),
        post("6", "drive", "great stuff https://z.example #sm35", has_link=True),
        post("7", "bob", "Look at this https://ok.example", parent_uri="1", has_link=True),
        post(
            "8",
            "mod",
            "#sm35 #a #b #c #d #e",
            tags=("sm35", "a", "b", "c", "d", "e"),
            moderator=True,
        ),
        post("9", "pal", "see https://pal.example", has_link=True),
        post("10", "foe", "a perfectly fine post #sm35"),
    ]
    reasons = classify(posts, "#SM35", block=["@foe.test"], allow=["pal.test"])
    assert reasons == {
        "2": "same text with a link from 2 accounts",
        "3": "same text with a link from 2 accounts",
        "4": "copy of another account's post with a link added",
        "5": "hashtag stuffing (5 hashtags)",
        "6": "link post from an account that takes no other part",
        "10": "blocked account",
    }


def test_a_link_to_some_post_outside_the_chat_is_not_taking_part() -> None:
    """Any post address in a text is a quote target now; quoting counts only inside the chat."""
    outside = "https://bsky.app/profile/far.test/post/3kabcdefghi22"
    posts = [
        post("1", "ann", "A1 pencils #sm35", answers=True),
        post("2", "drive", f"wow {outside} #sm35", has_link=True, quote_uri=outside),
        post("3", "bob", "so true https://bsky.app/x #sm35", 2, has_link=True, quote_uri="1"),
    ]
    reasons = classify(posts, "#sm35")
    assert reasons == {"2": "link post from an account that takes no other part"}


def test_budget_spends_and_refills_on_the_clock() -> None:
    pacer = Pacer(headroom=0.01)  # Mastodon: 3 requests per 5 minutes
    for _ in range(3):
        pacer.take("mastodon", T0)
    with pytest.raises(OutOfBudget) as stop:
        pacer.take("mastodon", T0)
    assert stop.value.until == T0 + timedelta(seconds=100)
    pacer.take("mastodon", T0 + timedelta(seconds=100))


def test_rate_limit_backs_off_until_the_reset_or_longer_each_time() -> None:
    pacer = Pacer()
    reset = T0 + timedelta(seconds=42)
    assert pacer.rate_limited(RateLimitedError("x", network="bluesky", retry_at=reset), T0) == reset
    assert pacer.blocked("bluesky", T0) == reset
    first = pacer.rate_limited(RateLimitedError("x", network="mastodon"), T0)
    second = pacer.rate_limited(RateLimitedError("x", network="mastodon"), T0)
    assert T0 < first < second <= T0 + timedelta(minutes=15)
    pacer.succeeded("mastodon")
    assert pacer.blocked("mastodon", T0 + timedelta(minutes=20)) is None


def test_waiting_out_charges_a_rate_limit_to_the_budget_it_names() -> None:
    # Another server's 429 (the client calls every Mastodon server "mastodon") rests that
    # server's budget, not the bot's own server's; the call is tried again after the wait.
    pacer, slept, waits = Pacer(), [], []
    reset = T0 + timedelta(seconds=42)
    answers = iter([RateLimitedError("429", network="mastodon", retry_at=reset), "read"])

    def call() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    found = waiting_out(call, pacer, "mastodon@far.example", lambda: T0, slept.append, waits.append)
    assert found == "read" and slept == waits == [42.0]
    assert pacer.blocked("mastodon@far.example", T0) == reset
    assert pacer.blocked("mastodon", T0) is None


def test_activity_shortens_the_interval_and_quiet_lengthens_it() -> None:
    pacer = Pacer(interval=20, minimum=5, maximum=60)
    assert pacer.adapt(3) == 10 and pacer.adapt(1) == 5 and pacer.adapt(9) == 5
    assert [pacer.adapt(0) for _ in range(4)] == [7.5, 11.25, 16.875, 25.3125]


def test_the_servers_own_count_pauses_collection_before_its_budget_runs_out() -> None:
    from chatbot.platforms.mastodon_server import RateState

    pacer = Pacer()  # the collector keeps half of a server's limit for others
    pacer.observe("mastodon", RateState(limit=300, remaining=170, reset_in=120.0), T0)
    for _ in range(20):
        pacer.take("mastodon", T0)  # 170 left, 150 kept back: 20 more requests
    with pytest.raises(OutOfBudget):
        pacer.take("mastodon", T0)
    pacer.observe("mastodon", RateState(limit=300, remaining=150, reset_in=42.0), T0)
    assert pacer.blocked("mastodon", T0) == T0 + timedelta(seconds=42)
    assert pacer.blocked("mastodon", T0 + timedelta(seconds=43)) is None
    unknown = Pacer()
    unknown.observe("mastodon", RateState(limit=300, remaining=3, reset_in=None), T0)
    assert unknown.blocked("mastodon", T0) == T0 + timedelta(seconds=60)
