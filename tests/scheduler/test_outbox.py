"""The outbox functions on both engines: atomic claims, order, leases, late limits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from chatbot.bot import outbox
from chatbot.bot.retry import RetryPolicy
from chatbot.errors import AuthError, RateLimitedError, TransientError
from chatbot.models import Event, PostDelivery
from chatbot.platforms.base import RemoteRef
from tests.scheduler.conftest import load_chat

NOW = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
LIMIT = timedelta(minutes=10)
POLICY = RetryPolicy(base=2, cap=60, jitter=0, max_attempts=3)


def claim(engine, network="bluesky", now=NOW, worker="w1"):
    return outbox.claim_next(engine, network, now=now, worker=worker, lease=LEASE, late_limit=LIMIT)


def ref(claimed) -> RemoteRef:
    return RemoteRef(claimed.network, f"id-{claimed.delivery_id}", f"uri-{claimed.delivery_id}")


def test_claims_follow_the_plan_order_one_post_at_a_time(engine):
    load_chat(engine, NOW - timedelta(minutes=5), questions=3)  # welcome .. Q3 are due
    first = claim(engine).claim
    assert first.label == "welcome" and first.attempts == 1
    assert claim(engine).claim is None  # Q1 waits while the welcome is being posted
    assert claim(engine, "mastodon").claim.label == "welcome"  # the other network does not
    outbox.complete(engine, first, ref(first), now=NOW, late_after=timedelta(minutes=1))
    assert claim(engine).claim.label == "Q1"
    with Session(engine) as session:
        assert session.exec(select(Event)).one().state == "running"


def test_the_key_is_the_same_for_every_try_and_every_process(engine):
    load_chat(engine, NOW, questions=1)
    first = claim(engine).claim
    outbox.fail(engine, first, TransientError("502"), now=NOW, policy=POLICY)
    again = claim(engine, now=NOW + timedelta(minutes=1), worker="w2").claim
    assert (again.delivery_id, again.key, again.attempts) == (first.delivery_id, first.key, 2)


def test_concurrent_claims_never_hand_out_a_post_twice(engine):
    starts = [NOW - timedelta(minutes=1, seconds=n) for n in range(6)]
    for n, start in enumerate(starts):
        load_chat(engine, start, questions=0, hashtag=f"par{n}")
    claimed: list[outbox.Claim] = []
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            while (result := claim(engine, worker=name).claim) is not None:
                claimed.append(result)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # One welcome per event is due; its wrap-up waits behind it.
    assert sorted(c.delivery_id for c in claimed) == sorted({c.delivery_id for c in claimed})
    assert len(claimed) == 6 and {c.label for c in claimed} == {"welcome"}


def test_a_stuck_post_is_claimed_again_only_after_the_lease(engine):
    load_chat(engine, NOW, questions=1)
    stuck = claim(engine, worker="dead").claim
    assert claim(engine, now=NOW + LEASE - timedelta(seconds=1)).claim is None
    again = claim(engine, now=NOW + LEASE + timedelta(seconds=1), worker="alive").claim
    assert again.reclaimed and again.key == stuck.key and again.worker == "alive"
    # The dead worker's late answer cannot overwrite the live one's claim.
    assert outbox.fail(engine, stuck, TransientError("x"), now=NOW, policy=POLICY).state
    with Session(engine) as session:
        row = session.get(PostDelivery, stuck.delivery_id)
        assert (row.state, row.claimed_by) == ("posting", "alive")


def test_mastodon_posts_stuck_past_the_idempotency_window_are_not_sent_again(engine):
    load_chat(engine, NOW, questions=1, networks=("mastodon",))
    claim(engine, "mastodon")
    result = claim(engine, "mastodon", now=NOW + timedelta(hours=2))
    assert result.claim is None
    # Not re-sent: reported; then Q1 and the wrap-up, two hours late, are skipped.
    failed, *skipped = result.notices
    assert failed.state == "failed" and failed.reason.startswith("outcome unknown")
    assert [(n.label, n.state) for n in skipped] == [("Q1", "skipped"), ("wrapup", "skipped")]


def test_too_late_posts_are_skipped_unless_a_try_may_have_landed(engine):
    load_chat(engine, NOW, questions=1)
    first = claim(engine).claim
    outbox.fail(engine, first, TransientError("dropped"), now=NOW, policy=POLICY)
    late = NOW + LIMIT + timedelta(minutes=5)
    result = claim(engine, now=late)
    assert result.claim.label == "welcome" and not result.notices  # finish it, never skip it
    outbox.fail(engine, result.claim, RateLimitedError("429"), now=late, policy=POLICY)
    result = claim(engine, now=late + timedelta(minutes=1))
    # Still may have landed: the rate-limited try says nothing about the dropped one before.
    assert result.claim is not None


def test_rate_limits_wait_for_retry_at_and_auth_errors_fail_at_once(engine):
    load_chat(engine, NOW, questions=0)
    first = claim(engine).claim
    error = RateLimitedError("429", retry_at=NOW + timedelta(seconds=40))
    outcome = outbox.fail(engine, first, error, now=NOW, policy=POLICY)
    assert (outcome.state, outcome.next_at) == ("retry", NOW + timedelta(seconds=40))
    assert outcome.message == "retry in 40s (rate limited)"
    assert claim(engine, now=NOW + timedelta(seconds=39)).claim is None
    second = claim(engine, now=NOW + timedelta(seconds=40)).claim
    outcome = outbox.fail(engine, second, AuthError("Bluesky: credentials refused"), now=NOW,
                          policy=POLICY)  # fmt: skip
    assert outcome.state == "failed" and "CHATBOT_BLUESKY_PASSWORD" in outcome.message


def test_transient_errors_give_up_after_max_attempts(engine):
    load_chat(engine, NOW, questions=0, networks=("mastodon",))
    now, outcomes = NOW, []
    for _ in range(3):
        claimed = claim(engine, "mastodon", now=now).claim
        outcomes.append(outbox.fail(engine, claimed, TransientError("503"), now=now, policy=POLICY))
        now += timedelta(minutes=1)
    assert [o.state for o in outcomes] == ["retry", "retry", "failed"]
    assert outcomes[0].message == "retry in 2s (network error)"
    assert outcomes[-1].message.startswith("failed after 3 tries: 503; it may have reached")
    assert claim(engine, "mastodon", now=now).claim.label == "wrapup"


def test_release_gives_the_post_back_with_its_tries(engine):
    load_chat(engine, NOW, questions=0)
    claimed = claim(engine).claim
    assert outbox.release(engine, claimed, now=NOW)
    assert not outbox.release(engine, claimed, now=NOW)
    again = claim(engine).claim
    assert again.delivery_id == claimed.delivery_id and again.attempts == 2


def test_the_keys_hour_counts_from_the_first_try_through_a_chain_of_crashes(engine):
    # Claimed, the process killed, the claim taken again after each lease by a process that
    # is killed too: the first try may have landed, and Mastodon forgets its key after an
    # hour. Each claim moves claimed_at; the hour counts from the first, so no re-send
    # happens once it has passed, however recent the last claim.
    load_chat(engine, NOW, questions=1, networks=("mastodon",))
    first = claim(engine, "mastodon", worker="dead-0").claim
    at = NOW
    for n in range(1, 5):  # four more crashes, each after the lease: 4 x 13 minutes
        at += max(LEASE, timedelta(minutes=13))
        again = claim(engine, "mastodon", now=at, worker=f"dead-{n}").claim
        assert again is not None and again.reclaimed and again.key == first.key
    with Session(engine) as session:
        row = session.get(PostDelivery, first.delivery_id)
        assert row.first_tried_at == NOW and row.claimed_at == at
    result = claim(engine, "mastodon", now=at + max(LEASE, timedelta(minutes=13)))
    assert result.claim is None
    assert result.notices[0].state == "failed"
    assert result.notices[0].reason.startswith("outcome unknown")


def test_a_retry_after_a_dropped_connection_an_hour_on_is_not_sent_again(engine):
    # A dropped connection: the try may have landed. Retried soon, the key still holds;
    # retried 56 minutes on (a bot stopped meanwhile), it could post a second copy.
    load_chat(engine, NOW, questions=1, networks=("mastodon",))
    tried = claim(engine, "mastodon").claim
    outbox.fail(engine, tried, TransientError("connection dropped"), now=NOW, policy=POLICY)
    with Session(engine) as session:
        row = session.get(PostDelivery, tried.delivery_id)
        assert row.state == "pending" and row.first_tried_at == NOW
    result = claim(engine, "mastodon", now=NOW + timedelta(minutes=56))
    assert result.claim is None
    failed = result.notices[0]
    assert (failed.label, failed.state) == ("welcome", "failed")
    assert failed.reason.startswith("outcome unknown")


def test_a_fresh_claim_starts_the_hour_again(engine):
    # A post whose earlier tries cannot have landed (rate limited) starts afresh.
    load_chat(engine, NOW, questions=1, networks=("mastodon",))
    tried = claim(engine, "mastodon").claim
    limited = RateLimitedError("slow down", network="mastodon", retry_at=NOW + timedelta(hours=1))
    outbox.fail(engine, tried, limited, now=NOW, policy=POLICY)
    later = NOW + timedelta(hours=1, seconds=1)
    again = outbox.claim_next(
        engine, "mastodon", now=later, worker="w1", lease=LEASE, late_limit=timedelta(days=1)
    ).claim
    assert again is not None
    with Session(engine) as session:
        assert session.get(PostDelivery, again.delivery_id).first_tried_at == later
