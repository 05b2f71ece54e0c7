"""The Mastodon adapter with the real Mastodon.py client over HTTP against the sandbox."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from mastodon import Mastodon

import chatbot.sandbox.mastodon as sandbox_mastodon
from chatbot.errors import AuthError, RateLimitedError, TransientError, UsageError
from chatbot.platforms.base import iter_hashtag_pages
from chatbot.platforms.keys import post_key
from chatbot.platforms.mastodon import MastodonPlatform
from chatbot.sandbox.server import SandboxHTTPServer
from chatbot.sandbox.web import HttpError
from tests.platforms.conftest import MastodonSandbox, clear_faults, counting, set_faults

DUE = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def key(post: str = "q1", event: str = "sm35-2026-11-26") -> str:
    return post_key(event, post, DUE)


def reader(masto) -> Mastodon:
    """A plain Mastodon.py client as another account, to read statuses back."""
    return Mastodon(api_base_url=masto.url, access_token=masto.token("reader"))


def test_post_with_visibility_language_and_tags(masto):
    bot = masto.platform(visibility="unlisted")
    ref = bot.post("Q1 what's your setup? #SM35 https://example.org/q1", key=key(), language="de")
    status = reader(masto).status(ref.id)
    assert str(status["id"]) == ref.id and status["uri"] == ref.uri and status["url"] == ref.url
    assert status["visibility"] == "unlisted" and status["language"] == "de"
    assert [t["name"].lower() for t in status["tags"]] == ["sm35"]
    post = bot.fetch(ref)
    assert post.tags == ("sm35",) and post.links == ("https://example.org/q1",)
    assert post.text == "Q1 what's your setup? #SM35 https://example.org/q1"
    assert masto.platform().post("Q2 #sm35", key=key("q2")).id  # public by default


def test_reply_sets_in_reply_to(masto):
    bot = masto.platform()
    question = bot.post("Q1 #sm35", key=key("q1"))
    follow_up = bot.post("Q1a #sm35", key=key("q1a"), reply_to=question)
    assert str(reader(masto).status(follow_up.id)["in_reply_to_id"]) == question.id


def test_same_key_twice_is_one_status(masto):
    bot = masto.platform()
    first = bot.post("Q3 #sm35", key=key("q3"))
    assert bot.post("Q3 #sm35", key=key("q3")) == first
    assert masto.platform().post("Q3 #sm35", key=key("q3")) == first  # a restarted bot
    assert len(masto.store.find_statuses(tag="sm35")) == 1
    other = bot.post("Q3 #sm35", key=key("q3", event="another-event"))
    assert other.id != first.id


def test_instance_limit_is_read_once_and_urls_count_23(make_mastodon):
    masto = make_mastodon(max_characters=100)
    bot = masto.platform()
    assert bot.limits().max_characters == 100 and bot.limits().url_weight == 23
    long_link = "https://example.org/" + "a" * 200
    fits = "x" * 70 + " " + long_link  # 70 + 1 + 23 = 94 characters as Mastodon counts
    assert bot.length(fits) == 94
    assert bot.post(fits, key=key("fits")).id
    with pytest.raises(UsageError, match=r"101 characters; Mastodon allows 100"):
        bot.post("y" * 77 + " " + long_link, key=key("long"))
    assert masto.calls("POST", "/api/v1/statuses") == 1  # the long one never left
    assert masto.calls("GET", "/api/v2/instance/") == 1


def test_prepare_to_post_reads_the_limits_once_and_posts_nothing(make_mastodon):
    masto = make_mastodon(max_characters=100)
    bot = masto.platform()
    bot.prepare_to_post()
    assert masto.calls("GET", "/api/v2/instance/") == 1
    assert masto.calls("POST", "/api/v1/statuses") == 0
    with pytest.raises(UsageError, match="Mastodon allows 100"):  # the limits are known
        bot.post("z" * 101, key=key("long"))
    assert masto.calls("GET", "/api/v2/instance/") == 1


def test_over_limit_is_refused_with_the_instance_named(masto):
    bot = masto.platform()
    with pytest.raises(UsageError) as caught:
        bot.check_length("z" * 501)
    assert "501 characters" in str(caught.value) and masto.url in str(caught.value)
    assert masto.calls("POST", "/api/v1/statuses") == 0


def test_rate_limit_fault_gives_retry_at(masto):
    bot = masto.platform()
    bot.limits()
    set_faults(masto.app, rate_limit=1)
    started = datetime.now(UTC)
    with pytest.raises(RateLimitedError) as caught:
        bot.post("Q1 #sm35", key=key())
    assert caught.value.network == "mastodon"
    assert caught.value.retry_at is not None
    assert started < caught.value.retry_at <= started + timedelta(seconds=10)


def test_real_posting_limit_gives_retry_at_at_the_window_reset(make_mastodon):
    module = sandbox_mastodon
    limits = module.RateLimits(statuses=module.Limit(2, 3600))
    masto = make_mastodon(rate_limits=limits)
    bot = masto.platform()
    bot.post("one #sm35", key=key("a"))
    bot.post("two #sm35", key=key("b"))
    with pytest.raises(RateLimitedError) as caught:
        bot.post("three #sm35", key=key("c"))
    assert caught.value.retry_at is not None
    assert caught.value.retry_at <= datetime.now(UTC) + timedelta(hours=1, seconds=5)


@pytest.mark.parametrize("fault", ["server_error", "bad_gateway", "unavailable", "drop"])
def test_server_errors_and_dropped_connections_are_transient(masto, fault):
    bot = masto.platform()
    bot.limits()
    set_faults(masto.app, **{fault: 1})
    with pytest.raises(TransientError):
        bot.post("Q1 #sm35", key=key())
    with pytest.raises(TransientError):
        bot.search_hashtag("sm35")
    clear_faults(masto.app)
    assert bot.post("Q1 #sm35", key=key()).id


def test_bad_token_is_auth_error_without_the_token(masto, caplog):
    bot = MastodonPlatform(masto.url, "not-a-real-token-0123456789")
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as caught:
        bot.account()
    assert "not-a-real-token" not in str(caught.value) + caplog.text


def test_thread_with_a_deleted_reply(masto):
    bot = masto.platform()
    question = bot.post("Q1 what do you use? #sm35", key=key())
    store = masto.store
    alice, bob = masto.account_id("alice"), masto.account_id("bob")
    a1 = store.create_status(alice, "A1 notebooks #sm35", in_reply_to_id=question.id)["id"]
    b1 = store.create_status(bob, "@alice same", in_reply_to_id=a1)["id"]
    c1 = store.create_status(bob, "A1 a wiki", in_reply_to_id=question.id)["id"]

    thread = bot.thread(question)
    assert thread.anchor.id == question.id and not thread.incomplete
    by_id = {r.id: r for r in thread.replies}
    assert set(by_id) == {a1, b1, c1}
    assert by_id[b1].parent_uri == by_id[a1].uri and by_id[b1].root_uri == question.uri

    store.delete_status(a1)
    after = bot.thread(question)
    assert a1 not in {r.id for r in after.replies} and c1 in {r.id for r in after.replies}
    assert bot.fetch(after.anchor.ref()).id == question.id

    bot.delete(question)
    bot.delete(question)  # already gone: fine
    gone = bot.thread(question)
    assert gone.deleted and gone.incomplete
    assert bot.fetch(question) is None


def test_search_pages_newest_first_within_the_window(masto):
    bot = masto.platform()
    alice = masto.account_id("alice")
    start = datetime.now(UTC) - timedelta(minutes=30)
    wanted = set()
    masto.store.create_status(alice, "before #sm35", created_at=start - timedelta(hours=2))
    for i in range(7):
        at = start + timedelta(minutes=i)
        wanted.add(masto.store.create_status(alice, f"A{i} #sm35", created_at=at)["id"])
    masto.store.create_status(alice, "other #sm350", created_at=start)

    since = start - timedelta(minutes=1)
    first = bot.search_hashtag("#sm35", since=since, limit=3)
    assert len(first.posts) == 3 and first.cursor
    assert [p.created_at for p in first.posts] == sorted(
        (p.created_at for p in first.posts), reverse=True
    )
    pages = list(iter_hashtag_pages(bot, "sm35", since=since))
    found = [p for page in pages for p in page.posts]
    assert {p.id for p in found} == wanted and len(found) == len(wanted)
    assert all(isinstance(p.id, str) for p in found)


def test_account_identity(masto):
    ident = masto.platform().account()
    assert ident.network == "mastodon" and ident.handle == "bot" and ident.id.isdigit()


def test_limits_fall_back_to_instance_v1(make_mastodon):
    module = sandbox_mastodon

    class NoV2(module.MastodonApp):
        """An older server: /api/v2/instance is not there."""

        def dispatch(self, request):
            if request.path.startswith("/api/v2/instance"):
                return self.error_response(HttpError(404, "Not Found"))
            return super().dispatch(request)

    app = counting(NoV2)(max_characters=321)
    with SandboxHTTPServer(app) as server:
        app.store.base_url = server.url
        bot = MastodonSandbox(app, server).platform()
        assert bot.limits().max_characters == 321
        assert app.calls["GET /api/v1/instance/"] == 1
