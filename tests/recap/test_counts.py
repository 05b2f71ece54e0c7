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

from chatbot.imports import import_file
from chatbot.models import Post
from chatbot.recap import build_recap
from chatbot.transcript.counts import document_counts
from tests.collect.test_import import RAW, docnow_csv

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
