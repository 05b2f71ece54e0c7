"""Bluesky threads read to the end: the sandbox cuts them as the AppView does, the collector
reads again where a post's replyCount says replies were left out."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

from atproto import Client
from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.collect import Collector, collect_once
from chatbot.collect.networkpass import THREADS_SOURCE
from chatbot.collect.pacing import Pacer
from chatbot.collect.queries import load_cursor
from chatbot.models import Post, PostDelivery
from chatbot.platforms.bluesky import THREAD_DEPTH
from chatbot.sandbox.bluesky.views import THREAD_BRANCHING
from chatbot.sandbox.runner import Sandbox
from tests.collect.chat import bot_platforms
from tests.factories import make_plan
from tests.realdata import REAL_FIXTURES


class Chat:
    """One question posted by the bot on a Bluesky sandbox, and a crowd to answer it."""

    def __init__(self, sandbox: Sandbox, engine: Engine, tag: str):
        self.sandbox, self.engine = sandbox, engine
        self.store = sandbox.bluesky
        start = sandbox.clock.now() - timedelta(minutes=5)
        plan = make_plan(
            hashtag=tag, start=start, questions=1, welcome=None, wrapup=None, networks=("bluesky",)
        )
        self.event_id = load_event(engine, plan, source_path=f"questions/{tag}.md").event_id
        self.platforms = {"bluesky": bot_platforms(sandbox, ("bluesky",))["bluesky"]}
        with Session(engine) as session:
            row = session.execute(select(PostDelivery)).scalars().one()
            ref = self.platforms["bluesky"].post(row.text, key=row.idempotency_key)
            row.state, row.remote_id, row.remote_uri = "posted", ref.id, ref.uri
            row.remote_cid, row.remote_url, row.posted_at = ref.cid, ref.url, start
            session.add(row)
            session.commit()
        self.question = ref.uri
        self.made: list[str] = []  # the crowd's replies, oldest first
        self.summary = ""  # of the last pass
        self._names = itertools.count()

    def person(self) -> str:
        return str(self.store.create_account(f"p{next(self._names)}.sandbox.test", "pw").did)

    def reply(self, parent: str, text: str = "a reply", did: str | None = None) -> str:
        uri = str(self.store.create_post(did or self.person(), text, reply_to=parent)["uri"])
        self.made.append(uri)
        return uri

    def replies(self, parent: str, count: int) -> list[str]:
        return [self.reply(parent, f"reply {n} without the tag") for n in range(count)]

    def chain(self, parent: str, length: int) -> list[str]:
        links = []
        for _ in range(length):
            parent = self.reply(parent, "and another thing")
            links.append(parent)
        return links

    def stored(self) -> dict[str, Post]:
        with Session(self.engine) as session:
            rows = list(session.execute(select(Post)).scalars())
        uris = [row.uri for row in rows]
        assert len(uris) == len(set(uris))
        return {row.uri: row for row in rows}

    def collect(self) -> Any:
        report = collect_once(self.engine, self.event_id, self.platforms, self.sandbox.clock)
        assert report.errors == []
        self.summary = report.summary()
        return report.networks["bluesky"]


def nodes(thread: Any) -> int:
    """The posts in an answer of the unmodified client's get_post_thread."""
    return 1 + sum(nodes(reply) for reply in (getattr(thread, "replies", None) or []))


def test_wide_and_deep_threads_are_read_to_the_end(engine: Engine) -> None:
    with Sandbox(seed=31, networks=("bluesky",)) as sandbox:
        chat = Chat(sandbox, engine, "wide31")
        first = chat.replies(chat.question, 3)[0]  # the oldest answer: shown last
        wide = chat.replies(first, THREAD_BRANCHING + 15)
        deep = chat.chain(wide[0], 2 * THREAD_DEPTH + 3)  # under the oldest of them
        chat.replies(deep[THREAD_DEPTH + 4], THREAD_BRANCHING + 3)
        chat.replies(chat.question, 9)  # answers that came later
        # One read of the question, as any client makes it, shows part of the thread.
        client = Client(base_url=sandbox.bluesky_url)
        once = client.get_post_thread(chat.question, depth=THREAD_DEPTH).thread
        assert 1 + 12 < nodes(once) < 1 + len(chat.made)
        assert once.post.reply_count == 12

        part = chat.collect()
        stored = chat.stored()
        assert set(chat.made) <= set(stored)
        assert len(stored) == len(chat.made) + 1  # and the question: each post once
        assert part.unseen_replies == 0
        # Nothing changed: the next pass reads no thread (the question's count is the one
        # it had when its thread was last read: collect.questioncounts).
        again = chat.collect()
        assert (again.new, again.threads, again.unseen_replies) == (0, 0, 0)


def test_replies_that_cannot_be_seen_are_counted_not_read_for_ever(engine: Engine) -> None:
    with Sandbox(seed=32, networks=("bluesky",)) as sandbox:
        chat = Chat(sandbox, engine, "gone32")
        answer = chat.reply(chat.question, "A1 with the tag #gone32")
        deep = chat.chain(answer, THREAD_DEPTH + 2)[-1]  # below the first read's depth
        kept = chat.reply(deep, "a reply that stays")
        banned = chat.person()
        hidden = chat.reply(deep, "a reply the AppView stops showing", did=banned)
        doomed = chat.reply(answer, "a reply deleted after the first pass")
        sandbox.bluesky.take_down(banned)

        part = chat.collect()
        stored = chat.stored()
        assert kept in stored and hidden not in stored and doomed in stored
        assert part.unseen_replies == 1  # counted under `deep`, shown nowhere
        assert "bluesky: 1 reply that the network counts in the threads read is in none" in (
            chat.summary
        )
        with Session(engine) as session:
            state = load_cursor(session, chat.event_id, "bluesky", THREADS_SOURCE)
        assert state == {"settled": {deep: 2}}

        sandbox.bluesky.delete_post(doomed)
        again = chat.collect()
        assert again.threads == 0  # `deep` is settled and the question's count unchanged
        assert again.unseen_replies == 0  # nothing read this pass lacks a reply
        assert chat.stored()[doomed].deleted_at is not None

        # A new reply raises the count: `deep` is read again, and its new reply found.
        late = chat.reply(deep, "a late reply")
        third = chat.collect()
        assert late in chat.stored()
        assert third.threads == 1 and third.unseen_replies == 1  # `deep` only


def test_a_spent_budget_stops_the_pass_and_the_next_one_goes_on(engine: Engine) -> None:
    with Sandbox(seed=33, networks=("bluesky",)) as sandbox:
        chat = Chat(sandbox, engine, "budget33")
        tip = chat.question
        for _ in range(4):  # four stretches of a chain, each beyond one read's depth
            links = chat.chain(tip, THREAD_DEPTH + 1)
            chat.replies(links[3], 2)
            tip = links[-1]
        # Enough for the search, the question and one more read, not for the whole chain.
        small = Pacer(headroom=4 / 3000)
        blocked = Collector(engine, chat.event_id, chat.platforms, sandbox.clock, pacer=small)
        part = blocked.step(sweep=False).networks["bluesky"]
        assert part.blocked_until is not None and part.errors == []
        partly = chat.stored()
        assert 1 < len(partly) < len(chat.made) + 1
        # A new collector (a restart, a budget refilled) takes up where that one stopped.
        rest = Collector(engine, chat.event_id, chat.platforms, sandbox.clock).step()
        assert rest.errors == []
        assert set(chat.made) <= set(chat.stored())


def recorded_chain() -> list[dict[str, Any]]:
    """The recorded hellthread answer's posts from the top of its parent chain down to its
    anchor (the blocked post above the chain's top is left out), and the anchor's replies."""
    answer = json.loads((REAL_FIXTURES / "bluesky" / "getPostThread_hellthread.json").read_text())
    node, chain = answer["thread"], []
    while "post" in node:
        chain.append(node)
        node = node.get("parent") or {}
    return list(reversed(chain))


def test_a_thread_shaped_like_the_recorded_hellthread_is_collected_whole(engine: Engine) -> None:
    chain = recorded_chain()
    assert len(chain) == 54 and max(n["post"]["replyCount"] for n in chain) == 43
    with Sandbox(seed=34, networks=("bluesky",)) as sandbox:
        chat = Chat(sandbox, engine, "hell34")
        moment = itertools.count()
        start = sandbox.clock.now() - timedelta(minutes=4)

        def post(parent: str, node: dict[str, Any]) -> str:
            view = node["post"]
            handle = view["author"]["handle"]
            author = chat.store.account(handle) or chat.store.create_account(handle, "pw")
            made = chat.store.create_post(
                author.did,
                view["record"]["text"],
                reply_to=parent,
                created_at=start + timedelta(seconds=next(moment)),
            )
            chat.made.append(made["uri"])
            return str(made["uri"])

        parent, links = chat.question, []  # the question stands where the blocked root was
        for node in chain:
            parent = post(parent, node)
            links.append((parent, node))
        # The rest of each recorded replyCount: replies newer than the chain's next post, so
        # the chain goes on under the oldest reply, the one a cut level leaves out.
        for uri, node in links[:-1]:
            chat.replies(uri, node["post"]["replyCount"] - 1)
        anchor, recorded = links[-1]
        for reply in recorded["replies"]:
            post(anchor, reply)
        # The rebuilt chain, read at the recorded anchor, has the recorded counts.
        client = Client(base_url=sandbox.bluesky_url)
        seen = client.get_post_thread(anchor, depth=1, parent_height=80).thread
        counts = []
        while seen is not None and hasattr(seen, "post"):
            counts.append(seen.post.reply_count)
            seen = seen.parent
        assert counts[:-1] == [node["post"]["replyCount"] for node in reversed(chain)]

        part = chat.collect()
        assert set(chat.made) <= set(chat.stored())
        assert part.unseen_replies == 0
