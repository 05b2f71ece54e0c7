"""Posting through the bot's adapter: facets, deterministic record keys, duplicates, replies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from atproto_client import exceptions

from chatbot.platforms.bluesky import POST
from chatbot.platforms.keys import post_key, record_key
from chatbot.text.bluesky import facet_slices
from chatbot.text.tid import is_valid_tid

from .conftest import Target, eventually


def key(tag: str, post: str) -> str:
    return post_key(f"{tag}-2026-11-26", post, datetime.now(UTC).replace(microsecond=0))


def get_record(target: Target, uri: str) -> dict:
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    answer = target.query(
        target.client(), "com.atproto.repo.getRecord", repo=repo, collection=collection, rkey=rkey
    )
    return answer


def test_hashtag_mention_and_link_facets(target: Target, tag: str) -> None:
    alice = target.create_account("alice")
    bot = target.platform(target.create_account("bot"))
    text = f"Q1 ☕️ Ça va? What's your 🦋 setup? #{tag.upper()} cc @{alice.handle} https://example.org/q1."
    ref = bot.post(text, key=key(tag, "q1"), language="en")

    record = get_record(target, ref.uri)["value"]
    assert record["text"] == text and record["langs"] == ["en"]
    kinds = [(piece, feature["$type"]) for piece, feature in facet_slices(text, record["facets"])]
    assert kinds == [
        (f"#{tag.upper()}", "app.bsky.richtext.facet#tag"),
        (f"@{alice.handle}", "app.bsky.richtext.facet#mention"),
        ("https://example.org/q1", "app.bsky.richtext.facet#link"),
    ]
    features = [f["features"][0] for f in record["facets"]]
    assert features[0]["tag"] == tag.upper() and features[1]["did"] == alice.did

    post = eventually(lambda: bot.fetch(ref), what="the AppView shows the post")
    assert post.tags == (tag,) and post.mentions == (alice.did,)
    assert post.links == ("https://example.org/q1",) and post.text == text


def test_record_key_is_the_deterministic_tid(target: Target, tag: str) -> None:
    bot = target.platform(target.create_account("bot"))
    post_key_ = key(tag, "welcome")
    ref = bot.post(f"Welcome to #{tag}!", key=post_key_)
    assert ref.id == record_key(post_key_) and is_valid_tid(ref.id)
    assert ref.uri == f"at://{bot.did}/{POST}/{ref.id}" and ref.cid
    assert get_record(target, ref.uri)["cid"] == ref.cid


def test_posting_the_same_key_twice_makes_one_post(target: Target, tag: str) -> None:
    account = target.create_account("bot")
    bot = target.platform(account)
    post_key_ = key(tag, "q2")
    first = bot.post(f"Q2 #{tag}", key=post_key_)
    # A second bot process (or a retry after a crash) posts the same key again.
    again = target.platform(account).post(f"Q2 #{tag}", key=post_key_)
    assert (again.uri, again.cid) == (first.uri, first.cid)

    client = target.client(account)
    listed = target.query(
        client, "com.atproto.repo.listRecords", repo=account.did, collection=POST, limit=100
    )
    assert [r["uri"] for r in listed["records"]] == [first.uri]

    # What the adapter copes with: the PDS refuses a duplicate key with a bare 500.
    data = {"repo": account.did, "collection": POST, "rkey": first.id, "record": {}}
    data["record"] = get_record(target, first.uri)["value"]
    with pytest.raises(exceptions.RequestException) as caught:
        client.com.atproto.repo.create_record(data=data)
    assert caught.value.response.status_code == 500
    assert caught.value.response.content.error == "InternalServerError"


def test_a_deleted_post_can_be_posted_again_under_its_key(target: Target, tag: str) -> None:
    bot = target.platform(target.create_account("bot"))
    post_key_ = key(tag, "q3")
    first = bot.post(f"Q3 #{tag}", key=post_key_)
    bot.delete(first)
    bot.delete(first)  # deleting a missing record is not an error
    again = bot.post(f"Q3 (again) #{tag}", key=post_key_)
    assert again.id == first.id and again.cid != first.cid


def test_replies_carry_root_and_parent(target: Target, tag: str) -> None:
    bot = target.platform(target.create_account("bot"))
    question = bot.post(f"Q1 #{tag}", key=key(tag, "q1"))
    follow_up = bot.post(f"Q1a and why? #{tag}", key=key(tag, "q1a"), reply_to=question)
    deeper = bot.post(f"Q1b #{tag}", key=key(tag, "q1b"), reply_to=follow_up, root=question)

    reply = get_record(target, deeper.uri)["value"]["reply"]
    assert (reply["root"]["uri"], reply["root"]["cid"]) == (question.uri, question.cid)
    assert (reply["parent"]["uri"], reply["parent"]["cid"]) == (follow_up.uri, follow_up.cid)

    thread = eventually(
        lambda: (t := bot.thread(question)).anchor and len(t.replies) == 2 and t,
        what="both replies in the question's thread",
    )
    assert {p.uri for p in thread.replies} == {follow_up.uri, deeper.uri}
    by_uri = {p.uri: p for p in thread.replies}
    assert by_uri[deeper.uri].parent_uri == follow_up.uri
    assert by_uri[deeper.uri].root_uri == question.uri


def test_threadgate_hidden_replies_come_beside_the_thread(target: Target, tag: str) -> None:
    bot_account = target.create_account("bot")
    bot = target.platform(bot_account)
    spammer = target.client(target.create_account("spam"))
    question = bot.post(f"Q1 #{tag}", key=key(tag, "q1"))
    strong = {"uri": question.uri, "cid": question.cid}
    spam = spammer.com.atproto.repo.create_record(
        data={
            "repo": spammer._session.did,  # type: ignore[union-attr]
            "collection": POST,
            "record": {
                "$type": POST,
                "text": "buy followers https://spam.example",
                "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "reply": {"root": strong, "parent": strong},
            },
        }
    )
    hide = getattr(bot, "hide_reply", None)
    if hide is not None:
        hide(question, spam.uri)
        hide(question, spam.uri)  # idempotent
    else:  # an adapter without hide_reply: write the gate as it would
        gate = {
            "$type": "app.bsky.feed.threadgate",
            "post": question.uri,
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "hiddenReplies": [spam.uri],
        }
        bot.client().com.atproto.repo.put_record(
            data={
                "repo": bot_account.did,
                "collection": "app.bsky.feed.threadgate",
                "rkey": question.id,
                "record": gate,
            }
        )

    def answer() -> dict:
        found = target.query(
            bot.client(), "app.bsky.feed.getPostThread", uri=question.uri, depth=10
        )
        return found if found.get("threadgate") and found["thread"].get("replies") else {}

    found = eventually(answer, what="the thread with its threadgate")
    # Hidden replies stay in `replies`; the gate beside the thread lists them.
    assert found["threadgate"]["record"]["hiddenReplies"] == [spam.uri]
    assert found["threadgate"]["uri"].endswith(f"/app.bsky.feed.threadgate/{question.id}")
    assert [r["post"]["uri"] for r in found["thread"]["replies"]] == [spam.uri]
    assert found["thread"]["post"]["threadgate"]["record"]["hiddenReplies"] == [spam.uri]
