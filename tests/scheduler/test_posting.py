"""The runner posts a whole chat exactly once, in order, on both networks (manual clock)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from chatbot.models import Event, PostDelivery
from tests.scheduler.conftest import (
    HASHTAG,
    bluesky_posts,
    expected_texts,
    load_chat,
    mastodon_posts,
    run_chat,
)


def _states(engine):
    with Session(engine) as session:
        return sorted((d.network, d.state) for d in session.exec(select(PostDelivery)))


def test_a_chat_posts_every_post_once_in_order_on_both_networks(engine, sandbox, make_service):
    clock = sandbox.clock
    event_id = load_chat(engine, clock.now() + timedelta(seconds=30), settings={"language": "en"})
    service = make_service()
    run_chat(service, clock, minutes=6)
    assert bluesky_posts(sandbox).texts == expected_texts()
    assert [t for t in mastodon_posts(sandbox).texts if HASHTAG in t] and len(
        mastodon_posts(sandbox).texts
    ) == 5
    for record in bluesky_posts(sandbox).raw:
        tags = [
            feature["tag"]
            for facet in record.get("facets", [])
            for feature in facet["features"]
            if feature["$type"] == "app.bsky.richtext.facet#tag"
        ]
        assert tags == [HASHTAG]
        assert record["langs"] == ["en"] and "reply" not in record
    for status in mastodon_posts(sandbox).raw:
        assert [t["name"] for t in status["tags"]] == [HASHTAG]
        assert status["in_reply_to_id"] is None and status["language"] == "en"
    # Running again changes nothing: every delivery is final.
    run_chat(service, clock, minutes=1)
    assert len(bluesky_posts(sandbox).texts) == 5 and len(mastodon_posts(sandbox).texts) == 5
    assert set(_states(engine)) == {("bluesky", "posted"), ("mastodon", "posted")}
    with Session(engine) as session:
        assert session.get(Event, event_id).state == "finished"
    assert any(" Q1  bluesky  posted  " in line for line in service.lines)


def test_thread_layout_replies_under_the_welcome_and_the_wrapup_carries_the_recap(
    engine, sandbox, make_service
):
    from chatbot.bot import controls

    clock = sandbox.clock
    event_id = load_chat(engine, clock.now() + timedelta(seconds=5), questions=2)
    controls.set_options(
        engine, [event_id], layout="thread", recap_url="https://example.org/recap/sched"
    )
    run_chat(make_service(), clock, minutes=5)
    records = bluesky_posts(sandbox).raw
    welcome = records[0]
    assert "reply" not in welcome
    for record in records[1:]:
        assert record["reply"]["root"]["uri"] == welcome["uri"]
        assert record["reply"]["parent"]["uri"] == welcome["uri"]
    assert records[-1]["text"].endswith("\nhttps://example.org/recap/sched")
    links = [
        feature["uri"]
        for facet in records[-1].get("facets", [])
        for feature in facet["features"]
        if feature["$type"] == "app.bsky.richtext.facet#link"
    ]
    assert links == ["https://example.org/recap/sched"]
    statuses = mastodon_posts(sandbox).raw
    assert statuses[0]["in_reply_to_id"] is None
    assert {s["in_reply_to_id"] for s in statuses[1:]} == {statuses[0]["id"]}
    assert "https://example.org/recap/sched" in statuses[-1]["content"]


def test_late_posts_go_out_marked_late_and_too_late_ones_are_skipped(engine, sandbox, make_service):
    clock = sandbox.clock
    load_chat(
        engine, clock.now() - timedelta(minutes=12), questions=3, spacing=timedelta(minutes=4)
    )
    # Due: welcome -12m, Q1 -8m, Q2 -4m, Q3 now, wrap-up +4m; the limit is 10 minutes.
    service = make_service(late_limit=timedelta(minutes=10), late_after=timedelta(minutes=1))
    run_chat(service, clock, minutes=5)
    texts = bluesky_posts(sandbox).texts
    assert texts == expected_texts()[1:]  # the welcome was 12 minutes late
    assert len(mastodon_posts(sandbox).texts) == 4
    skipped = [line for line in service.lines if "skipped" in line]
    assert len(skipped) == 2 and all("welcome" in line for line in skipped)
    assert "skipped: 12 min late (limit 10m)" in skipped[0]
    with Session(engine) as session:
        rows = session.exec(select(PostDelivery).order_by(PostDelivery.id)).all()
        late = {(d.network, d.text.split()[0]) for d in rows if d.late}
        assert late == {(n, w) for n in ("bluesky", "mastodon") for w in ("Q1", "Q2")}
        assert {d.last_error for d in rows if d.state == "skipped"} == {
            "skipped: 12 min late (limit 10m)"
        }
    assert any("posted late (8 min)" in line for line in service.lines)


def test_a_rate_limited_network_retries_without_holding_up_the_other(engine, sandbox, make_service):
    clock = sandbox.clock
    load_chat(engine, clock.now(), questions=2)
    sandbox.servers["mastodon"].app.faults.settings.update(
        {"rate": 1.0, "weights": {"rate_limit": 1}}
    )
    service = make_service()
    run_chat(service, clock, minutes=4, step=5)
    assert bluesky_posts(sandbox).texts == expected_texts(2)
    assert mastodon_posts(sandbox).texts == []
    assert any("mastodon  retry in" in line and "(rate limited)" in line for line in service.lines)
    sandbox.servers["mastodon"].app.faults.settings.update({"rate": 0.0})
    run_chat(service, clock, minutes=1, step=5)
    assert len(mastodon_posts(sandbox).texts) == 4
    assert set(_states(engine)) == {("bluesky", "posted"), ("mastodon", "posted")}


def test_refused_credentials_fail_fast_and_stop_that_network_only(engine, sandbox, make_service):
    clock = sandbox.clock
    load_chat(engine, clock.now(), questions=2)
    service = make_service()
    bad = service.platform("mastodon")
    bad.api.access_token = "not-the-token"
    run_chat(service, clock, minutes=4)
    assert bluesky_posts(sandbox).texts == expected_texts(2)
    assert mastodon_posts(sandbox).texts == []
    failed = [line for line in service.lines if "mastodon  failed:" in line]
    assert len(failed) == 1 and "CHATBOT_MASTODON_TOKEN" in failed[0]
    assert any(line.startswith("Stopped posting on mastodon") for line in service.lines)
    assert ("mastodon", "failed") in _states(engine) and service.halted.keys() == {"mastodon"}


def test_a_post_stuck_in_posting_is_sent_again_with_the_same_key(engine, sandbox, make_service):
    from chatbot.bot import outbox

    clock = sandbox.clock
    load_chat(engine, clock.now(), questions=1)
    service = make_service(lease=timedelta(minutes=5))
    for network in ("bluesky", "mastodon"):
        # A process claims the welcome, posts it, and dies before recording it.
        claim = outbox.claim_next(
            engine, network, now=clock.now(), worker="dead", lease=timedelta(minutes=5),
            late_limit=timedelta(minutes=10),
        ).claim  # fmt: skip
        assert claim is not None and claim.label == "welcome"
        service.platform(network).post(claim.text, key=claim.key)
    run_chat(service, clock, minutes=2)
    assert bluesky_posts(sandbox).texts == [expected_texts(1)[0]]  # Q1 waits behind it
    assert len(mastodon_posts(sandbox).texts) == 1
    clock.advance(minutes=4)  # past the lease
    run_chat(service, clock, minutes=1)
    assert bluesky_posts(sandbox).texts == expected_texts(1)
    assert len(mastodon_posts(sandbox).texts) == 3
    assert sum("recovered" in line for line in service.lines) == 2
