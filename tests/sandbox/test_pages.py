"""The sandbox's web pages: every link the bot gives for a sandbox post opens a safe page there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from chatbot.demo import bot_platforms
from chatbot.platforms.keys import post_key
from chatbot.sandbox.bluesky import NO_UNAUTHENTICATED
from chatbot.sandbox.crowd.hostile import HOSTILE_PAYLOADS
from chatbot.sandbox.pages import CONTENT_SECURITY_POLICY
from chatbot.sandbox.runner import Sandbox
from tests.recap.htmltree import Node, parse

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)> #pages'
DUE = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
# Every element a sandbox page may contain; anything else came from a post.
ALLOWED = {
    "", "html", "head", "meta", "title", "style", "body", "header", "main",
    "article", "p", "a", "span", "time", "h1", "h2",
}  # fmt: skip


# One client for every page: making an httpx client per request costs more than the request.
HTTP = httpx.Client(timeout=10)


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    HTTP.close()


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(seed=3) as running:
        yield running


def key(post: str) -> str:
    return post_key("pages-2026-11-26", post, DUE)


def fetch(url: str, status: int = 200) -> Node:
    """GET a page; check its status, that it is inert HTML, and return its tree."""
    response = HTTP.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in policy and "script" not in policy and "unsafe" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    root, errors = parse(response.text)
    assert errors == []
    nodes = list(root.iter())
    assert {node.tag for node in nodes} <= ALLOWED
    assert not [name for node in nodes for name in node.attrs if name.startswith("on")]
    hrefs = [node.attrs.get("href") or "" for node in root.iter("a")]
    assert all(href.startswith("/") for href in hrefs), hrefs
    return root


def texts(root: Node) -> list[str]:
    return [node.text() for node in root.iter("p") if "text" in node.classes()]


def path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_bluesky_post_by_the_bot_links_to_its_page_on_the_sandbox(box: Sandbox) -> None:
    bot = bot_platforms(box)["bluesky"]
    ref = bot.post(HOSTILE, key=key("q1"))
    assert ref.url == f"{box.bluesky_url}/profile/chatbot.sandbox.test/post/{ref.id}"
    page = fetch(ref.url)
    assert texts(page) == [HOSTILE]
    assert "Chat bot (sandbox)" in page.find("article").text()
    # The same page by DID, as links to authors without a handle name them.
    assert texts(fetch(f"{box.bluesky_url}/profile/{bot.did}/post/{ref.id}")) == [HOSTILE]

    # Collected posts (fetch, threads, search) carry links on the sandbox too.
    fetched = bot.fetch(ref)
    assert fetched is not None and fetched.url == ref.url
    store = box.bluesky
    eve = store.create_account("eve.test", "pw", display_name="Eve <b>")
    reply = store.create_post(eve.did, "A1 me too #pages", reply_to=ref.uri)
    [answer] = bot.thread(ref).replies
    assert answer.url == f"{box.bluesky_url}/profile/eve.test/post/{reply['uri'].split('/')[-1]}"
    found = bot.search_hashtag("pages").posts
    assert {post.url for post in found} == {ref.url, answer.url}
    reply_page = fetch(answer.url)
    assert texts(reply_page) == ["A1 me too #pages"]
    parent = reply_page.find("a", href=path(ref.url))
    assert parent is not None and parent.text() == "@chatbot.sandbox.test"

    identity = bot.account()
    assert identity.url == f"{box.bluesky_url}/profile/chatbot.sandbox.test"
    profile = fetch(identity.url)
    assert profile.find("h1").text() == "Chat bot (sandbox)"
    assert texts(profile) == [HOSTILE]

    bot.delete(ref)
    gone = fetch(ref.url, 404)
    assert gone.find("h1").text() == "Not found"
    assert "Reply to a post that is gone" in fetch(answer.url).text()


def test_a_mastodon_status_by_the_bot_has_a_page_at_its_url(box: Sandbox) -> None:
    bot = bot_platforms(box)["mastodon"]
    ref = bot.post(HOSTILE, key=key("q1"))
    assert ref.url == f"{box.mastodon_url}/@chatbot/{ref.id}"
    assert texts(fetch(ref.url)) == [HOSTILE]

    store = box.mastodon
    mal = store.create_account("mal", display_name="<i>Mal</i>", note="bio <script>x</script>")
    reply = store.create_status(mal["id"], "A1 <b>yes</b>", in_reply_to_id=ref.id)
    reply_page = fetch(reply["url"])
    assert texts(reply_page) == ["A1 <b>yes</b>"]
    assert reply_page.find("a", href=path(ref.url)).text() == "@chatbot"
    store.edit_status(reply["id"], "A1 <b>yes</b>, edited")
    edited = fetch(reply["url"])
    assert texts(edited) == ["A1 <b>yes</b>, edited"] and "edited" in edited.find("p").text()
    profile = fetch(mal["url"])
    assert profile.find("h1").text() == "<i>Mal</i>"
    assert texts(profile) == ["bio <script>x</script>", "A1 <b>yes</b>, edited"]

    identity = bot.account()
    assert identity.url == f"{box.mastodon_url}/@chatbot"
    assert texts(fetch(identity.url)) == [HOSTILE]

    bot.delete(ref)
    fetch(ref.url, 404)
    assert "Reply to a post that is gone" in fetch(reply["url"]).text()


def test_unknown_deleted_and_private_posts_are_404_pages(box: Sandbox) -> None:
    blue, masto = box.bluesky_url, box.mastodon_url
    bot_did = box.bot_ids["bluesky"]
    for url in (
        f"{blue}/profile/nobody.test",
        f"{blue}/profile/nobody.test/post/3kabcdefghijk",
        f"{blue}/profile/chatbot.sandbox.test/post/3kabcdefghijk",
        f"{blue}/profile/{bot_did}/post/not-a-key",
        f"{masto}/@nobody",
        f"{masto}/@nobody/1",
        f"{masto}/@chatbot/1",
    ):
        assert fetch(url, 404).find("h1").text() == "Not found", url
    store = box.mastodon
    other = store.create_account("other")
    secret = store.create_status(box.bot_ids["mastodon"], "for @other only", visibility="private")
    fetch(secret["url"], 404)
    fetch(f"{masto}/@other/{secret['id']}", 404)  # someone else's status under this name
    unlisted = store.create_status(other["id"], "quiet", visibility="unlisted")
    assert texts(fetch(unlisted["url"])) == ["quiet"]


def test_every_hostile_payload_stays_text(box: Sandbox) -> None:
    blue, masto = box.bluesky, box.mastodon
    eve = blue.create_account("eve.test", "pw", display_name=HOSTILE_PAYLOADS[0])
    mal = masto.create_account("mal", display_name=HOSTILE_PAYLOADS[1])
    for payload in HOSTILE_PAYLOADS:
        view = blue.create_post(eve.did, payload)
        url = f"{box.bluesky_url}/profile/eve.test/post/{view['uri'].split('/')[-1]}"
        assert texts(fetch(url)) == [payload]
        status = masto.create_status(mal["id"], payload)
        assert texts(fetch(status["url"])) == [payload.strip()]
    assert len(texts(fetch(f"{box.bluesky_url}/profile/eve.test"))) == 30
    assert len(texts(fetch(f"{box.mastodon_url}/@mal"))) == 30


def test_an_account_shown_to_signed_in_people_only_keeps_its_posts_off_the_page(
    box: Sandbox,
) -> None:
    store = box.bluesky
    shy = store.create_account("shy.test", "pw", description="my bio")
    view = store.create_post(shy.did, "only for people signed in #pages")
    store.set_self_labels(shy.did, [NO_UNAUTHENTICATED])
    url = f"{box.bluesky_url}/profile/shy.test/post/{view['uri'].split('/')[-1]}"
    for page in (fetch(url), fetch(f"{box.bluesky_url}/profile/shy.test")):
        assert texts(page) == []
        assert "signed in" in page.text() and "only for people" not in page.text()
        assert "my bio" not in page.text()
