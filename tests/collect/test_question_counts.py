"""Question threads read only when their reply count moved: the rule, and both networks' reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastodon import Mastodon
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.bot.loading import load_event
from chatbot.clock import ManualClock
from chatbot.collect import Collector
from chatbot.collect.questioncounts import threads_to_read
from chatbot.demo import bot_platforms
from chatbot.models import Post, PostDelivery
from chatbot.platforms.base import RemoteRef
from chatbot.sandbox.runner import Sandbox
from tests.collect.test_gotosocial import load_live_event
from tests.factories import make_plan

pytestmark = pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonDeprecationWarning")


def refs(uris: list[str]) -> list[RemoteRef]:
    return [RemoteRef("bluesky", uri.rsplit("/", 1)[-1], uri) for uri in uris]


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 3)),
    st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 3)),
)
def test_a_thread_is_read_unless_its_count_is_the_one_it_had(
    now: dict[str, int], last: dict[str, int]
) -> None:
    questions = refs(list("abcdef"))
    chosen = {ref.uri for ref in threads_to_read(questions, now, last)}
    for ref in questions:
        unchanged = ref.uri in now and now[ref.uri] == last.get(ref.uri)
        assert (ref.uri in chosen) == (not unchanged)
    assert threads_to_read(questions, None, last) == questions  # counts unknown: all


def post_questions(sandbox: Sandbox, engine: Engine, event_id: int, network: str) -> list[str]:
    """Post the event's planned posts now, as the scheduler would; their URIs."""
    platform = bot_platforms(sandbox)[network]
    made: list[str] = []
    with Session(engine) as session:
        rows = session.exec(select(PostDelivery).where(PostDelivery.event_id == event_id)).all()
        for row in rows:
            ref = platform.post(row.text, key=row.idempotency_key)
            row.state, row.remote_id, row.remote_uri = "posted", ref.id, ref.uri
            row.remote_cid, row.remote_url, row.posted_at = ref.cid, ref.url, sandbox.clock.now()
            session.add(row)
            made.append(ref.uri)
        session.commit()
    return made


@pytest.mark.parametrize("profile", ["mastodon", "gotosocial"])
def test_mastodon_threads_are_read_again_only_when_a_question_gets_a_reply(
    engine: Engine, profile: str
) -> None:
    with Sandbox(
        seed=8, clock=ManualClock(), networks=("mastodon",), mastodon_profile=profile
    ) as sandbox:
        event_id = load_live_event(engine, sandbox, f"counts{profile[:3]}")
        questions = post_questions(sandbox, engine, event_id, "mastodon")
        collector = Collector(engine, event_id, bot_platforms(sandbox), sandbox.clock)
        first = collector.step(sweep=False).networks["mastodon"]
        assert first.threads >= len(questions)  # each read once

        quiet = collector.step(sweep=False).networks["mastodon"]
        assert quiet.threads == 0  # nothing moved: no thread read

        store = sandbox.mastodon
        ada = str(store.create_account("ada", default_visibility="public")["id"])
        asked = next(iter(store.statuses.values()))
        reply = store.create_status(ada, "an answer without the tag", in_reply_to_id=asked.id)
        sandbox.clock.advance(seconds=5)
        moved = collector.step(sweep=False).networks["mastodon"]
        assert moved.threads == 1  # the one question with a new reply
        with Session(engine) as session:
            assert session.exec(select(Post).where(Post.uri == reply["uri"])).first()
        # Mastodon 4.3+ answers all the counts in one request; GoToSocial one a status.
        count_requests = quiet.requests
        if profile == "mastodon":
            assert count_requests <= 2  # the tag timeline page and one batch of counts
        else:
            assert count_requests >= len(questions)


def test_bluesky_counts_come_25_a_request(engine: Engine) -> None:
    with Sandbox(seed=9, clock=ManualClock(), networks=("bluesky",)) as sandbox:
        start = sandbox.clock.now() - timedelta(minutes=5)
        plan = make_plan(hashtag="countsbs", start=start, networks=("bluesky",))
        event_id = load_event(engine, plan, source_path="questions/countsbs.md").event_id
        questions = post_questions(sandbox, engine, event_id, "bluesky")
        collector = Collector(engine, event_id, bot_platforms(sandbox), sandbox.clock)
        collector.step(sweep=False)
        quiet = collector.step(sweep=False).networks["bluesky"]
        assert quiet.threads == 0
        assert len(questions) > 1
        assert quiet.requests <= 2  # the search page and one getPosts for every count


def test_the_sandbox_answers_many_statuses_at_once_as_mastodon_does() -> None:
    with Sandbox(seed=10, clock=ManualClock(), networks=("mastodon",)) as sandbox:
        store = sandbox.mastodon
        ada = str(store.create_account("ada", default_visibility="public")["id"])
        made = [store.create_status(ada, f"post {n}")["id"] for n in range(3)]
        api = Mastodon(api_base_url=sandbox.mastodon_url, request_timeout=10)
        found = api.statuses([made[2], "999999", made[0]])
        assert [status.id for status in found] == [made[2], made[0]]  # unknown ids left out


@pytest.mark.parametrize("profile", ["mastodon", "gotosocial"])
def test_a_mastodon_check_reads_a_context_only_where_a_reply_count_moved(
    engine: Engine, profile: str
) -> None:
    # Mastodon 4.3+ looks known posts up 40 a request: their reply counts say which
    # conversations have anything new, so a quiet check reads no context, and yet finds a
    # new untagged reply deep in a thread and a deleted reply. Without the batch lookup
    # (GoToSocial) every conversation's context is read on each check, as before.
    with Sandbox(
        seed=11, clock=ManualClock(), networks=("mastodon",), mastodon_profile=profile
    ) as sandbox:
        event_id = load_live_event(engine, sandbox, f"check{profile[:3]}")
        store = sandbox.mastodon
        ada, bob, cid, dee = (
            str(store.create_account(name, default_visibility="public")["id"])
            for name in ("ada", "bob", "cid", "dee")
        )
        answer = store.create_status(ada, "A1 my answer #check" + profile[:3])
        reply = store.create_status(bob, "agreed, and more", in_reply_to_id=answer["id"])
        aside = store.create_status(dee, "same here", in_reply_to_id=answer["id"])
        sandbox.clock.advance(seconds=5)
        collector = Collector(engine, event_id, bot_platforms(sandbox), sandbox.clock)
        collector.step(sweep=True)
        with Session(engine) as session:
            uris = set(session.exec(select(Post.uri)).all())
        assert {answer["uri"], reply["uri"], aside["uri"]} <= uris

        quiet = collector.step(sweep=True).networks["mastodon"]
        if profile == "mastodon":
            assert quiet.threads == 0  # nothing moved: no conversation read again
        else:
            assert quiet.threads >= 1  # one context per conversation, as before

        deep = store.create_status(cid, "why though?", in_reply_to_id=reply["id"])
        store.delete_status(aside["id"])
        sandbox.clock.advance(seconds=5)
        moved = collector.step(sweep=True).networks["mastodon"]
        with Session(engine) as session:
            rows = {row.uri: row for row in session.exec(select(Post)).all()}
        assert deep["uri"] in rows  # found although nothing tagged it
        assert rows[aside["uri"]].deleted_at is not None
        assert rows[reply["uri"]].deleted_at is None
        if profile == "mastodon":
            assert moved.threads <= 2  # only where a count moved
