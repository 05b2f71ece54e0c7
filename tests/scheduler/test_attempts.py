"""Rate-limit waits are counted apart from attempts: they never bring a post nearer giving up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from chatbot import db
from chatbot.bot import controls, outbox
from chatbot.bot.delivery import Claim, counts_after
from chatbot.bot.retry import RetryPolicy
from chatbot.errors import RateLimitedError, TransientError
from chatbot.models import PostDelivery, SchemaVersion
from tests.scheduler.conftest import load_chat, mastodon_posts

NOW = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
LEASE, LIMIT = timedelta(minutes=5), timedelta(minutes=10)
POLICY = RetryPolicy(base=2, cap=60, jitter=0, max_attempts=3)


def claim(engine, now=NOW, network="mastodon"):
    return outbox.claim_next(
        engine, network, now=now, worker="w", lease=LEASE, late_limit=LIMIT
    ).claim


def row(engine, delivery_id: int) -> PostDelivery:
    with Session(engine) as session:
        found = session.get(PostDelivery, delivery_id)
        session.expunge_all()
    return found


# -- the rule ---------------------------------------------------------------


def _claim(attempts: int, rate_limited: int) -> Claim:
    return Claim(
        delivery_id=1, event_id=1, network="mastodon", label="Q1", kind="question",
        text="Q1 #t", key="k", due_at=NOW, attempts=attempts, worker="w", hashtag="t",
        timezone="UTC", rate_limited=rate_limited,
    )  # fmt: skip


def test_a_rate_limited_try_moves_from_attempts_to_rate_limited():
    # attempts includes the try in flight; a 429 says it was refused, so it was no failure.
    assert counts_after(_claim(1, 0), limited=True) == (0, 1)
    assert counts_after(_claim(3, 7), limited=True) == (2, 8)
    # Any other outcome leaves the try counted: it may have failed for real.
    assert counts_after(_claim(1, 0), limited=False) == (1, 0)
    assert counts_after(_claim(3, 7), limited=False) == (3, 7)


def test_rate_limits_beyond_the_give_up_limit_do_not_make_a_network_error_final(engine):
    load_chat(engine, NOW, questions=0, networks=("mastodon",))
    now, waits = NOW, []
    for _ in range(POLICY.max_attempts + 3):
        claimed = claim(engine, now)
        assert claimed.attempts == 1  # the rate-limited tries before it are not in it
        error = RateLimitedError("Mastodon: rate limited")  # no reset time given
        outcome = outbox.fail(engine, claimed, error, now=now, policy=POLICY)
        assert outcome.state == "retry"
        waits.append(outcome.next_at - now)
        now = outcome.next_at
    # Without a reset time the wait still grows with every try (2s, 4s, ... up to the cap).
    assert waits == [timedelta(seconds=s) for s in (2, 4, 8, 16, 32, 60)]
    delivery = row(engine, claimed.delivery_id)
    assert (delivery.attempts, delivery.rate_limited) == (0, 6)
    assert delivery.last_error == "rate limited: Mastodon: rate limited"
    assert not outbox.may_have_landed(delivery)  # nothing was ever accepted
    # A real failure now is the first one, far from the limit of 3.
    claimed = claim(engine, now)
    outcome = outbox.fail(engine, claimed, TransientError("503"), now=now, policy=POLICY)
    assert outcome.state == "retry" and outcome.message.endswith("(network error)")
    delivery = row(engine, claimed.delivery_id)
    assert (delivery.attempts, delivery.rate_limited) == (1, 6)
    assert outbox.may_have_landed(delivery)
    # A rate limit after it keeps that try counted, and says nothing of whether it landed.
    claimed = claim(engine, outcome.next_at)
    assert (claimed.attempts, claimed.landed_before) == (2, True)
    outbox.fail(engine, claimed, RateLimitedError("429"), now=now, policy=POLICY)
    delivery = row(engine, claimed.delivery_id)
    assert (delivery.attempts, delivery.rate_limited) == (1, 7)
    assert outbox.may_have_landed(delivery)
    # The give-up limit counts real failures only: two more, and it is the third.
    now = outcome.next_at + timedelta(minutes=5)
    outcomes = []
    for _ in range(2):
        claimed = claim(engine, now)
        outcomes.append(outbox.fail(engine, claimed, TransientError("503"), now=now, policy=POLICY))
        now += timedelta(minutes=5)
    assert [o.state for o in outcomes] == ["retry", "failed"]
    assert outcomes[-1].message.startswith("failed after 3 tries (and 7 rate-limited waits): 503")
    assert (row(engine, claimed.delivery_id).attempts, claimed.rate_limited) == (3, 7)


def test_a_post_only_ever_rate_limited_may_still_be_skipped_when_too_late(engine):
    load_chat(engine, NOW, questions=0, networks=("mastodon",))
    claimed = claim(engine)
    outbox.fail(engine, claimed, RateLimitedError("429"), now=NOW, policy=POLICY)
    result = outbox.claim_next(
        engine, "mastodon", now=NOW + LIMIT + timedelta(minutes=1), worker="w", lease=LEASE,
        late_limit=LIMIT,
    )  # fmt: skip
    assert (result.notices[0].label, result.notices[0].state) == ("welcome", "skipped")


def test_migration_4_adds_the_counter_to_an_older_database(engine):
    load_chat(engine, NOW, questions=0, networks=("mastodon",))
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE post_delivery DROP COLUMN rate_limited"))
        connection.execute(SchemaVersion.__table__.delete())  # type: ignore[attr-defined]
        connection.execute(
            SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                version=3, description="partial post indexes", applied_at=NOW
            )
        )
    assert db.migrate(engine) == db.latest_version() >= 4
    assert "rate_limited" in {c["name"] for c in inspect(engine).get_columns("post_delivery")}
    with Session(engine) as session:
        assert {d.rate_limited for d in session.exec(select(PostDelivery))} == {0}
    assert db.migrate(engine) == db.latest_version()  # a second run changes nothing


# -- against the sandbox ----------------------------------------------------


def test_a_post_rate_limited_past_the_give_up_limit_is_still_posted(engine, sandbox, make_service):
    clock = sandbox.clock
    event_id = load_chat(engine, clock.now(), questions=0, networks=("mastodon",))
    service = make_service()  # max_attempts=5
    limit = service.options.policy.max_attempts
    faults = f"{sandbox.mastodon_url}/_sandbox/faults"

    def inject(**settings: object) -> None:
        httpx.post(faults, json=settings).raise_for_status()

    def tries(what: str) -> int:
        said = service.lines  # type: ignore[attr-defined]
        return sum(" welcome  mastodon  retry in" in line and what in line for line in said)

    # Every request answered 429 with reset headers, until the post waited more than
    # max_attempts times; then one server error (a real failure); then all well.
    inject(rate=1.0, weights={"rate_limit": 1}, retry_after_seconds=5)
    waited = limit + 3
    for _ in range(100):
        if tries("(rate limited)") >= waited:
            break
        service.post_due("mastodon")
        clock.advance(seconds=10)
    assert tries("(rate limited)") == waited
    inject(weights={"unavailable": 1})
    service.post_due("mastodon")
    assert tries("(network error)") == 1
    inject(rate=0.0)
    clock.advance(seconds=10)
    service.post_due("mastodon")

    posted = mastodon_posts(sandbox).texts
    assert len(posted) == 2 and posted[0].startswith("<p>Welcome to the chat!")  # once
    with Session(engine) as session:
        welcome = session.exec(select(PostDelivery).order_by(PostDelivery.id)).first()
    assert welcome.state == "posted"
    # Two tries count: the server error and the one that posted; the waits apart.
    assert (welcome.attempts, welcome.rate_limited) == (2, waited)
    shown = controls.status(engine, str(event_id)).as_dict()["posts"][0]["deliveries"]["mastodon"]
    assert (shown["state"], shown["attempts"], shown["rate_limited"]) == ("posted", 2, waited)
    assert not any("failed" in line for line in service.lines)
