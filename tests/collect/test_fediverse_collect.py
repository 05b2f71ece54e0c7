"""A crowd chat spread over three federating sandbox instances, collected by the real collector.

The bot's Mastodon instance, another Mastodon and a GoToSocial, federating
with delays of up to a minute and one delivery in ten lost, and faults on
one request in five: the collector reads its own instance and, anonymously,
the others' tag timelines and question threads, and brings what it finds
to its own instance. Scored by each post's ActivityPub id against the
crowd's ground truth, which says on which instance each post was made and
which instances it reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from chatbot.collect import Collector
from chatbot.sandbox.mastodon.federation import FederationSettings
from tests.collect.chat import follow, start_chat
from tests.collect.scoring import asks_the_bot, stored_posts, unreachable
from tests.collect.test_collect_restarts import collect_env, run_with_kills

pytestmark = pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonDeprecationWarning")

PROFILES = "mastodon,mastodon,gotosocial"


def expected_mastodon(truth: dict[str, Any]) -> list[dict[str, Any]]:
    """The Mastodon posts a transcript should hold: posted, public, not deleted, to the chat."""
    return [
        post
        for post in truth["posts"]
        if post["network"] == "mastodon"
        and post["status"] == "posted"
        and not post["deleted"]
        and post["visibility"] == "public"
        and not post["opted_out"]
        and not asks_the_bot(post)
    ]


def without_cut_off(truth: dict[str, Any], lost: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``lost`` but for untagged replies under a deleted post (no thread leads to them)."""
    by_id = {post["plan_id"]: post for post in truth["posts"]}
    return [p for p in lost if p["has_hashtag"] or not unreachable(p, by_id)]


def test_a_chat_over_three_instances_is_collected_whole_once(
    engine: Engine, tmp_path: Path
) -> None:
    federation = FederationSettings(delay=60.0, loss=0.1, seed=11)
    chat = start_chat(
        engine, seed=11, faults=0.2, mastodon_instances=3, mastodon_profile=PROFILES,
        federation=federation, participants=30, posts_per_minute=8.0,
    )  # fmt: skip
    try:
        collector = Collector(engine, chat.event_id, chat.platforms, chat.sandbox.clock, peers=5)
        reports = follow(chat, collector)
        truth = chat.truth(tmp_path / "truth.json")
        federation = chat.sandbox.federation
        assert federation is not None
        lost_on_the_way_home = {uri for uri, instance in federation.lost if instance == 0}
        refused = [server.app.refused for server in chat.sandbox.mastodon_servers]
    finally:
        chat.close()
    rows = [row for row in stored_posts(engine, chat.event_id) if row.network == "mastodon"]
    uris = [row.uri for row in rows]
    assert len(uris) == len(set(uris)), "a post stored twice"
    expected = expected_mastodon(truth)
    assert len({post["instance"] for post in expected}) == 3  # posted on every instance
    # Some answers never federated to the bot's instance: only reading the others finds them.
    assert lost_on_the_way_home & {post["uri"] for post in expected}
    missing = without_cut_off(truth, [p for p in expected if p["uri"] not in set(uris)])
    assert missing == [], [(p["instance"], p["kind"], p["has_hashtag"]) for p in missing]
    assert refused == [0, 0, 0]  # never a 429 from any instance
    assert not any(r.networks["mastodon"].errors for r in reports)


@pytest.mark.slow
def test_killed_and_restarted_across_the_fediverse_loses_and_doubles_nothing(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # ``chatbot collect`` (reading the other instances by default), SIGKILLed at random
    # moments and started again until the chat is over.
    federation = FederationSettings(delay=60.0, loss=0.1, seed=13)
    chat = start_chat(
        engine, seed=13, faults=0.2, mastodon_instances=3, mastodon_profile=PROFILES,
        federation=federation, participants=30, posts_per_minute=8.0,
    )  # fmt: skip
    try:
        env = collect_env(chat, database_url, tmp_path)
        kills = run_with_kills(chat, env, seed=3, log=tmp_path / "collect.log")
        truth = chat.truth(tmp_path / "truth.json")
    finally:
        chat.close()
    assert kills >= 3, "the collector was killed mid-run several times"
    rows = [row for row in stored_posts(engine, chat.event_id) if row.network == "mastodon"]
    uris = [row.uri for row in rows]
    assert len(uris) == len(set(uris)), "a post stored twice"
    lost = [post for post in expected_mastodon(truth) if post["uri"] not in set(uris)]
    missing = without_cut_off(truth, lost)
    assert missing == [], [(p["instance"], p["kind"], p["has_hashtag"]) for p in missing]
