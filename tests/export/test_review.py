"""The moderator's review and decisions, as a library, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from chatbot import db
from chatbot.errors import UsageError
from chatbot.export import build_document
from chatbot.export.markdown import to_markdown
from chatbot.export.overrides import assign, assign_from_csv, unassign
from chatbot.export.review import review
from chatbot.models import AttributionOverride, Event, Post, SchemaVersion
from tests.export.util import START, post, stored_chat

NOW = START + timedelta(hours=2)
BOB = "https://bsky.app/profile/bob.test/post/0000000000002"
DAN = "https://bsky.app/profile/dan.test/post/0000000000004"
BOB_URI = "at://did:plc:bob/app.bsky.feed.post/0000000000002"
DAN_URI = "at://did:plc:dan/app.bsky.feed.post/0000000000004"


def chat(engine: Engine) -> int:
    """Q1 at 17:01, Q2 at 17:10; Ann answers Q1 with a prefix, Dan and Bob only by the clock."""
    return stored_chat(
        engine,
        [
            post(1, "A1 I use notes", author="ann", minutes=3),
            post(2, "anyone else tired today", author="bob", minutes=12),
            post(4, "I learned from my mum", author="dan", minutes=5),
        ],
    )


def document_posts(engine: Engine, event_id: int) -> dict[str, dict[str, Any]]:
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        document = build_document(session, event)
        session.commit()
    return {p["uri"]: p for p in document["posts"]}


def overrides(engine: Engine) -> list[tuple[str, str | None, str]]:
    with Session(engine) as session:
        rows = session.exec(select(AttributionOverride).order_by(AttributionOverride.uri)).all()
        return [(row.uri, row.question_label, row.set_by) for row in rows]


def test_review_lists_the_unsure_posts_with_a_guess_and_a_runner_up(engine: Engine) -> None:
    chat(engine)
    result = review(engine, "sm35", now=NOW)
    assert result.questions == ["Q1", "Q2"]
    listed = [(i.author, i.guess, i.method, i.runner_up, i.text) for i in result.items]
    assert listed == [
        ("dan.test", "Q1", "time", "Q2", "I learned from my mum"),
        ("bob.test", "Q2", "time", "Q1", "anyone else tired today"),
    ]
    assert all(item.confidence < 0.6 for item in result.items)
    assert review(engine, "sm35", below=0.3, now=NOW).items == []


def test_review_says_where_a_guess_came_from_and_leaves_out_sure_hellos(engine: Engine) -> None:
    stored_chat(
        engine,
        [
            post(1, "A1 I use notes", author="ann", minutes=3),
            post(2, "@ann.test same, notes everywhere", author="bob", minutes=12),
            post(3, "Hi all, glad I made it", author="cy", minutes=13),
        ],
    )
    items = {item.author: item for item in review(engine, "sm35", now=NOW).items}
    assert (items["bob.test"].guess, items["bob.test"].method) == ("Q1", "mention")
    assert items["bob.test"].via == "https://bsky.app/profile/ann.test/post/0000000000001"
    assert items["bob.test"].as_dict()["via"] == items["bob.test"].via
    assert "cy.test" not in items  # a hello, and sure of it: nothing to review


def test_a_decision_wins_over_the_attribution_and_survives_re_attribution(engine: Engine) -> None:
    event_id = chat(engine)
    decision = assign(engine, "sm35", BOB, "q1", by="sam", now=NOW)
    assert (decision.uri, decision.question, decision.set_by) == (BOB_URI, "Q1", "sam")
    for _ in range(2):  # the second export re-attributes every post again
        bob = document_posts(engine, event_id)[BOB_URI]
        assert (bob["question"], bob["method"], bob["confidence"]) == ("Q1", "assigned", 1.0)
    with Session(engine) as session:
        row = session.exec(select(Post).where(Post.uri == BOB_URI)).one()
        assert (row.question_label, row.attribution_method) == ("Q1", "assigned")
    assert [item.author for item in review(engine, "sm35", now=NOW).items] == ["dan.test"]
    assert overrides(engine) == [(BOB_URI, "Q1", "sam")]


def test_none_takes_a_post_out_of_every_question_and_auto_undoes_it(engine: Engine) -> None:
    event_id = chat(engine)
    assign(engine, "sm35", DAN, "NONE", by="sam", now=NOW)
    dan = document_posts(engine, event_id)[DAN_URI]
    assert (dan["question"], dan["questions"], dan["method"]) == (None, [], "assigned")
    undone = unassign(engine, "sm35", DAN_URI, now=NOW)
    assert undone is not None and undone.removed and undone.question is None
    dan = document_posts(engine, event_id)[DAN_URI]
    assert (dan["question"], dan["method"]) == ("Q1", "time")
    assert unassign(engine, "sm35", DAN_URI, now=NOW) is None
    assert overrides(engine) == []


def test_a_post_is_found_by_its_address_with_the_did_in_place_of_the_handle(
    engine: Engine,
) -> None:
    chat(engine)
    assign(engine, "sm35", "https://bsky.app/profile/did:plc:dan/post/0000000000004", "Q2", by="x")
    assert overrides(engine) == [(DAN_URI, "Q2", "x")]


@pytest.mark.parametrize(
    ("target", "question", "message"),
    [
        (
            "https://bsky.app/profile/bob.test/post/0000000000009",
            "Q1",
            "no post 'https://bsky.app/profile/bob.test/post/0000000000009' collected for #sm35",
        ),
        (BOB, "Q7", "'Q7' is not a question of #sm35 (its questions: Q1, Q2)"),
    ],
)
def test_unknown_post_or_question_changes_nothing(
    engine: Engine, target: str, question: str, message: str
) -> None:
    chat(engine)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        assign(engine, "sm35", target, question, by="sam", now=NOW)
    assert overrides(engine) == []


def test_a_csv_file_is_applied_all_or_nothing(engine: Engine, tmp_path: Path) -> None:
    event_id = chat(engine)
    bad = tmp_path / "decisions.csv"
    bad.write_text(f"post,question,note\n{BOB},Q1,late answer\n{DAN},Q9\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"decisions.csv:3: 'Q9' is not a question of #sm35"):
        assign_from_csv(engine, "sm35", bad, by="sam", now=NOW)
    assert overrides(engine) == []
    good = tmp_path / "good.csv"
    good.write_text(f"{BOB},Q1,late answer\n{DAN},none\n", encoding="utf-8")
    decisions = assign_from_csv(engine, "sm35", good, by="sam", now=NOW)
    assert [(d.uri, d.question) for d in decisions] == [(BOB_URI, "Q1"), (DAN_URI, None)]
    posts = document_posts(engine, event_id)
    assert (posts[BOB_URI]["question"], posts[DAN_URI]["question"]) == ("Q1", None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("post,question\nonly-one-cell\n", "x.csv:2: expected 2 or 3 columns"),
        (f"{BOB},Q1\n{BOB},Q2\n", "x.csv:2: the post is already on line 1"),
        ("post,question\n", "x.csv: no rows"),
    ],
)
def test_a_malformed_csv_says_where_and_changes_nothing(
    engine: Engine, content: str, message: str
) -> None:
    chat(engine)
    with pytest.raises(UsageError, match=message):
        assign_from_csv(engine, "sm35", "x.csv", by="sam", text=content, now=NOW)
    assert overrides(engine) == []


def test_the_migration_adds_the_table_to_an_older_database(engine: Engine) -> None:
    chat(engine)
    version = next(v for v, _, step in db.MIGRATIONS if step.__name__ == "_attribution_overrides")
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE attribution_override"))
        connection.execute(SchemaVersion.__table__.delete())  # type: ignore[attr-defined]
        connection.execute(
            SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                version=version - 1, description="before overrides", applied_at=NOW
            )
        )
    assert not inspect(engine).has_table("attribution_override")
    assert db.migrate(engine) == db.latest_version() >= version
    assert inspect(engine).has_table("attribution_override")
    assign(engine, "sm35", BOB, "Q1", by="sam", now=NOW)
    assert overrides(engine) == [(BOB_URI, "Q1", "sam")]
    assert db.migrate(engine) == db.latest_version()  # a second run changes nothing


def test_the_markdown_shows_the_post_under_the_moderators_question(engine: Engine) -> None:
    event_id = chat(engine)
    assign(engine, "sm35", BOB, "Q1", by="sam", now=NOW)
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        markdown = to_markdown(build_document(session, event))
    q1 = markdown.split("## Q1")[1].split("## Q2")[0]
    bob = [line for line in q1.splitlines() if "@bob" in line]
    assert bob == [
        "- **Bob** (@bob.test) [17:12](https://bsky.app/profile/bob.test/post/0000000000002)"
        " _set by moderator_: anyone else tired today"
    ]
    assert "set by moderator" not in markdown.split("## Q2")[1]
