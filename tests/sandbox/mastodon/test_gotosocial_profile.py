"""The sandbox Mastodon playing GoToSocial, as the unmodified Mastodon.py client sees it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from mastodon import Mastodon
from mastodon.errors import MastodonNotFoundError, MastodonUnauthorizedError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from chatbot.sandbox.mastodon.ids import CROCKFORD, ULID_LENGTH, ulid_ms

from .conftest import Sandbox, start


@pytest.fixture
def gts() -> Iterator[Sandbox]:
    running = start(profile="gotosocial")
    try:
        yield running
    finally:
        running.server.stop()


def _ws_url(sandbox: Sandbox, query: str) -> str:
    return sandbox.url.replace("http://", "ws://") + "/api/v1/streaming?" + query


def _post(sandbox: Sandbox, who: str, text: str, **options: object) -> dict[str, object]:
    return sandbox.store.create_status(who, text, **options)  # type: ignore[no-any-return]


def test_ids_are_ulids_ordered_as_text_and_paged_by_text(gts: Sandbox) -> None:
    api = gts.register("ada")
    posted = [api.status_post(f"answer {n} #gtstag", visibility="public") for n in range(5)]
    # A backdated status (a late federated one) still sorts by its time.
    author = str(posted[0]["account"]["id"])
    early = gts.store.clock.now() - timedelta(hours=1)
    old = _post(gts, author, "from an hour ago #gtstag", created_at=early)
    for status in [*posted, old]:
        sid = str(status["id"])
        assert len(sid) == ULID_LENGTH and set(sid) <= set(CROCKFORD), sid
    assert ulid_ms(str(old["id"])) < ulid_ms(str(posted[0]["id"]))
    assert [str(s["id"]) for s in posted] == sorted(str(s["id"]) for s in posted)
    everything = api.timeline_hashtag("gtstag", limit=40)
    ids = [str(s["id"]) for s in everything]
    assert ids == sorted(ids, reverse=True) and ids[-1] == old["id"]
    newer = api.timeline_hashtag("gtstag", min_id=posted[1]["id"], limit=2)
    assert [s["id"] for s in newer] == [posted[3]["id"], posted[2]["id"]]  # the page just above
    older = api.timeline_hashtag("gtstag", max_id=posted[1]["id"], limit=40)
    assert [s["id"] for s in older] == [posted[0]["id"], old["id"]]
    since = api.timeline_hashtag("gtstag", since_id=posted[2]["id"], limit=40)
    assert [s["id"] for s in since] == [posted[4]["id"], posted[3]["id"]]


def test_instance_and_nodeinfo_say_gotosocial_and_advertise_wss(gts: Sandbox) -> None:
    api = gts.client()
    instance = requests.get(f"{gts.url}/api/v1/instance", timeout=5).json()
    host = gts.url.removeprefix("http://")
    assert instance["version"] == "0.20.1"
    assert instance["urls"]["streaming_api"] == f"wss://{host}"  # served over http all the same
    assert api.instance_v2()["configuration"]["urls"]["streaming"] == f"wss://{host}"
    nodeinfo = api.instance_nodeinfo()
    assert nodeinfo["software"]["name"] == "gotosocial"
    mastodon = start()
    try:
        plain = mastodon.client().instance_nodeinfo()
        streaming = requests.get(f"{mastodon.url}/api/v1/instance", timeout=5).json()["urls"]
    finally:
        mastodon.server.stop()
    assert plain["software"] == {"name": "mastodon", "version": "4.6.4"}
    assert streaming["streaming_api"].startswith("ws://")


def test_tag_timeline_is_404_until_the_tag_is_used_and_needs_a_token(gts: Sandbox) -> None:
    api = gts.register("ben")
    with pytest.raises(MastodonNotFoundError):
        api.timeline_hashtag("neverused")
    private = api.status_post("only for followers #neverused", visibility="private")
    assert api.timeline_hashtag("NeverUsed") == []  # known now, and nothing public in it
    api.status_delete(private)
    assert api.timeline_hashtag("neverused") == []  # a tag outlives its posts
    with pytest.raises(MastodonUnauthorizedError):
        gts.client().timeline_hashtag("neverused")


def test_a_status_and_its_context_need_a_token(gts: Sandbox) -> None:
    api = gts.register("cat")
    posted = api.status_post("A1 public #gtsread", visibility="public")
    assert api.status(posted["id"])["id"] == posted["id"]
    assert api.status_context(posted["id"]) == {"ancestors": [], "descendants": []}
    for read in (gts.client().status, gts.client().status_context):
        with pytest.raises(MastodonUnauthorizedError):
            read(posted["id"])


def test_tag_timeline_leaves_out_replies_to_other_accounts(gts: Sandbox) -> None:
    ada, ben = gts.register("ada"), gts.register("ben")
    public = {"visibility": "public"}  # new GoToSocial accounts post unlisted otherwise
    question = ada.status_post("Q1 what do you use? #chat", **public)
    own = ada.status_post("and a follow-up #chat", in_reply_to_id=question, **public)
    answer = ben.status_post("A1 a pencil #chat", in_reply_to_id=question, **public)
    listed = {s["id"] for s in ben.timeline_hashtag("chat")}
    assert listed == {question["id"], own["id"]}
    context = ben.status_context(question)
    assert answer["id"] in {s["id"] for s in context["descendants"]}  # found by its thread


def test_streams_only_over_websocket_with_a_token(gts: Sandbox) -> None:
    api = gts.register("cat")
    token = gts.store.token_for(str(api.me()["id"]))
    assert requests.get(f"{gts.url}/api/v1/streaming/hashtag?tag=x", timeout=5).status_code == 404
    assert requests.get(f"{gts.url}/api/v1/streaming/health", timeout=5).status_code == 404
    with pytest.raises(InvalidStatus) as refused:
        connect(_ws_url(gts, "stream=hashtag&tag=live"), open_timeout=5)
    assert refused.value.response.status_code == 401
    by_query = connect(_ws_url(gts, f"stream=hashtag&tag=live&access_token={token}"))
    by_header = connect(
        _ws_url(gts, "stream=hashtag&tag=live"),
        additional_headers={"Sec-WebSocket-Protocol": token},
    )
    with by_query, by_header:
        status = api.status_post("A2 streamed #Live", visibility="public")
        api.status_post("not in the tag", visibility="public")
        for socket in (by_query, by_header):
            message = json.loads(socket.recv(timeout=5))
            assert message["stream"] == ["hashtag", "live"] and message["event"] == "update"
            assert json.loads(message["payload"])["id"] == status["id"]
        api.status_delete(status)
        gone = json.loads(by_query.recv(timeout=5))
        assert (gone["event"], gone["payload"]) == ("delete", status["id"])


def test_a_dropped_stream_is_closed_by_the_server(gts: Sandbox) -> None:
    api = gts.register("dan")
    token = gts.store.token_for(str(api.me()["id"]))
    with connect(_ws_url(gts, f"stream=hashtag&tag=x&access_token={token}")) as socket:
        assert gts.store.drop_streams() == 1
        with pytest.raises(Exception) as closed:
            socket.recv(timeout=5)
        assert "1011" in str(closed.value) or "closed" in str(closed.value).lower()


def test_rate_limit_headers_on_every_answer_and_one_budget_per_address(gts: Sandbox) -> None:
    ada, ben = gts.register("ada"), gts.register("ben")
    ada.status_post("hello #x")
    ada.timeline_hashtag("x")
    before = ada.ratelimit_remaining
    ben.timeline_hashtag("x")
    ben.timeline_hashtag("x")
    ada.timeline_hashtag("x")
    # ben's calls came from the same address, so they spent ada's budget too.
    assert ada.ratelimit_remaining <= before - 3
    missing = requests.get(f"{gts.url}/api/v1/timelines/tag/nothere", timeout=5)
    assert missing.status_code == 401 and "X-RateLimit-Remaining" in missing.headers


def test_new_accounts_post_unlisted_unless_they_choose(gts: Sandbox) -> None:
    shy = str(gts.store.create_account("shy")["id"])
    bold = str(gts.store.create_account("bold", default_visibility="public")["id"])
    assert _post(gts, shy, "my answer #chat", visibility=None)["visibility"] == "unlisted"
    assert _post(gts, bold, "my answer #chat", visibility=None)["visibility"] == "public"
    reader = Mastodon(api_base_url=gts.url, access_token=gts.store.token_for(bold))
    assert [s["account"]["username"] for s in reader.timeline_hashtag("chat")] == ["bold"]
    source = reader.account_verify_credentials()["source"]
    assert source["privacy"] == "public"
    # Through the API too: a client that names no visibility gets the account's default.
    newcomer = gts.register("newcomer")
    assert newcomer.account_verify_credentials()["source"]["privacy"] == "unlisted"
    assert newcomer.status_post("A1 hello #chat")["visibility"] == "unlisted"
    assert newcomer.status_post("A1 again #chat", visibility="public")["visibility"] == "public"
