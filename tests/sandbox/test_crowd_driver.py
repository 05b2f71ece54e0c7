"""The crowd driver against real sandbox stores, read back through the unmodified clients."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from atproto import Client
from mastodon import Mastodon

from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig, ScheduledQuestion, plan_crowd
from chatbot.sandbox.crowd.truth import load_truth
from chatbot.sandbox.runner import Sandbox

SPEED = 1500  # a 20-minute chat (plus its tail) in about a second


def _chat(sandbox: Sandbox) -> ChatSchedule:
    start = sandbox.clock.now() + timedelta(seconds=30)
    questions = tuple(
        ScheduledQuestion(
            f"Q{i + 1}",
            f"Q{i + 1}: {topic} #CrowdTest",
            start + timedelta(minutes=1 + 5 * i),
        )
        for i, topic in enumerate(
            ("Which tools help you archive?", "How do you ask for consent?", "What blocks you?")
        )
    )
    return ChatSchedule("CrowdTest", start, start + timedelta(minutes=18), questions)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One crowd run; the bot never posts one question on Mastodon."""
    with Sandbox(seed=5, speed=SPEED) as sandbox:
        chat = _chat(sandbox)
        config = CrowdConfig(seed=5, participants=16, posts_per_minute=5, reactions=True)
        plan = plan_crowd(config, chat)
        withheld = [
            a.parent_question for a in plan.posts() if a.parent_question and a.network == "mastodon"
        ][-1]
        driver = sandbox.crowd(chat, config)  # driven step by step: no race with the "bot"
        assert driver.plan == plan
        posted: set[tuple[str, str]] = set()
        deadline = time.monotonic() + 15
        while not driver.finished and time.monotonic() < deadline:
            now = sandbox.clock.now()
            for question in chat.questions:
                due = question.due_at <= now
                if due and ("bluesky", question.label) not in posted:
                    sandbox.bluesky.create_post(sandbox.bot_ids["bluesky"], question.text)
                    posted.add(("bluesky", question.label))
                mastodon_due = due and question.label != withheld
                if mastodon_due and ("mastodon", question.label) not in posted:
                    sandbox.mastodon.create_status(sandbox.bot_ids["mastodon"], question.text)
                    posted.add(("mastodon", question.label))
            driver.run_due(now)
            time.sleep(0.01)
        assert driver.finished, f"{driver.remaining} actions left"
        path = driver.write_truth(tmp_path_factory.mktemp("truth") / "truth.json")
        yield sandbox, load_truth(path) | {"withheld": withheld, "plan": plan}


def test_truth_is_consistent(run):
    _, truth = run
    posts = truth["posts"]
    assert posts and truth["hashtag"] == "CrowdTest"
    order = {p["plan_id"]: i for i, p in enumerate(posts)}
    refs = {p["ref"] for p in posts if p["ref"]}
    question_refs = {ref for per in truth["questions"].values() for ref in per.values()}
    for post in posts:
        assert post["status"] in ("posted", "skipped")
        if post["parent_plan_id"]:
            assert order[post["parent_plan_id"]] < order[post["plan_id"]]
        if post["status"] == "posted" and post["parent"]:
            assert post["parent"] in refs | question_refs
        if post["deleted"]:
            assert post["status"] == "posted" and post["deleted_at"]
        if post["edited"]:
            assert post["edit_history"] and post["network"] == "mastodon"
    for post in posts:  # the stores refused nothing: only the withheld question's thread
        if post["status"] == "skipped":
            assert "was not posted in time" in post["skipped"] or "never posted" in post["skipped"]
    kinds = {p["kind"] for p in posts if p["status"] == "posted"}
    assert {"answer", "thread_answer", "reply", "quote", "spam", "optout"} <= kinds
    assert any(p["deleted"] for p in posts) and any(p["edited"] for p in posts)
    assert any(p["opted_out"] for p in posts) and any(p["hostile"] for p in posts)
    json.dumps({k: v for k, v in truth.items() if k != "plan"})  # plain JSON all the way down


def test_unposted_question_is_waited_for_then_skipped(run):
    _, truth = run
    withheld = truth["withheld"]
    assert "mastodon" not in truth["questions"][withheld]
    others = [label for label in truth["questions"] if label != withheld]
    assert all(set(truth["questions"][label]) == {"bluesky", "mastodon"} for label in others)
    waits = [  # thread answers, and posts that link to the question by its address
        p
        for p in truth["posts"]
        if withheld in (p["parent_question"], p["quote_question"]) and p["network"] == "mastodon"
    ]
    assert waits and all(p["status"] == "skipped" for p in waits)
    assert all(f"{withheld} was not posted" in p["skipped"] for p in waits)
    assert {w["plan_id"] for w in truth["question_waits"]} == {p["plan_id"] for p in waits}


def _expected(truth, network):
    return {
        p["ref"]: p
        for p in truth["posts"]
        if p["network"] == network
        and p["status"] == "posted"
        and not p["deleted"]
        and p["has_hashtag"]
        and p["visibility"] == "public"
    }


def test_bluesky_search_finds_exactly_the_live_hashtag_posts(run):
    sandbox, truth = run
    client = Client(base_url=sandbox.bluesky_url + "/xrpc")
    client.login(sandbox.bot_handle, sandbox.bot_password)
    found, cursor = {}, None
    while True:
        page = client.app.bsky.feed.search_posts(
            {"q": "#CrowdTest", "limit": 100, "cursor": cursor}
        )
        found.update({post.uri: post for post in page.posts})
        cursor = page.cursor
        if not cursor or not page.posts:
            break
    crowd = {
        uri: post for uri, post in found.items() if post.author.did != sandbox.bot_ids["bluesky"]
    }
    expected = _expected(truth, "bluesky")
    assert set(crowd) == set(expected)
    for uri, post in crowd.items():
        assert post.record.text == expected[uri]["text"]
        assert post.author.handle == expected[uri]["author"]


def test_bluesky_question_thread_holds_the_thread_answers(run):
    sandbox, truth = run
    client = Client(base_url=sandbox.bluesky_url + "/xrpc")
    client.login(sandbox.bot_handle, sandbox.bot_password)
    assert sorted(truth["questions"]) == ["Q1", "Q2", "Q3"]
    for label, refs in truth["questions"].items():
        thread = client.get_post_thread(refs["bluesky"], depth=10).thread
        replies = {reply.post.uri for reply in thread.replies or []}
        answers = {
            p["ref"]
            for p in truth["posts"]
            if p["parent_question"] == label
            and p["network"] == "bluesky"
            and p["status"] == "posted"
            and not p["deleted"]
        }
        assert answers and answers <= replies, label  # every question has thread answers


def test_mastodon_hashtag_timeline_matches_the_truth(run):
    sandbox, truth = run
    api = Mastodon(api_base_url=sandbox.mastodon_url, access_token=sandbox.mastodon_token)
    statuses = api.fetch_remaining(api.timeline_hashtag("CrowdTest", limit=40))
    crowd = {
        str(s["id"]): s for s in statuses if str(s["account"]["id"]) != sandbox.bot_ids["mastodon"]
    }
    expected = _expected(truth, "mastodon")
    assert set(crowd) == set(expected)
    for status_id, status in crowd.items():
        assert (status["edited_at"] is not None) == expected[status_id]["edited"]
        assert status["account"]["acct"] == expected[status_id]["author"]
    unlisted = [p for p in truth["posts"] if p["visibility"] == "unlisted" and p["ref"]]
    assert any(not post["deleted"] for post in unlisted)  # some to look up
    for post in unlisted:
        assert post["ref"] not in crowd
        if not post["deleted"]:
            assert api.status(post["ref"])["visibility"] == "unlisted"


def test_opt_out_accounts_are_marked_on_the_networks(run):
    sandbox, truth = run
    accounts = truth["accounts"].values()
    labelled = [a for a in accounts if a["opt_out"] == "self_label"]
    assert labelled  # this crowd has a self-labelled Bluesky account
    for account in labelled:
        profile = sandbox.bluesky.get_record(account["id"], "app.bsky.actor.profile", "self")
        labels = [v["val"] for v in profile.value["labels"]["values"]]
        assert labels == ["!no-unauthenticated"]
    api = Mastodon(api_base_url=sandbox.mastodon_url, access_token=sandbox.mastodon_token)
    masto = {a["opt_out"]: a for a in accounts if a["network"] == "mastodon" and a["opt_out"]}
    assert set(masto) == {"not_indexable", "noindex"}
    assert api.account(masto["not_indexable"]["id"])["indexable"] is False
    assert api.account(masto["noindex"]["id"])["noindex"] is True


def test_hostile_profile_reaches_the_clients_unaltered(run):
    sandbox, truth = run
    (account,) = [a for a in truth["accounts"].values() if a["hostile_profile"]]
    if account["network"] == "bluesky":
        client = Client(base_url=sandbox.bluesky_url + "/xrpc")
        client.login(sandbox.bot_handle, sandbox.bot_password)
        shown = client.get_profile(account["id"]).display_name
    else:
        api = Mastodon(api_base_url=sandbox.mastodon_url, access_token=sandbox.mastodon_token)
        shown = api.account(account["id"])["display_name"]
    assert shown == account["display_name"] and "<b onclick" in shown


def test_truth_names_refs_per_network(run):
    sandbox, truth = run
    assert {post["network"] for post in truth["posts"]} == {"bluesky", "mastodon"}
    for post in truth["posts"]:
        if post["network"] == "bluesky":
            assert post["uri"] == post["ref"] and post["id"] is None
        else:
            assert post["id"] == post["ref"]
            assert post["ref"] is None or post["ref"].isdigit()  # ids stay strings
            if post["ref"] is not None:  # posted: its ActivityPub id and where it lives
                assert post["uri"].endswith(f"/statuses/{post['ref']}")
                assert post["instance"] == sandbox.mastodon.domain
                assert post["ids_by_instance"] == {post["instance"]: post["ref"]}


def test_follower_counts_vary_and_reach_both_clients(run):
    sandbox, truth = run
    client = Client(base_url=sandbox.bluesky_url + "/xrpc")
    client.login(sandbox.bot_handle, sandbox.bot_password)
    api = Mastodon(api_base_url=sandbox.mastodon_url, access_token=sandbox.mastodon_token)
    shown = []
    for account in truth["accounts"].values():
        if account["network"] == "bluesky":
            shown.append(client.get_profile(account["id"]).followers_count)
        else:
            shown.append(api.account(account["id"])["followers_count"])
    assert all(count >= 0 for count in shown)
    assert len(set(shown)) > len(shown) // 2  # a spread, as real accounts have
    assert max(shown) >= 100 and min(shown) < 100


def test_links_and_mentions_reach_the_clients_as_people_write_them(run):
    """A link_quote carries the post's web address (a link facet on Bluesky) and no embed."""
    sandbox, truth = run
    client = Client(base_url=sandbox.bluesky_url + "/xrpc")
    client.login(sandbox.bot_handle, sandbox.bot_password)
    api = Mastodon(api_base_url=sandbox.mastodon_url, access_token=sandbox.mastodon_token)
    live = [p for p in truth["posts"] if p["status"] == "posted" and not p["deleted"]]
    links = [p for p in live if p["kind"] == "link_quote"]
    assert {p["network"] for p in links} == {"bluesky", "mastodon"}
    assert any(p["quote_question"] for p in links) and any(p["quote_plan_id"] for p in links)
    dids = {a["handle"]: a["id"] for a in truth["accounts"].values()}
    for post in links:
        url = post["quote_url"]
        assert url in post["text"] and "<post-url>" not in post["text"]
        if post["network"] == "bluesky":
            record = client.get_posts([post["ref"]]).posts[0].record
            assert record.embed is None
            uris = [
                getattr(f, "uri", None) for facet in record.facets or [] for f in facet.features
            ]
            uris = [uri for uri in uris if uri]
            assert uris == [url]
            owner = client.get_posts([post["quote"]]).posts[0].author.handle
            assert (
                url == f"{sandbox.bluesky_url}/profile/{owner}/post/{post['quote'].rsplit('/')[-1]}"
            )
        else:
            status = api.status(post["ref"])
            assert status.get("quote") is None
            assert url == api.status(post["quote"])["url"]
    mentioning = [p for p in live if p["mentions"] and p["network"] == "bluesky"]
    assert any(p["kind"] == "mention_reply" for p in mentioning)
    for post in mentioning:
        record = client.get_posts([post["ref"]]).posts[0].record
        found = [getattr(f, "did", None) for facet in record.facets or [] for f in facet.features]
        found = [did for did in found if did]
        assert found == [dids[handle] for handle in post["mentions"]], post["text"]


def test_the_crowd_likes_and_reposts_on_both_networks(run):
    sandbox, truth = run
    plan = truth["plan"]
    reactions = [a for a in plan.actions if a.op in ("like", "repost")]
    posts = {a.id: a for a in plan.posts()}
    people = {p.key: p for p in plan.participants}
    for reaction in reactions:  # another person's public post, on the same server
        post = posts[reaction.target]
        assert reaction.author != post.author and not post.spam
        assert people[reaction.author].instance == people[post.author].instance
    liked = {(a.network, a.target) for a in reactions if a.op == "like"}
    assert {network for network, _ in liked} == {"bluesky", "mastodon"}
    # The clients see the counts move.
    refs = {p["plan_id"]: p["ref"] for p in truth["posts"] if p["ref"] and not p["deleted"]}
    bluesky = Client(base_url=sandbox.bluesky_url)
    uris = [refs[t] for n, t in liked if n == "bluesky" and t in refs][:25]
    views = bluesky.app.bsky.feed.get_posts({"uris": uris}).posts
    assert views and all(view.like_count for view in views)
    mastodon = Mastodon(api_base_url=sandbox.mastodon_url)
    ids = [refs[t] for n, t in liked if n == "mastodon" and t in refs][:40]
    statuses = mastodon.statuses(ids)
    assert statuses and all(status.favourites_count for status in statuses)
