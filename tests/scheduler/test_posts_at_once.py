"""Several due posts claimed in one go and sent at once: each once, each chat in order."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from chatbot.bot import outbox
from chatbot.models import Event, PostDelivery
from chatbot.platforms.base import RemoteRef
from tests.scheduler.conftest import bluesky_posts, load_chat, mastodon_posts, run_chat

NOW = datetime(2030, 1, 8, 18, 0, tzinfo=UTC)
LEASE, LIMIT = timedelta(minutes=5), timedelta(minutes=10)


def claim_some(engine, most, now=NOW, worker="w"):
    return outbox.claim_some(
        engine, "bluesky", now=now, worker=worker, lease=LEASE, late_limit=LIMIT, most=most
    )


def test_a_claim_of_several_takes_the_oldest_heads_one_per_chat(engine):
    chats = [
        load_chat(engine, NOW - timedelta(minutes=5 - n), questions=2, hashtag=f"few{n}")
        for n in range(5)
    ]
    first = claim_some(engine, 3).claims
    # The three oldest chats' welcomes: never two posts of one chat (its Q1 waits).
    assert [c.event_id for c in first] == chats[:3]
    assert {c.label for c in first} == {"welcome"} and len({c.key for c in first}) == 3
    second = claim_some(engine, 3, worker="w2").claims
    assert [c.event_id for c in second] == chats[3:]
    assert claim_some(engine, 3).claims == []  # every chat's head is being posted
    for claimed in first:
        ref = RemoteRef("bluesky", str(claimed.delivery_id), f"uri-{claimed.delivery_id}")
        outbox.complete(engine, claimed, ref, now=NOW, late_after=timedelta(minutes=1))
    after = claim_some(engine, 5).claims
    assert [(c.event_id, c.label) for c in after] == [(chat, "Q1") for chat in chats[:3]]
    with Session(engine) as session:
        states = {e.id: e.state for e in session.exec(select(Event))}
    assert set(states.values()) == {"running"}


def test_a_claim_of_several_reports_the_late_ones_and_takes_the_rest(engine):
    load_chat(engine, NOW - timedelta(minutes=30), questions=0, hashtag="old")
    fresh = load_chat(engine, NOW - timedelta(minutes=1), questions=0, hashtag="fresh")
    found = claim_some(engine, 4)
    assert [(c.event_id, c.label) for c in found.claims] == [(fresh, "welcome")]
    # The old chat's welcome (30 minutes late) is skipped, not sent; then its wrap-up.
    assert [(n.label, n.state) for n in found.notices] == [("welcome", "skipped")]
    found = claim_some(engine, 4)
    assert found.claims == [] and [(n.label, n.state) for n in found.notices] == [
        ("wrapup", "skipped")
    ]


def test_many_chats_due_together_post_once_each_in_order(engine, sandbox, make_service):
    clock = sandbox.clock
    tags = [f"many{n}" for n in range(9)]
    for tag in tags:
        load_chat(engine, clock.now() + timedelta(seconds=30), questions=2, hashtag=tag)
    service = make_service(posts_at_once=4)
    run_chat(service, clock, minutes=4)
    for posted in (bluesky_posts(sandbox).texts, mastodon_posts(sandbox).texts):
        assert len(posted) == len(set(posted)) == len(tags) * 4
        per_chat: dict[str, list[str]] = defaultdict(list)
        for text in posted:
            found = re.search(r"many\d+", text)
            assert found is not None, text
            per_chat[found.group()].append(text)
        assert sorted(per_chat) == sorted(tags)
        for texts in per_chat.values():
            words = [text.removeprefix("<p>").split()[0] for text in texts]
            assert words == ["Welcome", "Q1", "Q2", "Thanks"], words
    with Session(engine) as session:
        assert {d.state for d in session.exec(select(PostDelivery))} == {"posted"}
        assert {e.state for e in session.exec(select(Event))} == {"finished"}


def test_refused_credentials_fail_one_post_and_leave_the_others_pending(
    engine, sandbox, make_service
):
    clock = sandbox.clock
    for n in range(6):
        load_chat(engine, clock.now(), questions=1, hashtag=f"refused{n}")
    service = make_service(posts_at_once=4)
    service.platform("mastodon").api.access_token = "not-the-token"
    run_chat(service, clock, minutes=1)
    assert mastodon_posts(sandbox).texts == []
    failed = [line for line in service.lines if "mastodon  failed:" in line]
    assert len(failed) == 1 and "CHATBOT_MASTODON_TOKEN" in failed[0]
    assert sum(line.startswith("Stopped posting on mastodon") for line in service.lines) == 1
    with Session(engine) as session:
        rows = session.exec(select(PostDelivery).where(PostDelivery.network == "mastodon")).all()
    states = sorted(d.state for d in rows)
    assert states.count("failed") == 1 and set(states) == {"failed", "pending"}
