"""Hashtag timelines and their id paging, through Mastodon.py's own pagination helpers."""

from __future__ import annotations

import requests
from mastodon import Mastodon

from .conftest import Sandbox


def _post_many(sandbox: Sandbox, count: int, tag: str = "sm35") -> list[str]:
    account = sandbox.store.create_account("poster")
    return [sandbox.store.create_status(account["id"], f"A{i} #{tag}")["id"] for i in range(count)]


def test_newest_first_default_limit_and_cap(sandbox: Sandbox, alice: Mastodon):
    ids = _post_many(sandbox, 45)
    page = alice.timeline_hashtag("sm35")
    assert [str(s.id) for s in page] == list(reversed(ids))[:20]
    assert len(alice.timeline_hashtag("sm35", limit=100)) == 40


def test_fetch_next_and_previous_neither_skip_nor_repeat(sandbox: Sandbox, alice: Mastodon):
    ids = _post_many(sandbox, 61)
    seen: list[str] = []
    page = alice.timeline_hashtag("sm35", limit=7)
    while page:
        seen.extend(str(s.id) for s in page)
        page = alice.fetch_next(page)
    assert seen == list(reversed(ids))

    # Walk back up from the oldest page with fetch_previous (min_id).
    oldest = alice.timeline_hashtag("sm35", limit=7, max_id=ids[6])
    up: list[str] = [str(s.id) for s in oldest]
    page = alice.fetch_previous(oldest)
    while page:
        up.extend(str(s.id) for s in page)
        page = alice.fetch_previous(page)
    assert sorted(up, key=int) == ids and len(set(up)) == len(up)  # every one once


def test_min_id_polling_and_since_id(sandbox: Sandbox, alice: Mastodon):
    ids = _post_many(sandbox, 30)
    # min_id gives the page just above it (oldest first chosen, newest first shown).
    page = alice.timeline_hashtag("sm35", min_id=ids[4], limit=5)
    assert [str(s.id) for s in page] == list(reversed(ids[5:10]))
    # since_id gives the newest page above it.
    page = alice.timeline_hashtag("sm35", since_id=ids[4], limit=5)
    assert [str(s.id) for s in page] == list(reversed(ids[25:30]))
    # Nothing new: an empty list.
    assert alice.timeline_hashtag("sm35", min_id=ids[-1]) == []


def test_link_headers_as_recorded(sandbox: Sandbox, alice: Mastodon):
    ids = _post_many(sandbox, 3, tag="hoot")
    url = f"{sandbox.url}/api/v1/timelines/tag/hoot"
    response = requests.get(url, params={"limit": 2}, timeout=10)
    assert response.headers["Link"] == (
        f'<{url}?limit=2&max_id={ids[1]}>; rel="next", <{url}?limit=2&min_id={ids[2]}>; rel="prev"'
    )
    one = requests.get(url, params={"limit": 2, "max_id": ids[1]}, timeout=10)
    assert f"max_id={ids[0]}" in one.headers["Link"] and f"min_id={ids[0]}" in one.headers["Link"]
    empty = requests.get(url, params={"limit": 2, "max_id": ids[0]}, timeout=10)
    assert empty.json() == [] and "Link" not in empty.headers


def test_tags_match_case_insensitively_and_only_public_statuses(sandbox: Sandbox, alice: Mastodon):
    public = alice.status_post("Q1 #SM35")
    alice.status_post("Q1 again #sm35", visibility="unlisted")
    alice.status_post("Q1 private #sm35", visibility="private")
    alice.status_post("not tagged sm35 and #sm350")
    assert [s.id for s in alice.timeline_hashtag("Sm35")] == [public.id]
    assert [s.id for s in sandbox.client().timeline_hashtag("sm35", local=True)] == [public.id]
    assert alice.timeline_hashtag("sm35", remote=True) == []


def test_deleted_statuses_leave_the_timeline(sandbox: Sandbox, alice: Mastodon):
    kept = alice.status_post("A #sm35")
    gone = alice.status_post("B #sm35")
    alice.status_delete(gone)
    assert [s.id for s in alice.timeline_hashtag("sm35")] == [kept.id]


def test_public_and_account_timelines(sandbox: Sandbox, alice: Mastodon, bob: Mastodon):
    question = alice.status_post("Q1 #sm35")
    answer = bob.status_reply(question, "A1")
    assert [s.id for s in alice.timeline_public()] == [question.id]
    assert [s.id for s in alice.account_statuses(bob.me())] == [answer.id]
    assert alice.account_statuses(bob.me(), exclude_replies=True) == []
