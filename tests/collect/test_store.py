"""Storing posts: one row per network + URI, edits, tombstones, NULs, participants' consent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.collect.participants import upsert_participants
from chatbot.collect.store import mark_deleted, upsert_posts
from chatbot.models import Participant, Post
from chatbot.platforms.normalise import bluesky_profile, tombstone
from tests.export.util import START, post


def store(engine: Engine, posts: list, minutes: float = 0):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        connection = session.connection()
        now = START + timedelta(minutes=minutes)
        result = upsert_posts(connection, posts, event_id=None, now=now)
        upsert_participants(connection, posts, now=now)
        session.commit()
    return result


def rows(engine: Engine) -> dict[str, Post]:
    with Session(engine) as session:
        return {r.uri: r for r in session.execute(select(Post)).scalars()}


def test_one_row_per_uri_edits_and_tombstones(engine: Engine) -> None:
    first = post(1, "A1 hello #sm35", raw={"text": "A1 hello", "n": "1"})
    result = store(engine, [first, first, post(2, "other")])
    assert (result.new, result.updated, result.unchanged) == (2, 0, 0)
    assert store(engine, [first]).unchanged == 1
    edited = replace(first, text="A1 hello, edited #sm35", cid="cid1b")
    assert store(engine, [edited], minutes=3).updated == 1
    row = rows(engine)[first.uri]
    assert row.text == "A1 hello, edited #sm35" and row.edited_at == START + timedelta(minutes=3)
    assert row.created_at == first.created_at and row.raw == {"text": "A1 hello", "n": "1"}
    assert isinstance(row.remote_id, str) and row.remote_id == "1122334455667788001"

    ghost = tombstone("bluesky", "at://did:plc:x/app.bsky.feed.post/never", "never")
    gone = tombstone("bluesky", first.uri, first.id)
    result = store(engine, [ghost, gone], minutes=5)
    assert (result.new, result.deleted) == (0, 1)
    assert store(engine, [first], minutes=6).unchanged == 1  # a lagging index can't revive it
    assert rows(engine)[first.uri].deleted_at == START + timedelta(minutes=5)
    with Session(engine) as session:
        assert mark_deleted(session.connection(), "bluesky", [post(2, "").uri], now=START) == 1
        session.commit()
    assert len(rows(engine)) == 2


def test_nul_characters_are_stored_on_both_engines(engine: Engine) -> None:
    nul = post(3, "bad\x00byte", raw={"text": "bad\x00byte", "list": ["\x00"]})
    store(engine, [nul])
    stored = rows(engine)[nul.uri]
    assert stored.text in ("bad\x00byte", "badbyte")
    store(engine, [replace(nul, text="still\x00bad", cid="c2")])
    assert rows(engine)[nul.uri].text in ("still\x00bad", "stillbad")


def test_a_post_view_cannot_lift_an_opt_out_a_full_profile_can(engine: Engine) -> None:
    full = post(4, "hi", author="nia", author_flags=frozenset({"nobot"}), author_followers=12)
    store(engine, [full])
    partial = replace(full, author_flags=frozenset(), author_followers=None)
    store(engine, [partial])

    def participant() -> Participant:
        with Session(engine) as session:
            return session.execute(select(Participant)).scalars().one()

    assert (participant().opted_out, participant().followers_count) == (True, 12)
    assert participant().opt_out_reason == "profile: nobot"
    store(engine, [replace(full, author_flags=frozenset(), author_followers=13)])
    assert (participant().opted_out, participant().followers_count) == (False, 13)


def test_a_bluesky_profile_records_followers_and_the_bio_opt_out(engine: Engine) -> None:
    # getProfiles: the bio and follower count a post view lacks.
    view = {
        "did": "did:plc:nia",
        "handle": "nia.test",
        "displayName": "Nia",
        "description": "Gardener. #NoBot please",
        "followersCount": 321,
        "labels": [{"val": "!no-unauthenticated", "src": "did:plc:nia"}],
    }
    profile = bluesky_profile(view)
    assert (profile.account_id, profile.followers) == ("did:plc:nia", 321)
    assert profile.flags == {"nobot", "no-unauthenticated"}
    with Session(engine) as session:
        assert upsert_participants(session.connection(), [profile], now=START) == 1
        session.commit()
    with Session(engine) as session:
        row = session.execute(select(Participant)).scalars().one()
    assert (row.account_id, row.handle, row.followers_count) == ("did:plc:nia", "nia.test", 321)
    assert row.opted_out and row.noindex
    assert row.opt_out_reason == "profile: no-unauthenticated, nobot"


def test_a_post_stored_moments_ago_is_not_tombstoned_by_a_lagging_thread(engine: Engine) -> None:
    fresh = post(4, "A2 just posted #sm35")
    store(engine, [fresh], minutes=10)  # first seen at START + 10 min
    with Session(engine) as session:
        connection = session.connection()
        lagging = START + timedelta(minutes=9)  # only posts known before then may go
        assert mark_deleted(connection, "bluesky", [fresh.uri], now=START, seen_before=lagging) == 0
        later = START + timedelta(minutes=10)
        assert mark_deleted(connection, "bluesky", [fresh.uri], now=START, seen_before=later) == 1
        session.commit()
    assert rows(engine)[fresh.uri].deleted_at is not None
