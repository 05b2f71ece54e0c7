"""One count everywhere: the recap, the archive, the exports and status agree on a chat.

On a real chat (the #DocNowCommunity tweet chat of 2016, imported as any
organizer imports an old chat) and on sandbox crowd chats; the demo's chat
is checked in tests/test_demo.py with the same reader (tests/recap/counts.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.collect.hide import BY_REQUEST
from chatbot.export import build_document
from chatbot.export.counts import stored_counts
from chatbot.imports import import_file
from chatbot.models import Event, Post, utcnow
from chatbot.recap import build_recap
from chatbot.transcript.counts import document_counts
from tests.collect.test_import import RAW, docnow_csv
from tests.export.util import post, set_post, stored_chat

from .chats import crowd_chat
from .counts import every_count


def test_every_report_counts_the_imported_real_chat_alike(engine: Engine, tmp_path: Path) -> None:
    path = docnow_csv(tmp_path / "docnow.csv")
    import_file(engine, path, hashtag="DocNowCommunity", host="documentnow")
    url = engine.url.render_as_string(hide_password=False)
    found = every_count(url, "DocNowCommunity", tmp_path)
    assert len(set(found.values())) == 1, found
    # Against the raw export: every tweet but the host's and those the bot took for
    # spam (follower sellers, hashtag stuffing) is counted, and every author of one.
    with Session(engine) as session:
        spam = {
            remote_id
            for remote_id, reason in session.execute(select(Post.remote_id, Post.spam_reason))
            if reason
        }
    items = json.loads(RAW.read_text(encoding="utf-8"))["items"]
    kept = [i for i in items if i["username"] != "documentnow" and i["tweet_id"] not in spam]
    assert 0 < len(kept) < len(items) - len(spam)
    assert found["recap page"] == (len(kept), len({i["username"].lower() for i in kept}))


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), participants=st.integers(1, 30))
def test_recap_figures_are_the_documents_count(seed: int, participants: int) -> None:
    chat = crowd_chat(seed, participants, rate=2.0)
    recap = build_recap(chat.document, people_limit=10_000)
    counts = document_counts(chat.document)
    summary = recap.summary
    assert (summary.posts, summary.participants) == (counts.posts, counts.participants)
    assert summary.host_posts == counts.host_posts
    # The people table adds up to the same figures, person by person.
    assert sum(row.posts for row in recap.people) == counts.posts
    assert recap.people_total == counts.participants == len(recap.people)
    assert counts.posts == len(chat.shown)  # the crowd's posts the recap must show


def test_stored_rows_and_the_document_count_alike(engine: Engine) -> None:
    """Every reason a post is left out, hosts by account and by handle, handles in two cases."""
    event_id = stored_chat(
        engine,
        [
            post(1, "A1 spreadsheets", author="ann", minutes=3),
            post(2, "same here", author="ann", minutes=4, parent=1),
            post(3, "A1 gone", author="bob", minutes=5),
            post(4, "A1 off topic", author="cy", minutes=5),
            post(5, "A1 buy followers", author="dee", minutes=5),
            post(6, "A1 quietly", author="eve", minutes=5, visibility="unlisted"),
            post(7, "A1 not me", author="fay", minutes=5),
            post(8, "Reminder: answer Q1 with A1", author="mod", minutes=6),
            post(9, "A2 loud", author="GUS", minutes=11),
            post(10, "A2 quiet", author="gus", minutes=12),
            post(11, "A2 please remove this", author="hal", minutes=12),
            post(12, "A2 fine after all", author="ivy", minutes=13),
        ],
    )
    set_post(engine, 3, deleted_at=utcnow())
    set_post(engine, 4, hidden_reason="off topic")
    set_post(engine, 5, spam_reason="follower seller")
    set_post(engine, 7, opted_out=True)
    set_post(engine, 11, hidden_reason=f"{BY_REQUEST} asked by email")
    set_post(engine, 12, hidden_reason="", spam_reason="")  # empty reasons: no reason
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        event.moderators = ["@Mod.test"]
        session.add(event)
        session.commit()
        stored = stored_counts(session, [event])[event_id]
        document = build_document(session, event, store=False)
    assert stored == document_counts(document)
    # ann twice, ivy; GUS.test and gus.test are one person (handles ignore case)
    assert (stored.posts, stored.participants) == (5, 3)
    assert stored.host_posts == 3  # the two questions (the bot's) and the moderator's reminder
    assert stored.people == {"bluesky:ann.test", "bluesky:gus.test", "bluesky:ivy.test"}
