"""The Bluesky adapter with the real atproto client over HTTP against the sandbox."""

from __future__ import annotations

import logging
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from atproto import Client
from atproto_client import exceptions as atx
from atproto_client.models.dot_dict import DotDict

from chatbot.clock import ManualClock
from chatbot.errors import (
    AuthError,
    NotFoundError,
    PlatformError,
    RateLimitedError,
    TransientError,
    UsageError,
)
from chatbot.platforms.base import iter_hashtag_pages, iter_hashtag_posts
from chatbot.platforms.bluesky import DEFAULT_WEB, POST, BlueskyPlatform
from chatbot.platforms.bluesky_errors import translate
from chatbot.platforms.keys import post_key, record_key
from chatbot.text.bluesky import facet_slices
from chatbot.text.tid import is_valid_tid
from tests.platforms.conftest import PASSWORD, clear_faults, set_faults

DUE = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def key(post: str = "q1", event: str = "sm35-2026-11-26") -> str:
    return post_key(event, post, DUE)


def reader(bsky, handle: str = "reader.test") -> Client:
    """A plain atproto client, logged in as another account, to read records back."""
    bsky.account(handle)
    client = Client(base_url=bsky.url)
    client.login(handle, PASSWORD)
    return client


def get_record(bsky, uri: str) -> dict:
    """The record as stored (raw JSON), read with a plain client."""
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    params = DotDict({"repo": repo, "collection": collection, "rkey": rkey})
    return reader(bsky).invoke_query("com.atproto.repo.getRecord", params=params).content["value"]


def strong(ref: dict) -> dict:
    return {"uri": ref["uri"], "cid": ref["cid"]}


def test_prepare_to_post_sends_nothing_and_the_first_post_still_lands(bsky):
    """The runner's warm-up builds the client's post models ahead; no request, no record."""
    bot = bsky.platform()
    bot.prepare_to_post()
    assert sum(bsky.app.calls.values()) == 0  # not even a login
    ref = bot.post("Welcome to #sm35!", key=key("welcome"))
    assert get_record(bsky, ref.uri)["text"] == "Welcome to #sm35!"
    assert bsky.calls("com.atproto.repo.createRecord") == 1


def test_post_carries_facets_with_exact_byte_ranges(bsky):
    alice = bsky.account("alice.test")
    bot = bsky.platform()
    text = "Q1 ☕️ Ça va? What's your 🦋 setup? #SM35 cc @alice.test https://example.org/q1."
    ref = bot.post(text, key=key(), language="en")

    assert ref.network == "bluesky" and ref.id == record_key(key()) and is_valid_tid(ref.id)
    assert ref.uri == f"at://{bot.did}/{POST}/{ref.id}" and ref.cid
    record = get_record(bsky, ref.uri)
    assert record["text"] == text and record["langs"] == ["en"]
    pieces = [
        (piece, f["$type"].rsplit("#", 1)[1]) for piece, f in facet_slices(text, record["facets"])
    ]
    assert pieces == [
        ("#SM35", "tag"),
        ("@alice.test", "mention"),
        ("https://example.org/q1", "link"),
    ]
    features = [f["features"][0] for f in record["facets"]]
    assert features[0]["tag"] == "SM35" and features[1]["did"] == alice.did

    post = bot.fetch(ref)
    assert post.tags == ("sm35",) and post.mentions == (alice.did,)
    assert post.links == ("https://example.org/q1",) and post.author_handle == "bot.test"


def test_reply_refs_point_at_parent_and_root(bsky):
    bot = bsky.platform()
    question = bot.post("Q1 #sm35", key=key("q1"))
    follow_up = bot.post("Q1a: and why? #sm35", key=key("q1a"), reply_to=question)
    deeper = bot.post("Q1b #sm35", key=key("q1b"), reply_to=follow_up, root=question)

    reply = get_record(bsky, deeper.uri)["reply"]
    assert strong(reply["root"]) == {"uri": question.uri, "cid": question.cid}
    assert strong(reply["parent"]) == {"uri": follow_up.uri, "cid": follow_up.cid}
    first = get_record(bsky, follow_up.uri)["reply"]
    assert strong(first["root"]) == strong(first["parent"])
    assert strong(first["root"]) == {"uri": question.uri, "cid": question.cid}


def test_same_key_twice_is_one_post_through_the_duplicate_rkey_500(bsky):
    bot = bsky.platform()
    first = bot.post("Q2 #sm35", key=key("q2"))
    again = bot.post("Q2 #sm35", key=key("q2"))
    assert again == first
    # The second create hit the existing rkey (the sandbox answers 500, as the
    # reference PDS does); the adapter read the record back instead of failing.
    assert bsky.calls("com.atproto.repo.createRecord") == 2
    assert bsky.calls("com.atproto.repo.getRecord") == 1
    assert len(bsky.store.list_records(bot.did, POST)) == 1


def test_a_restarted_bot_finds_the_post_it_made_before_crashing(bsky):
    before = bsky.platform().post("Q3 #sm35", key=key("q3"))
    after = bsky.platform().post("Q3 #sm35", key=key("q3"))  # a new process, same key
    assert after.uri == before.uri and after.cid == before.cid
    assert len(bsky.store.list_records(bsky.account("bot.test").did, POST)) == 1


def test_different_posts_get_different_records(bsky):
    bot = bsky.platform()
    refs = {bot.post(f"Q{i} #sm35", key=key(f"q{i}")).uri for i in range(1, 6)}
    assert len(refs) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 301, "301 graphemes; Bluesky allows 300"),
        ("👨‍👩‍👧‍👦" * 121, "3025 UTF-8 bytes; Bluesky allows 3000 bytes"),
    ],
    ids=["graphemes", "bytes"],
)
def test_over_limit_text_is_refused_before_any_request(bsky, text, message):
    bot = bsky.platform()
    with pytest.raises(UsageError, match=message):
        bot.post(text, key=key())
    assert sum(bsky.app.calls.values()) == 0
    bot.check_length("x" * 300)  # the limit itself is fine
    assert bot.limits().max_characters == 300 and bot.limits().max_bytes == 3000


def test_rate_limit_is_rate_limited_error_with_retry_at(bsky):
    bot = bsky.platform()
    bot.account()  # log in first
    set_faults(bsky.app, rate_limit=1)
    started = datetime.now(UTC)
    with pytest.raises(RateLimitedError) as caught:
        bot.post("Q1 #sm35", key=key())
    error = caught.value
    assert error.network == "bluesky" and error.retry_at is not None
    assert started <= error.retry_at <= started + timedelta(seconds=10)


@pytest.mark.parametrize("fault", ["server_error", "bad_gateway", "unavailable", "drop"])
def test_server_errors_and_dropped_connections_are_transient(bsky, fault):
    bot = bsky.platform()
    bot.account()
    set_faults(bsky.app, **{fault: 1})
    with pytest.raises(TransientError):
        bot.post("Q1 #sm35", key=key())
    with pytest.raises(TransientError):
        bot.search_hashtag("sm35")
    clear_faults(bsky.app)
    assert bot.post("Q1 #sm35", key=key()).id == record_key(key())  # the retry works


def test_unreachable_server_is_transient(make_bluesky):
    bsky = make_bluesky()
    bot = bsky.platform()
    bsky.app.faults.settings.update({"unreachable": True})
    with pytest.raises(TransientError):
        bot.account()


def test_wrong_password_is_auth_error_without_the_password(bsky, caplog):
    bsky.account("bot.test")
    bot = bsky.platform(password="wrong-password-123")
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as caught:
        bot.post("Q1 #sm35", key=key())
    assert "wrong-password-123" not in str(caught.value) + caplog.text
    assert "wrong-password-123" not in repr(bot.__dict__)


def test_session_is_reused_across_posts_and_restarts(bsky, session_file, caplog):
    with caplog.at_level(logging.DEBUG):
        bot = bsky.platform(session_cache=session_file)
        for i in range(4):
            bot.post(f"Q{i} #sm35", key=key(f"q{i}"))
        assert bsky.calls("com.atproto.server.createSession") == 1

        restarted = bsky.platform(session_cache=type(session_file)(session_file.path))
        restarted.post("Q9 #sm35", key=key("q9"))
        restarted.account()
    assert bsky.calls("com.atproto.server.createSession") == 1
    assert bsky.calls("com.atproto.server.getSession") == 1  # checked once, then trusted

    mode = stat.S_IMODE(os.stat(session_file.path).st_mode)
    assert mode == 0o600
    saved = session_file.path.read_text()
    assert saved and saved not in caplog.text
    for part in saved.split(":::"):
        if len(part) > 40:  # the JWTs
            assert part not in caplog.text


def test_a_refused_cached_session_falls_back_to_the_password(bsky, session_file):
    session_file.save("bot.test:::did:plc:nobody:::bad.jwt.x:::bad.jwt.y:::" + bsky.url)
    bot = bsky.platform(session_cache=session_file)
    assert bot.post("Q1 #sm35", key=key()).id
    assert bsky.calls("com.atproto.server.createSession") == 1
    assert "bad.jwt" not in session_file.path.read_text()


def test_a_token_the_server_calls_expired_means_one_new_login_and_no_error(make_bluesky):
    clock = ManualClock()
    bsky = make_bluesky(clock=clock)
    bot = bsky.platform()
    bot.post("Q1 #sm35", key=key("q1"))
    clock.advance(hours=3)  # the server's clock runs ahead of the client's (accelerated demo)
    assert bot.post("Q2 #sm35", key=key("q2")).id
    assert bot.search_hashtag("sm35").posts
    assert bsky.calls("com.atproto.server.createSession") == 2


def test_thread_with_a_deleted_reply(bsky):
    bot = bsky.platform()
    question = bot.post("Q1 what do you use? #sm35", key=key())
    alice, bob, carol = (bsky.account(h).did for h in ("alice.test", "bob.test", "carol.test"))
    a1 = bsky.store.create_post(alice, "A1 notebooks #sm35", reply_to=question.uri)["uri"]
    b1 = bsky.store.create_post(bob, "same here", reply_to=a1)["uri"]
    c1 = bsky.store.create_post(carol, "A1 a wiki", reply_to=question.uri)["uri"]

    full = bot.thread(question)
    assert full.anchor.uri == question.uri
    assert {r.uri for r in full.replies} == {a1, b1, c1}
    by_uri = {r.uri: r for r in full.replies}
    assert by_uri[b1].parent_uri == a1 and by_uri[b1].root_uri == question.uri

    bsky.store.delete_post(a1)
    after = bot.thread(question)
    uris = {r.uri for r in after.replies}
    assert a1 not in uris and c1 in uris  # b1 may vanish with its branch, as on the AppView
    assert bot.fetch(bot.thread(question).anchor.ref()) is not None

    bot.delete(question)
    gone = bot.thread(question)
    assert gone.deleted and gone.incomplete
    assert bot.fetch(question) is None


def test_search_pages_through_every_tagged_post_in_the_window(bsky):
    bot = bsky.platform()
    alice = bsky.account("alice.test").did
    start = datetime.now(UTC) - timedelta(minutes=30)
    wanted = set()
    for i in range(7):
        at = start + timedelta(minutes=i)
        wanted.add(bsky.store.create_post(alice, f"A{i} #SM35 answer", created_at=at)["uri"])
    bsky.store.create_post(alice, "other chat #sm350", created_at=start)  # not our tag
    bsky.store.create_post(alice, "before #sm35", created_at=start - timedelta(hours=2))
    bsky.store.create_post(alice, "no facet #sm35", facets=[], created_at=start)

    since = start - timedelta(minutes=1)
    pages = list(iter_hashtag_pages(bot, "#sm35", since=since, cursor=None))
    found = [p for page in pages for p in page.posts]
    texts = {p.text for p in found}
    assert wanted <= {p.uri for p in found}
    assert "before #sm35" not in texts and "other chat #sm350" not in texts
    assert "no facet #sm35" in texts  # a bare #tag in the text still counts
    assert len(found) == len({p.uri for p in found})

    small = bot.search_hashtag("sm35", since=since, limit=3)
    assert len(small.posts) <= 3 and small.cursor
    second = bot.search_hashtag("sm35", since=since, limit=3, cursor=small.cursor)
    assert not {p.uri for p in small.posts} & {p.uri for p in second.posts}
    everything = list(iter_hashtag_posts(bot, "sm35", since=since))
    assert {p.uri for p in everything} == {p.uri for p in found}


def test_account_identity(bsky):
    ident = bsky.platform().account()
    assert ident.network == "bluesky" and ident.handle == "bot.test"
    assert ident.id.startswith("did:") and ident.display_name == "bot"
    assert ident.url == "https://bsky.app/profile/bot.test"


def test_links_use_bsky_app_unless_another_web_base_is_given(bsky):
    assert BlueskyPlatform("bot.test", "password").web == DEFAULT_WEB == "https://bsky.app"
    real = bsky.platform().post("Q1 default links #web", key=key("q1"))
    assert real.url == f"https://bsky.app/profile/bot.test/post/{real.id}"

    bot = bsky.platform(web="http://web.example/")
    ref = bot.post("Q2 other links #web", key=key("q2"))
    assert ref.url == f"http://web.example/profile/bot.test/post/{ref.id}"
    assert bot.fetch(ref).url == ref.url
    assert {p.url for p in bot.search_hashtag("web").posts} == {
        ref.url,
        real.url.replace("https://bsky.app", "http://web.example"),
    }
    assert bot.thread(ref).anchor.url == ref.url
    assert bot.account().url == "http://web.example/profile/bot.test"


def test_an_actor_the_appview_has_not_indexed_is_not_found(bsky):
    # The AppView answers 400 InvalidRequest "Profile not found" for an account it
    # hasn't indexed yet (a fresh one, on the reference network): not a refusal.
    client = reader(bsky)
    with pytest.raises(atx.BadRequestError) as caught:
        client.app.bsky.actor.get_profile({"actor": "nobody-here.test"})
    assert isinstance(translate(caught.value), NotFoundError)
    # Any other 400 stays a refused request.
    params = DotDict({"uri": f"at://{client.me.did}/{POST}/x", "depth": 5000})
    with pytest.raises(atx.BadRequestError) as refused:
        client.invoke_query("app.bsky.feed.getPostThread", params=params)
    assert type(translate(refused.value)) is PlatformError
