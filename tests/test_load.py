"""Loading a plan into the outbox: load, reload, kept posts, conflicts, atomicity."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel
from sqlmodel import select as sm_select

from chatbot.bot import loading
from chatbot.bot.loading import load_event, post_keys
from chatbot.errors import ConfigError, EventConflictError, UsageError
from chatbot.models import Event, PostDelivery, ScheduledPost
from tests.factories import START, make_plan

SOURCE = "/chats/questions/sm35.md"


def dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order: the database's whole content."""
    content = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            content[table.name] = [tuple(row) for row in connection.execute(query)]
    return content


def posts_of(engine: Engine) -> list[ScheduledPost]:
    with Session(engine) as session:
        rows = session.exec(sm_select(ScheduledPost).order_by(ScheduledPost.position)).all()
        for row in rows:
            _ = row.deliveries
        session.expunge_all()
        return list(rows)


def mark_posted(engine: Engine, label: str, network: str = "bluesky") -> None:
    with Session(engine) as session:
        delivery = session.exec(
            sm_select(PostDelivery)
            .join(ScheduledPost)
            .where(ScheduledPost.label == label, PostDelivery.network == network)
        ).one()
        delivery.state = "posted"
        delivery.remote_id = "3kabc"
        delivery.remote_uri = "at://did:plc:bot/app.bsky.feed.post/3kabc"
        delivery.posted_at = delivery.due_at
        delivery.attempts = 1
        session.add(delivery)
        session.commit()


def test_first_load_stores_the_event_and_its_outbox(engine):
    plan = make_plan(networks=("bluesky", "mastodon"))
    report = load_event(engine, plan, source_path=SOURCE, source_sha256="ab" * 32)
    assert (report.created, report.posts, report.new) == (True, 5, 5)
    assert report.summary() == (
        'Loaded #sm35 "Social media in 2035": 5 posts (5 new) on bluesky and mastodon, '
        "first 2030-12-03 12:00 EST"
    )
    with Session(engine) as session:
        event = session.exec(sm_select(Event)).one()
        assert (event.hashtag, event.hashtag_key, event.state, event.paused) == (
            "sm35",
            "sm35",
            "scheduled",
            False,
        )
        assert event.start_at == START.astimezone(UTC)
        assert event.end_at == START.astimezone(UTC) + timedelta(minutes=40)
        assert event.collect_from == event.start_at - timedelta(minutes=15)
        assert event.collect_until == event.end_at + timedelta(minutes=60)
        assert (event.source_path, event.source_sha256) == (SOURCE, "ab" * 32)
        assert event.networks == ["bluesky", "mastodon"]
        assert event.moderators == ["@mod.example.com"]
    rows = posts_of(engine)
    assert [(r.kind, r.label, r.number, r.position) for r in rows] == [
        ("welcome", "welcome", None, 0),
        ("question", "Q1", 1, 1),
        ("question", "Q2", 2, 2),
        ("question", "Q3", 3, 3),
        ("wrapup", "wrapup", None, 4),
    ]
    for row, planned in zip(rows, plan.posts, strict=True):
        assert row.due_at == row.original_due_at == planned.due_at
        assert [(d.network, d.text, d.state, d.due_at) for d in row.deliveries] == [
            (n, planned.texts[n], "pending", planned.due_at) for n in ("bluesky", "mastodon")
        ]
    keys = [d.idempotency_key for r in rows for d in r.deliveries]
    assert len(set(keys)) == 10 and all(k.startswith("chatbot-") for k in keys)


def test_reload_of_the_same_plan_changes_nothing(engine):
    plan = make_plan()
    load_event(engine, plan, source_path=SOURCE)
    before = dump(engine)
    report = load_event(engine, plan, source_path=SOURCE)
    assert (report.created, report.new, report.updated, report.unchanged) == (False, 0, 0, 5)
    assert (
        report.summary().splitlines()[1]
        == "0 updated, 5 unchanged, 0 removed, 0 kept (already posted)"
    )
    after = dump(engine)
    # Only the event's updated_at moves.
    assert {k: v for k, v in after.items() if k != "event"} == {
        k: v for k, v in before.items() if k != "event"
    }


def test_reload_updates_changed_text_and_times(engine):
    load_event(engine, make_plan(), source_path=SOURCE)
    keys_before = {
        (r.label, d.network): d.idempotency_key for r in posts_of(engine) for d in r.deliveries
    }
    changed = make_plan(
        questions=["Question 1?", "A better question 2?", "Question 3?"],
        offsets=[timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=25)],
    )
    report = load_event(engine, changed, source_path=SOURCE)
    # Q2's text changed; Q3 and the wrap-up moved.
    assert (report.new, report.updated, report.unchanged, report.removed, report.kept) == (
        0,
        3,
        2,
        0,
        0,
    )
    rows = {r.label: r for r in posts_of(engine)}
    assert rows["Q2"].deliveries[0].text == "Q2 A better question 2? #sm35"
    assert rows["Q3"].due_at == START.astimezone(UTC) + timedelta(minutes=25)
    assert rows["Q3"].deliveries[0].due_at == rows["Q3"].due_at
    assert rows["wrapup"].due_at == START.astimezone(UTC) + timedelta(minutes=35)
    # The same rows, so the same idempotency keys.
    assert {
        (r.label, d.network): d.idempotency_key for r in rows.values() for d in r.deliveries
    } == keys_before


def test_reload_adds_and_removes_questions(engine):
    load_event(engine, make_plan(questions=3), source_path=SOURCE)
    report = load_event(engine, make_plan(questions=["Only one?"]), source_path=SOURCE)
    assert (report.posts, report.new, report.updated, report.unchanged, report.removed) == (
        3,
        0,
        2,
        1,
        2,
    )
    assert [r.label for r in posts_of(engine)] == ["welcome", "Q1", "wrapup"]
    report = load_event(engine, make_plan(questions=4), source_path=SOURCE)
    assert (report.new, report.updated, report.unchanged, report.removed) == (3, 2, 1, 0)
    assert [r.label for r in posts_of(engine)] == ["welcome", "Q1", "Q2", "Q3", "Q4", "wrapup"]
    with Session(engine) as session:
        assert len(session.exec(sm_select(PostDelivery)).all()) == 6


def test_posted_rows_are_never_touched(engine):
    load_event(engine, make_plan(), source_path=SOURCE)
    mark_posted(engine, "welcome")
    mark_posted(engine, "Q1")

    def posted_rows() -> list[tuple[object, ...]]:
        return [row for row in dump(engine)["post_delivery"] if "posted" in row]

    posted = posted_rows()
    posted_posts = [r for r in dump(engine)["scheduled_post"] if r[3] in ("welcome", "Q1")]
    assert len(posted) == 2
    # Q1 reworded and moved, welcome gone from the file, Q2 changed.
    plan = make_plan(
        welcome=None,
        questions=["Reworded 1?", "Reworded 2?", "Question 3?"],
        offsets=[timedelta(minutes=11), timedelta(minutes=20), timedelta(minutes=30)],
    )
    report = load_event(engine, plan, source_path=SOURCE)
    assert (
        report.posts,
        report.new,
        report.updated,
        report.unchanged,
        report.removed,
        report.kept,
    ) == (
        4,
        0,
        1,
        2,
        0,
        2,
    )
    assert (
        report.summary().splitlines()[1]
        == "1 updated, 2 unchanged, 0 removed, 2 kept (already posted)"
    )
    assert posted_rows() == posted
    assert [r for r in dump(engine)["scheduled_post"] if r[3] in ("welcome", "Q1")] == posted_posts


def test_a_post_being_posted_is_kept_too(engine):
    load_event(engine, make_plan(), source_path=SOURCE)
    with Session(engine) as session:
        delivery = session.exec(
            sm_select(PostDelivery).join(ScheduledPost).where(ScheduledPost.label == "Q3")
        ).one()
        delivery.state, delivery.claimed_by = "posting", "bot-1"
        session.add(delivery)
        session.commit()
    report = load_event(engine, make_plan(questions=2), source_path=SOURCE)
    assert (report.kept, report.removed) == (1, 0)
    assert "Q3" in [r.label for r in posts_of(engine)]


def test_a_live_delay_survives_a_reload(engine):
    load_event(engine, make_plan(), source_path=SOURCE)
    with Session(engine) as session:
        row = session.exec(sm_select(ScheduledPost).where(ScheduledPost.label == "Q2")).one()
        row.due_at += timedelta(minutes=3)
        session.add(row)
        session.commit()
    load_event(
        engine, make_plan(questions=["Question 1?", "New 2?", "Question 3?"]), source_path=SOURCE
    )
    row = {r.label: r for r in posts_of(engine)}["Q2"]
    assert row.due_at - row.original_due_at == timedelta(minutes=3)
    assert row.deliveries[0].due_at == row.due_at


def test_networks_added_and_dropped_on_reload(engine):
    load_event(engine, make_plan(networks=("bluesky",)), source_path=SOURCE)
    report = load_event(engine, make_plan(networks=("bluesky", "mastodon")), source_path=SOURCE)
    assert report.updated == 5
    assert {d.network for r in posts_of(engine) for d in r.deliveries} == {"bluesky", "mastodon"}
    report = load_event(engine, make_plan(networks=("mastodon",)), source_path=SOURCE)
    assert report.updated == 5
    assert {d.network for r in posts_of(engine) for d in r.deliveries} == {"mastodon"}


def test_same_hashtag_and_start_from_another_file_is_refused(engine):
    load_event(engine, make_plan(), source_path=SOURCE)
    before = dump(engine)
    with pytest.raises(EventConflictError) as caught:
        load_event(engine, make_plan(hashtag="SM35"), source_path="/chats/other.md")
    assert str(caught.value) == (
        "#sm35 starting 2030-12-03 12:00 EST is already loaded from /chats/questions/sm35.md "
        "(event 1); load that file instead, or give this one another start with --start"
    )
    assert dump(engine) == before


def test_another_start_is_another_event_with_a_note(engine):
    load_event(engine, make_plan(), source_path=SOURCE)
    report = load_event(engine, make_plan(start=START + timedelta(days=7)), source_path=SOURCE)
    assert report.created and report.event_id == 2
    assert report.notes == (
        "note: event 1 of #sm35 from the same file is also scheduled, starting "
        "2030-12-03 12:00 EST; both will be posted",
    )


def test_a_finished_event_is_not_reloaded(engine):
    load_event(engine, make_plan(), source_path=SOURCE)
    with Session(engine) as session:
        event = session.exec(sm_select(Event)).one()
        event.state = "finished"
        session.add(event)
        session.commit()
    with pytest.raises(EventConflictError, match=r"is finished \(event 1\); to run it again"):
        load_event(engine, make_plan(), source_path=SOURCE)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (dict(networks=()), UsageError, "names no network"),
        (dict(networks=("myspace",)), UsageError, "unknown network 'myspace'"),
        (dict(settings={"app_password": "x"}), ConfigError, "looks like a credential"),
    ],
)
def test_a_plan_the_database_cannot_hold_changes_nothing(engine, change, error, message):
    load_event(engine, make_plan(), source_path=SOURCE)
    before = dump(engine)
    with pytest.raises(error, match=message):
        load_event(engine, replace(make_plan(questions=5), **change), source_path=SOURCE)
    assert dump(engine) == before


def test_a_post_without_text_for_a_network_is_refused(engine):
    plan = make_plan(networks=("bluesky", "mastodon"))
    broken = replace(plan, posts=(*plan.posts[:2], replace(plan.posts[2], texts={"bluesky": "x"})))
    with pytest.raises(UsageError, match=r"questions/sm35.md:12: Q2 has no text for mastodon"):
        load_event(engine, broken, source_path=SOURCE)
    assert all(rows == [] for name, rows in dump(engine).items() if name != "schema_version")


def test_a_failure_half_way_rolls_everything_back(engine, monkeypatch):
    load_event(engine, make_plan(), source_path=SOURCE)
    before = dump(engine)
    real = loading._delivery
    calls = []

    def failing(*args: object) -> PostDelivery:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(loading, "_delivery", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        load_event(
            engine, make_plan(questions=8, networks=("bluesky", "mastodon")), source_path=SOURCE
        )
    assert len(calls) == 3
    assert dump(engine) == before


def test_dry_run_writes_nothing(engine):
    load_event(engine, make_plan(), source_path=SOURCE)
    before = dump(engine)
    report = load_event(engine, make_plan(questions=5), source_path=SOURCE, dry_run=True)
    assert (report.new, report.updated, report.unchanged, report.dry_run) == (2, 1, 4, True)
    assert (
        report.summary()
        .splitlines()[0]
        .startswith('Would load #sm35 "Social media in 2035": 7 posts')
    )
    assert report.summary().splitlines()[-1] == "Dry run: nothing was written."
    assert dump(engine) == before


def test_load_in_the_callers_session(engine):
    with Session(engine) as session:
        report = load_event(session, make_plan(), source_path=SOURCE)
        assert report.new == 5
        session.rollback()
    assert dump(engine)["scheduled_post"] == []
    with Session(engine) as session:
        load_event(session, make_plan(), source_path=SOURCE)
        session.commit()
    assert len(dump(engine)["scheduled_post"]) == 5


def test_report_as_dict():
    report = loading.LoadReport(
        event_id=1,
        hashtag="sm35",
        title="T",
        timezone="UTC",
        networks=("bluesky",),
        start_at=datetime(2030, 1, 1, tzinfo=UTC),
        first_due_at=None,
        source_path="/x.md",
        created=True,
        posts=0,
    )
    data = report.as_dict()
    assert data["start_at"] == "2030-01-01T00:00:00+00:00" and data["networks"] == ["bluesky"]
    assert (
        report.summary()
        == 'Loaded #sm35 "T": 0 posts (0 new) on bluesky, first 2030-01-01 00:00 UTC'
    )


def test_repeated_labels_get_distinct_keys():
    plan = make_plan()
    twice = replace(plan, posts=(*plan.posts, plan.posts[-1]))
    assert post_keys(twice)[-2:] == ["wrapup", "wrapup#2"]
