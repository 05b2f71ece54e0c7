"""A crowd chat on both sandbox networks, collected and scored against the ground truth."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.collect import Collector, collect_once
from chatbot.collect.coverage import event_coverage
from chatbot.collect.hide import hide_post
from chatbot.eventref import resolve_event
from chatbot.export import ExportOptions, build_document
from chatbot.models import CollectionCursor, utcnow
from chatbot.platforms.normalise import rkey_of
from chatbot.sandbox.crowd.texts import PREFIX_STYLES
from chatbot.text.posturls import PostIndex
from tests.collect.chat import follow, start_chat
from tests.collect.scoring import (
    CUT_OFF,
    NO_EVIDENCE,
    NOT_AN_OPT_OUT,
    coverage,
    describe,
    index,
    score_attribution,
    stored_posts,
)

pytestmark = pytest.mark.slow


def test_crowd_chat_collected_attributed_and_exported(engine: Engine, tmp_path: Path) -> None:
    chat = start_chat(engine, seed=3)
    try:
        clock = chat.sandbox.clock
        collector = Collector(engine, chat.event_id, chat.platforms, clock, stream=True)
        reports = follow(chat, collector)
        collector.close()
        truth = chat.truth(tmp_path / "truth.json")
        rows = stored_posts(engine, chat.event_id)
        stored = index(rows)  # also: no post twice
        # Hide a Bluesky answer in a question's thread: database and threadgate.
        target = next(
            p
            for p in truth["posts"]
            if (p["network"], p["kind"], p["status"]) == ("bluesky", "thread_answer", "posted")
            and not p["deleted"] and not p["opted_out"]
        )  # fmt: skip
        hidden = stored[("bluesky", target["ref"])]
        report = hide_post(
            engine, str(chat.event_id), hidden.url or "", "off topic",
            connect=lambda network: chat.platforms[network],
        )  # fmt: skip
        assert report.threadgate and report.uri == target["ref"]
        question_uri = chat.driver.question_ref("bluesky", target["parent_question"])
        gate = chat.sandbox.bluesky.get_record(
            chat.sandbox.bot_ids["bluesky"], "app.bsky.feed.threadgate", rkey_of(question_uri)
        )
        assert gate is not None and target["ref"] in gate.value["hiddenReplies"]
        # A second pass after the window changes nothing and doubles nothing.
        again = collect_once(engine, chat.event_id, chat.platforms, chat.sandbox.clock)
        assert (again.new, again.errors) == (0, [])
    finally:
        chat.close()
    assert not any(r.errors for r in reports)

    # Every stored post says which source found it, and each network's sources add up.
    found_by = event_coverage(engine, chat.event_id)
    assert found_by.unknown == 0, found_by.lines()
    kinds = {(row.network, row.source) for row in found_by.sources if row.posts}
    assert {("bluesky", "search"), ("bluesky", "thread"), ("bluesky", "stream")} <= kinds
    assert {("mastodon", "timeline"), ("mastodon", "thread")} <= kinds
    assert sum(row.only for row in found_by.sources) <= found_by.posts

    # Collection: every public, live post exactly once; edits and deletions seen.
    found = coverage(truth, rows, chat.collect_until)
    assert not found.missing, describe(found.missing)
    assert not found.not_marked_deleted, describe(found.not_marked_deleted)
    assert not found.stale_edits, found.stale_edits
    assert found.thread_answers_without_tag > 0
    # Replies without the hashtag under a deleted post: nothing collected leads to them.
    assert len(found.unreachable_missing) <= 5, describe(found.unreachable_missing)
    with Session(engine) as session:
        cursors = session.exec(select(CollectionCursor)).all()
        assert {(c.network, c.source) for c in cursors} == {
            ("bluesky", "search"),
            ("bluesky", "jetstream"),
            ("bluesky", "question_counts"),
            ("mastodon", "timeline"),
            ("mastodon", "question_counts"),
            ("bluesky", "budget"),  # what collection spent, for chatbot status
            ("mastodon", "budget"),
        }

    # Mentions and quotes are stored as each network gave them.
    by_plan = {p["plan_id"]: p for p in truth["posts"]}
    mentioning = quoting = linking = 0
    addresses = PostIndex.of(rows)
    for told in truth["posts"]:
        row = stored.get((told["network"], told["ref"] or ""))
        if row is None:
            continue
        if told["mentions"]:
            mentioning += 1
            assert row.mentions, (told["text"], row.raw)
        quoted = by_plan.get(told["quote_plan_id"] or "")
        quoted_row = stored.get((quoted["network"], quoted["ref"] or "")) if quoted else None
        if quoted_row is not None:
            quoting += 1
            # An embed names the URI; a link (link_quote) the author's handle or server.
            resolved = {addresses.resolve(target) for target in row.quote_uris}
            assert quoted_row.uri in resolved, (told["text"], row.quote_uris)
            linking += told["kind"] == "link_quote"
    assert mentioning and quoting and linking, (mentioning, quoting, linking)

    # Exports: nothing deleted, opted out, unlisted, spam or hidden.
    with Session(engine) as session:
        event = resolve_event(session, str(chat.event_id), purpose="record", now=utcnow())
        document = build_document(session, event)
        review = build_document(session, event, ExportOptions(review=True))
        session.commit()  # keep the attribution they stored: it scores posts no export shows
    by_ref = {
        (p["network"], p["uri"] if p["network"] == "bluesky" else p["id"]): p
        for p in document["posts"]
    }
    truth_by_ref = {(p["network"], p["ref"]): p for p in truth["posts"] if p["ref"]}
    assert ("bluesky", target["ref"]) not in by_ref
    bot = {chat.sandbox.bot_handle, chat.sandbox.bot_username}
    by_ref = {k: p for k, p in by_ref.items() if p["author"]["handle"] not in bot}
    for key in by_ref:
        told = truth_by_ref[key]
        assert not told["deleted"] and told["visibility"] == "public", told
        assert not (told["opted_out"] and told["opt_out"] not in NOT_AN_OPT_OUT), told
        assert not told["is_spam"], told
    spam_total = sum(1 for p in truth["posts"] if p["is_spam"] and p["status"] == "posted")
    flagged = [p for p in review["posts"] if p["flags"]["spam"]]
    assert flagged and len(flagged) >= spam_total - 1
    assert any(p["flags"]["hidden"] for p in review["posts"])

    # Attribution: every post whose question is unambiguous (the crowd wrote a prefix, or
    # its reply chain reaches a question or a prefixed answer) goes to its true question
    # (all of them for "A1/A2" and "A1 ... A2 ..."); no post without a prefix is read as
    # one; every reply hangs under its true parent. Only the reasons in
    # `scoring.expected_attribution` leave a post unchecked, never a count tolerance.
    after = stored_posts(engine, chat.event_id)  # with the attribution the exports stored
    for shown in (document, review):  # the review export holds spam and hidden posts too
        score = score_attribution(truth, after, shown)
        assert not score.errors, score.errors
    assert set(score.unchecked) <= {"spam", NO_EVIDENCE, CUT_OFF}, score.unchecked
    written = Counter(p["prefix"] for p in truth["posts"] if p["status"] == "posted")
    assert all(written[style] for style in PREFIX_STYLES), written  # every style was put to test
    assert score.checked["prefix"] >= len(PREFIX_STYLES) - 1, score.checked
    assert score.checked["thread"] > 0 and score.checked["reply"] > 0, score.checked
