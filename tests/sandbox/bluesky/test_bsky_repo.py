"""com.atproto.repo.* through the real client: own record keys, duplicates, validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from atproto import client_utils, models
from atproto_client import exceptions

from chatbot.text.tid import tid_for_datetime

from .conftest import Sandbox

POST = "app.bsky.feed.post"


def _post_record(text: str) -> models.AppBskyFeedPost.Record:
    return models.AppBskyFeedPost.Record(text=text, created_at=datetime.now(UTC).isoformat())


def _create(client, rkey: str | None, text: str = "Q1 #sm35", repo: str | None = None):
    return client.com.atproto.repo.create_record(
        models.ComAtprotoRepoCreateRecord.Data(
            repo=repo or client.me.did, collection=POST, rkey=rkey, record=_post_record(text)
        )
    )


def test_own_tid_rkey_is_honoured_and_a_duplicate_fails_like_the_reference_pds(
    bsky: Sandbox,
) -> None:
    client = bsky.client("mod.test")
    rkey = tid_for_datetime(datetime(2026, 12, 1, 18, 0, tzinfo=UTC), 7)
    created = _create(client, rkey)
    assert created.uri == f"at://{client.me.did}/{POST}/{rkey}"
    assert created.cid.startswith("bafyrei") and created.validation_status == "valid"
    with pytest.raises(exceptions.RequestException) as caught:
        _create(client, rkey, "Q1 again")
    response = caught.value.response
    assert type(caught.value) is exceptions.RequestException
    assert response.status_code == 500 and response.content.error == "InternalServerError"
    # The recovery PLATFORMS.md prescribes: read the record back.
    got = client.com.atproto.repo.get_record(
        models.ComAtprotoRepoGetRecord.Params(repo=client.me.did, collection=POST, rkey=rkey)
    )
    assert got.value.text == "Q1 #sm35" and got.cid == created.cid


@pytest.mark.parametrize("rkey", ["not-a-tid", "3JZFCIJPJ2Z2A", "self", "kjzfcijpj2z2a"])
def test_post_rkeys_must_be_tids(bsky: Sandbox, rkey: str) -> None:
    client = bsky.client("mod.test")
    with pytest.raises(exceptions.BadRequestError) as caught:
        _create(client, rkey)
    assert caught.value.response.content.error == "InvalidRequest"


@pytest.mark.parametrize(
    ("text", "ok"),
    [("x" * 300, True), ("x" * 301, False), ("👩‍👩‍👧‍👦" * 120, True), ("👩‍👩‍👧‍👦" * 121, False)],
)
def test_post_text_limits_are_300_graphemes_and_3000_bytes(
    bsky: Sandbox, text: str, ok: bool
) -> None:
    client = bsky.client("mod.test")
    if ok:
        assert _create(client, None, text).uri
    else:
        with pytest.raises(exceptions.BadRequestError) as caught:
            _create(client, None, text)
        assert "must not be longer than" in caught.value.response.content.message


def test_writing_to_another_repo_or_without_login_is_refused(bsky: Sandbox) -> None:
    bsky.store.create_account("other.test", "x")
    client = bsky.client("mod.test")
    with pytest.raises(exceptions.UnauthorizedError):
        _create(client, None, repo="other.test")
    anonymous = bsky.client()
    with pytest.raises(exceptions.UnauthorizedError) as caught:
        anonymous.com.atproto.repo.create_record(
            models.ComAtprotoRepoCreateRecord.Data(
                repo="mod.test", collection=POST, record=_post_record("x")
            )
        )
    assert caught.value.response.content.error == "AuthMissing"


def test_get_record_of_a_missing_record_is_400_record_not_found(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    with pytest.raises(exceptions.BadRequestError) as caught:
        client.com.atproto.repo.get_record(
            models.ComAtprotoRepoGetRecord.Params(
                repo="mod.test", collection=POST, rkey="3jzfcijpj2z2a"
            )
        )
    assert caught.value.response.content.error == "RecordNotFound"


def test_put_overwrites_and_delete_removes(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    created = client.send_post("first version")
    rkey = created.uri.rsplit("/", 1)[1]
    put = client.com.atproto.repo.put_record(
        models.ComAtprotoRepoPutRecord.Data(
            repo=client.me.did, collection=POST, rkey=rkey, record=_post_record("second version")
        )
    )
    assert put.uri == created.uri and put.cid != created.cid
    assert client.get_posts([created.uri]).posts[0].record.text == "second version"
    assert client.delete_post(created.uri) is True
    assert client.get_posts([created.uri]).posts == []
    # Deleting again is not an error on the PDS either.
    assert client.delete_post(created.uri) is True


def test_list_records_pages_newest_first(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    uris = [client.send_post(f"post {i}").uri for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        page = client.com.atproto.repo.list_records(
            models.ComAtprotoRepoListRecords.Params(
                repo="mod.test", collection=POST, limit=2, cursor=cursor
            )
        )
        seen += [record.uri for record in page.records]
        cursor = page.cursor
        if not cursor:
            break
    assert seen == list(reversed(uris))


def test_threadgate_and_any_collection_can_be_stored(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    root = client.send_post(client_utils.TextBuilder().text("Q1 ").tag("#sm35", "sm35"))
    rkey = root.uri.rsplit("/", 1)[1]
    gate = client.com.atproto.repo.create_record(
        models.ComAtprotoRepoCreateRecord.Data(
            repo=client.me.did,
            collection="app.bsky.feed.threadgate",
            rkey=rkey,
            record=models.AppBskyFeedThreadgate.Record(
                post=root.uri, created_at=datetime.now(UTC).isoformat(), hidden_replies=[]
            ),
        )
    )
    assert gate.uri.endswith(f"app.bsky.feed.threadgate/{rkey}")
    custom = client.com.atproto.repo.create_record(
        {
            "repo": client.me.did,
            "collection": "com.example.note",
            "rkey": "any-key",
            "record": {"n": 1},
        }
    )
    assert custom.uri.endswith("com.example.note/any-key")


def test_reply_refs_must_be_strong_refs(bsky: Sandbox) -> None:
    client = bsky.client("mod.test")
    with pytest.raises(exceptions.BadRequestError):
        client.com.atproto.repo.create_record(
            {
                "repo": client.me.did,
                "collection": POST,
                "record": {
                    "$type": POST,
                    "text": "reply",
                    "createdAt": datetime.now(UTC).isoformat(),
                    "reply": {
                        "root": {"uri": "nope", "cid": "x"},
                        "parent": {"uri": "nope", "cid": "x"},
                    },
                },
            }
        )
