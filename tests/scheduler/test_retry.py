"""The backoff policy (pure): bounded, growing, jittered, honouring the network's retry time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.bot.retry import RetryPolicy, describe_wait

NOW = datetime(2027, 12, 7, 17, 0, tzinfo=UTC)
policies = st.builds(
    RetryPolicy,
    base=st.floats(0.1, 10),
    cap=st.floats(10, 600),
    jitter=st.floats(0, 1),
    max_wait=st.floats(600, 3600),
    max_attempts=st.integers(1, 20),
)


@given(policies, st.integers(1, 10_000), st.integers(0, 2**32))
def test_a_delay_stays_between_the_jittered_floor_and_the_ceiling(policy, attempt, seed):
    delay = policy.delay(attempt, random.Random(seed))
    ceiling = policy.ceiling(attempt)
    assert ceiling * (1 - policy.jitter) - 1e-9 <= delay <= ceiling <= policy.cap


@given(policies, st.integers(1, 200))
def test_the_ceiling_doubles_until_the_cap(policy, attempt):
    now, then = policy.ceiling(attempt), policy.ceiling(attempt + 1)
    assert then >= now
    assert then == pytest.approx(min(policy.cap, now * 2))


@given(policies, st.integers(1, 50), st.floats(-3600, 7200), st.integers(0, 2**32))
def test_next_attempt_honours_retry_at_within_max_wait(policy, attempt, offset, seed):
    retry_at = NOW + timedelta(seconds=offset)
    when = policy.next_attempt(NOW, attempt, retry_at=retry_at, rng=random.Random(seed))
    assert when > NOW or policy.ceiling(attempt) * (1 - policy.jitter) == 0
    assert when <= NOW + timedelta(seconds=policy.max_wait)
    assert when >= min(retry_at, NOW + timedelta(seconds=policy.max_wait))


def test_jitter_spreads_processes_that_failed_together():
    policy = RetryPolicy(base=2, cap=60, jitter=0.5)
    delays = {round(policy.delay(3, random.Random(seed)), 6) for seed in range(20)}
    assert len(delays) > 10 and all(4 <= d <= 8 for d in delays)


def test_no_jitter_is_plain_exponential_backoff():
    policy = RetryPolicy(base=2, cap=30, jitter=0)
    assert [policy.delay(n) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def test_gives_up_after_max_attempts():
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base": 0}, "0 < base <= cap"),
        ({"base": 10, "cap": 5}, "0 < base <= cap"),
        ({"jitter": 1.5}, "jitter"),
        ({"max_wait": 10, "cap": 60}, "max_wait >= cap"),
        ({"max_attempts": 0}, "max_attempts >= 1"),
    ],
)
def test_nonsense_policies_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**options)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "0.2s"), (4, "4s"), (89, "89s"), (720, "12 min"), (3600, "1 h"), (3900, "1 h 5 min")],
)
def test_describe_wait(seconds, text):
    assert describe_wait(seconds) == text
