"""Both adapters read the bot's mention notifications from the sandbox over HTTP.

The sandbox answers ``app.bsky.notification.listNotifications`` and
``GET /api/v1/notifications`` in the networks' shapes (the Mastodon one
checked against a recorded notification in tests/fixtures/real/mastodon/notification_mention.json).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import requests
from atproto import Client

from chatbot.platforms.keys import post_key
from tests.platforms.conftest import PASSWORD

DUE = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
RECORDED = (
    Path(__file__).parent.parent / "fixtures" / "real" / "mastodon" / "notification_mention.json"
)


def key(name: str) -> str:
    return post_key("sm35", name, DUE)


def test_bluesky_mentions_and_replies_newest_first_in_pages(bsky):
    bot = bsky.platform("bot.test")
    ann = bsky.platform("ann.test")
    root = bot.post("Q1 What is it? #sm35", key=key("q1"))
    bsky.platform("cat.test").post("no mention here #sm35", key=key("c1"))
    asked = ann.post("@bot.test Q1?", key=key("a1"))
    replied = ann.post("current question please", key=key("a2"), reply_to=root)
    ann.post("@ann.test talking to myself", key=key("a3"))
    bot.post("@bot.test the bot itself", key=key("b1"))

    first = bot.mentions(limit=1)
    assert [(m.post.uri, m.reason) for m in first.mentions] == [(replied.uri, "reply")]
    assert first.cursor is not None
    rest = bot.mentions(cursor=first.cursor, limit=10)
    assert [(m.post.uri, m.reason) for m in rest.mentions] == [(asked.uri, "mention")]
    assert rest.cursor is None
    mention = first.mentions[0]
    assert mention.post.author_handle == "ann.test" and mention.post.cid == replied.cid
    assert mention.post.root_uri == root.uri and mention.post.text == "current question please"
    assert mention.seen_at is not None


def test_mastodon_mentions_page_with_max_id(masto):
    bot = masto.platform("bot")
    ann = masto.platform("ann")
    question = bot.post("Q1 What is it? #sm35", key=key("q1"))
    first = ann.post("@bot Q1?", key=key("a1"))
    ann.post("nothing for the bot", key=key("a2"))
    second = ann.post("@bot current question please", key=key("a3"), reply_to=question)
    page = bot.mentions(limit=1)
    assert [m.post.id for m in page.mentions] == [second.id]
    assert page.mentions[0].post.parent_id == question.id
    assert page.mentions[0].post.author_handle == "ann" and page.mentions[0].reason == "mention"
    rest = bot.mentions(cursor=page.cursor, limit=40)
    assert [m.post.id for m in rest.mentions] == [first.id]
    assert bot.mentions(cursor=rest.cursor).mentions == []


def test_the_sandbox_notification_has_the_recorded_shape(masto):
    recorded = json.loads(RECORDED.read_text())
    bot = masto.platform("bot")
    masto.platform("ann").post("@bot hello", key=key("a1"))
    answer = requests.get(
        f"{masto.url}/api/v1/notifications",
        params={"types[]": "mention"},
        headers={"Authorization": f"Bearer {masto.token('bot')}"},
        timeout=10,
    ).json()
    assert bot.mentions().mentions
    served = answer[0]
    assert set(recorded) <= set(served)
    assert served["type"] == recorded["type"] == "mention"
    assert set(recorded["status"]) - set(served["status"]) <= {
        "filtered", "quote_approval", "tagged_collections", "quotes_count", "quote",
    }  # fmt: skip


def test_the_sandbox_notifications_parse_as_the_sdk_models_them(bsky):
    """The atproto SDK's own models (made from the lexicon) read the sandbox's answer."""
    bot = bsky.platform("bot.test")
    root = bot.post("Q1 What is it? #sm35", key=key("q1"))
    ann = bsky.platform("ann.test")
    ann.post("@bot.test Q1?", key=key("a1"))
    ann.post("current question please", key=key("a2"), reply_to=root)
    client = Client(base_url=bsky.url + "/xrpc")
    client.login("bot.test", PASSWORD)
    answer = client.app.bsky.notification.list_notifications({"limit": 10})
    assert [n.reason for n in answer.notifications] == ["reply", "mention"]
    reply = answer.notifications[0]
    assert reply.reason_subject == root.uri and reply.author.handle == "ann.test"
    assert reply.record.reply.parent.uri == root.uri and not reply.is_read
    only = client.app.bsky.notification.list_notifications({"reasons": ["mention"]})
    assert [n.reason for n in only.notifications] == ["mention"]
