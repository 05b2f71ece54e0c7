"""A crowd spread over three federating Mastodon instances, read back through Mastodon.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from mastodon import Mastodon

from chatbot.clock import ManualClock
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig, ScheduledQuestion
from chatbot.sandbox.mastodon.federation import FederationSettings
from chatbot.sandbox.runner import Sandbox

pytestmark = pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonDeprecationWarning")
STEP = timedelta(seconds=5)


def _chat(start: Any) -> ChatSchedule:
    questions = tuple(
        ScheduledQuestion(
            f"Q{i + 1}", f"Q{i + 1}: {topic} #FediCrowd", start + timedelta(minutes=1 + 5 * i)
        )
        for i, topic in enumerate(("Which tools help you archive?", "How do you ask for consent?"))
    )
    return ChatSchedule(
        "FediCrowd", start, start + timedelta(minutes=12), questions, networks=("mastodon",)
    )


def _play(seed: int) -> tuple[Sandbox, dict[str, Any], list[str]]:
    """One whole chat on a manual clock; returns the (stopped) sandbox, its truth and domains."""
    clock = ManualClock()
    sandbox = Sandbox(
        seed=seed,
        clock=clock,
        networks=("mastodon",),
        mastodon_instances=3,
        mastodon_profile="mastodon,gotosocial,mastodon",
        federation=FederationSettings(delay=60, loss=0.1, seed=seed),
    ).start()
    chat = _chat(clock.now() + timedelta(seconds=30))
    driver = sandbox.crowd(chat, CrowdConfig(seed=seed, participants=18, posts_per_minute=5))
    posted: set[str] = set()
    for _ in range(2000):
        now = clock.now()
        for question in chat.questions:
            if question.due_at <= now and question.label not in posted:
                sandbox.mastodon.create_status(sandbox.bot_ids["mastodon"], question.text)
                posted.add(question.label)
        driver.run_due(now)
        assert sandbox.federation is not None
        sandbox.federation.deliver_due(now)
        if driver.finished and not sandbox.federation.pending():
            break
        clock.advance(seconds=STEP.total_seconds())
    assert driver.finished and not sandbox.federation.pending()
    truth = driver.truth.to_dict()
    driver._note_copies()  # what write_truth adds; the truth file is tested elsewhere
    truth = driver.truth.to_dict()
    return sandbox, truth, [store.domain for store in sandbox.mastodon_stores]


@pytest.fixture(scope="module")
def played() -> Any:
    sandbox, truth, domains = _play(seed=6)
    yield sandbox, truth, domains
    sandbox.stop()


def test_the_crowd_spreads_over_every_instance_and_some_post_unlisted(played):
    _, truth, domains = played
    people = [a for a in truth["accounts"].values() if not a["spammer"]]
    assert {a["instance"] for a in people} == set(domains)
    quiet = {a["handle"] for a in people if a["posts_unlisted"]}
    assert quiet
    posted = [p for p in truth["posts"] if p["status"] == "posted"]
    assert {p["instance"] for p in posted} == set(domains)
    for post in posted:
        assert post["uri"] and post["ids_by_instance"][post["instance"]] == post["ref"]
        if post["author"] in quiet:
            assert post["visibility"] == "unlisted"


def test_the_bots_instance_shows_what_federated_to_it_and_nothing_else(played):
    sandbox, truth, domains = played
    bot = Mastodon(api_base_url=sandbox.mastodon_url, access_token=sandbox.mastodon_token)
    shown = bot.fetch_remaining(bot.timeline_hashtag("fedicrowd", limit=40))
    by_uri = {s["uri"]: s for s in shown}
    expected = [
        p
        for p in truth["posts"]
        if p["status"] == "posted" and not p["deleted"] and p["has_hashtag"]
        and p["visibility"] == "public"
    ]  # fmt: skip
    arrived = [p for p in expected if domains[0] in p["ids_by_instance"]]
    never = [p for p in expected if domains[0] not in p["ids_by_instance"]]
    assert arrived and never  # with 10% loss some never reach the bot's instance
    for post in arrived:
        status = by_uri[post["uri"]]
        assert str(status["id"]) == post["ids_by_instance"][domains[0]]
        if post["instance"] != domains[0]:
            assert status["account"]["acct"] == f"{post['author']}@{post['instance']}"
    assert not {p["uri"] for p in never} & set(by_uri)
    # Answers in a question's thread reach the question's instance whatever the loss.
    thread_answers = [
        p for p in truth["posts"]
        if p["status"] == "posted" and p["parent_question"] and not p["deleted"]
    ]  # fmt: skip
    assert {p["instance"] for p in thread_answers} - {domains[0]}
    assert all(domains[0] in p["ids_by_instance"] for p in thread_answers)


def test_the_same_seed_federates_the_same_way(played):
    _, truth, domains = played
    again, truth_again, domains_again = _play(seed=6)
    again.stop()

    def where(posts: list[dict[str, Any]], names: list[str]) -> dict[str, set[int]]:
        index = {domain: n for n, domain in enumerate(names)}
        return {p["plan_id"]: {index[d] for d in p["ids_by_instance"]} for p in posts}

    assert where(truth["posts"], domains) == where(truth_again["posts"], domains_again)
