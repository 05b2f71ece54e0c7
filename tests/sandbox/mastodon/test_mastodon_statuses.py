"""Accounts and statuses through the unmodified Mastodon.py client over HTTP."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonDeprecationWarning,
    MastodonIllegalArgumentError,
    MastodonNotFoundError,
    MastodonUnauthorizedError,
)

from .conftest import PASSWORD, Sandbox


def test_app_account_and_password_login(sandbox: Sandbox):
    client_id, secret = Mastodon.create_app("chatbot", api_base_url=sandbox.url)
    api = sandbox.client(client_id=client_id, client_secret=secret)
    token = api.create_account("carol", PASSWORD, "carol@example.org", agreement=True)
    assert token and api.account_verify_credentials().username == "carol"

    fresh = sandbox.client(client_id=client_id, client_secret=secret)
    assert fresh.log_in("carol@example.org", PASSWORD, allow_http=True)
    me = fresh.account_verify_credentials()
    assert me.acct == "carol" and isinstance(me.source, dict)
    assert fresh.account(me.id).username == "carol"
    assert fresh.account_lookup("carol").id == me.id

    with pytest.raises(MastodonIllegalArgumentError):
        sandbox.client(client_id=client_id, client_secret=secret).log_in(
            "carol@example.org", "wrong password", allow_http=True
        )


def test_create_account_refuses_a_taken_username(sandbox: Sandbox, alice: Mastodon):
    client_id, secret = sandbox.app_credentials()
    api = sandbox.client(client_id=client_id, client_secret=secret)
    with pytest.raises(MastodonIllegalArgumentError, match="taken"):
        api.create_account("alice", PASSWORD, "other@example.org", agreement=True)


def test_unknown_or_missing_token_is_401(sandbox: Sandbox):
    with pytest.raises(MastodonUnauthorizedError) as caught:
        sandbox.client("not-a-token").account_verify_credentials()
    assert caught.value.args[3] == "The access token is invalid"
    with pytest.raises(MastodonUnauthorizedError):
        sandbox.client().status_post("anonymous")
    # An unknown token is refused even where no token is needed, as on Mastodon.
    with pytest.raises(MastodonUnauthorizedError):
        sandbox.client("not-a-token").timeline_hashtag("sm35")


def test_post_get_edit_delete(sandbox: Sandbox, alice: Mastodon):
    posted = alice.status_post("Q1 What brings you here? #SM35", language="en")
    assert posted.visibility == "public" and posted.edited_at is None
    assert [t.name for t in posted.tags] == ["sm35"]
    assert posted.application.name == "chatbot tests"
    assert posted.account.acct == "alice" and posted.account.statuses_count == 1
    assert isinstance(alice.status(posted.id).content, str)

    edited = alice.status_update(posted.id, "Q1 What brought you here? #SM35")
    assert edited.edited_at is not None and "brought" in edited.content

    deleted = alice.status_delete(posted.id)
    assert deleted.text == "Q1 What brought you here? #SM35"
    assert deleted.get("content") is None  # the server sent text, not content
    with pytest.raises(MastodonNotFoundError):
        alice.status(posted.id)
    with pytest.raises(MastodonNotFoundError) as caught:
        alice.status_delete(posted.id)
    assert caught.value.args[3] == "Record not found"


def test_status_ids_are_strings_on_the_wire_and_grow(sandbox: Sandbox):
    account = sandbox.store.create_account("dana")
    first = sandbox.store.create_status(account["id"], "one")
    second = sandbox.store.create_status(account["id"], "two")
    assert isinstance(first["id"], str) and int(second["id"]) > int(first["id"])
    assert len(first["id"]) >= 18  # a millisecond timestamp shifted 16 bits


def test_idempotency_key_returns_the_first_status(sandbox: Sandbox, alice: Mastodon):
    first = alice.status_post("Q2 #sm35", idempotency_key="event-1-q2")
    again = alice.status_post("Q2 #sm35 (retry)", idempotency_key="event-1-q2")
    other = alice.status_post("Q2 #sm35", idempotency_key="event-1-q3")
    assert again.id == first.id and other.id != first.id
    assert [s["id"] for s in sandbox.store.find_statuses(tag="sm35")] == [
        str(first.id),
        str(other.id),
    ]


def test_idempotency_keys_are_per_account_and_expire(sandbox_factory):
    from chatbot.clock import ManualClock

    clock = ManualClock()
    box = sandbox_factory(clock=clock)
    alice, bob = box.register("alice"), box.register("bob")
    first = alice.status_post("hello", idempotency_key="k")
    assert bob.status_post("hello", idempotency_key="k").id != first.id
    clock.advance(minutes=59)
    assert alice.status_post("hello", idempotency_key="k").id == first.id
    clock.advance(minutes=2)
    assert alice.status_post("hello", idempotency_key="k").id != first.id


def test_reply_and_context(sandbox: Sandbox, alice: Mastodon, bob: Mastodon):
    question = alice.status_post("Q1 #sm35")
    answer = bob.status_reply(question, "A1 mine")
    nested = alice.status_reply(answer, "thanks!")
    assert answer.in_reply_to_id == question.id
    assert answer.in_reply_to_account_id == question.account.id
    assert "@alice" in answer.content and answer.mentions[0].acct == "alice"
    context = bob.status_context(answer)
    assert [s.id for s in context.ancestors] == [question.id]
    assert [s.id for s in context.descendants] == [nested.id]
    assert [s.id for s in alice.status_context(question).descendants] == [answer.id, nested.id]
    assert alice.status(question).replies_count == 1
    # A deleted middle reply cuts its branch off, as on Mastodon.
    bob.status_delete(answer)
    assert alice.status_context(question).descendants == []
    assert alice.status_context(nested).ancestors == []


def test_only_the_author_may_edit_or_delete(sandbox: Sandbox, alice: Mastodon, bob: Mastodon):
    posted = alice.status_post("mine")
    with pytest.raises(MastodonAPIError) as caught:
        bob.status_delete(posted)
    assert caught.value.args[1] == 403
    with pytest.raises(MastodonAPIError):
        bob.status_update(posted, "yours now")


def test_private_and_direct_statuses_are_hidden_from_others(
    sandbox: Sandbox, alice: Mastodon, bob: Mastodon
):
    private = alice.status_post("secret", visibility="private")
    direct = alice.status_post("@bob psst", visibility="direct")
    assert alice.status(private).visibility == "private"
    with pytest.raises(MastodonNotFoundError):
        bob.status(private)
    assert bob.status(direct).visibility == "direct"
    with pytest.raises(MastodonNotFoundError):
        sandbox.client().status(direct)


def test_empty_and_over_limit_text_is_422(sandbox_factory):
    box = sandbox_factory(max_characters=50)
    api = box.register()
    for text in ["", "   \n  "]:
        with pytest.raises(MastodonAPIError) as caught:
            api.status_post(text)
        assert caught.value.args[1] == 422
    with pytest.raises(MastodonAPIError) as caught:
        api.status_post("x" * 51)
    assert caught.value.args[1] == 422 and "character limit of 50" in caught.value.args[3]
    # Every URL counts as 23 characters, however long it is.
    long_url = "https://example.com/" + "a" * 200
    assert api.status_post(f"{'x' * 26} {long_url}").id
    with pytest.raises(MastodonAPIError):
        api.status_post(f"{'x' * 27} {long_url}")
    # Graphemes, not code points: a family emoji is one character.
    assert api.status_post("👨‍👩‍👧‍👦" * 50).id


def test_instance_documents(sandbox_factory):
    box = sandbox_factory(max_characters=300)
    api = box.client()
    v2 = api.instance_v2()
    assert v2.configuration.statuses.max_characters == 300
    assert v2.configuration.statuses.characters_reserved_per_url == 23
    assert v2.configuration.urls.streaming == box.url.replace("http://", "ws://")
    with pytest.warns(MastodonDeprecationWarning):  # 4.6 marks the v1 document deprecated
        v1 = api.instance_v1()
    assert v1.configuration.statuses.max_characters == 300
    assert v1.urls.streaming_api == box.url.replace("http://", "ws://")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_text_is_escaped(sandbox: Sandbox, alice: Mastodon):
    hostile = '<script>alert("x")</script> <img src=x onerror=alert(1)> & <b>bold</b> #sm35'
    posted = alice.status_post(hostile)
    parser = _Tags()
    parser.feed(posted.content)
    assert set(parser.tags) <= {"p", "a", "span"}
    assert "<script>" not in posted.content and "&lt;script&gt;" in posted.content
    assert "".join(parser.text) == hostile


def test_quotes(sandbox: Sandbox, alice: Mastodon, bob: Mastodon):
    original = alice.status_post("Q3 #sm35")
    quoting = bob.status_post("look at this", quoted_status_id=original.id)
    assert quoting.quote.state == "accepted" and quoting.quote.quoted_status.id == original.id
    assert alice.status(original).quotes_count == 1


def test_store_api_for_the_crowd(sandbox: Sandbox, alice: Mastodon):
    store = sandbox.store
    account = store.create_account(
        "crowd1", display_name="Crowd One", bot=True, noindex=True, followers_count=12
    )
    assert (
        account["bot"] is True and account["noindex"] is True and account["followers_count"] == 12
    )
    crowd = sandbox.client(store.token_for(account["id"]))
    assert str(crowd.account_verify_credentials().id) == account["id"]
    question = alice.status_post("Q1 #SM35")
    reply = store.create_status(
        account["id"], "A1 from the crowd #sm35", in_reply_to_id=str(question.id)
    )
    assert reply["in_reply_to_id"] == str(question.id)
    edited = store.edit_status(reply["id"], "A1 edited #sm35")
    assert edited["edited_at"] is not None
    assert [s["id"] for s in store.find_statuses(account_id=account["id"])] == [reply["id"]]
    assert len(store.find_statuses(tag="#Sm35")) == 2
    gone = store.delete_status(reply["id"])
    assert gone["text"] == "A1 edited #sm35" and "content" not in gone
    assert store.find_statuses(account_id=account["id"]) == []
    with pytest.raises(MastodonNotFoundError):
        alice.status(reply["id"])
