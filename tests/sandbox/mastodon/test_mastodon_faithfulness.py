"""The sandbox answers the recorded calls with the real server's shapes, headers and links.

Each real recording (Mastodon 4.6.4, see fixtures/real/SOURCES.md) is replayed as the
same call against the sandbox; the answers must have the same keys with the same JSON
types, recursively (null may stand for any type: Mastodon makes those fields nullable),
and the same rate-limit and Link headers. Deliberate differences are listed in
docs/sandbox.md and in ALLOWED_DIFFERENCES below.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import requests

from chatbot.sandbox.mastodon import MastodonStore
from tests.realdata import REAL_FIXTURES

from .conftest import Sandbox

REAL = REAL_FIXTURES / "mastodon"

# Keys the sandbox leaves out on purpose, by path ("*" matches any list index).
ALLOWED_DIFFERENCES = {
    # mastodon.social was recorded on a nightly from before 4.6 added feature_approval.
    "$.ancestors[*].account.feature_approval",
    "$.descendants[*].account.feature_approval",
}


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def shape_differences(real: Any, ours: Any, path: str = "$") -> list[str]:
    """Where ``ours`` differs from ``real`` in keys or JSON types (null matches anything)."""
    if real is None or ours is None:
        return []
    if _type(real) != _type(ours):
        return [f"{path}: real {_type(real)}, sandbox {_type(ours)}"]
    problems: list[str] = []
    if isinstance(real, dict):
        for key in real.keys() | ours.keys():
            where = f"{path}.{key}"
            if re.sub(r"\[\d+\]", "[*]", where) in ALLOWED_DIFFERENCES:
                continue
            if key not in ours:
                problems.append(f"{where}: missing in the sandbox")
            elif key not in real:
                problems.append(f"{where}: not in the real answer")
            else:
                problems.extend(shape_differences(real[key], ours[key], where))
    elif isinstance(real, list) and real and ours:
        # Compare every real item with the sandbox's first: items of one list share a shape.
        for index, item in enumerate(real):
            problems.extend(shape_differences(item, ours[0], f"{path}[{index}]"))
    return problems


def _exchanges() -> dict[str, dict[str, Any]]:
    return {item["file"]: item for item in json.loads((REAL / "exchanges.json").read_text())}


class World:
    """The recorded scene rebuilt in the sandbox: two accounts, a tagged post, a thread."""

    def __init__(self, box: Sandbox):
        self.box = box
        store: MastodonStore = box.store
        test = store.create_account(
            "mastodonpy_test", display_name="John Lennon", note="I walk funny"
        )
        other = store.create_account("mastodonpy_test_2")
        self.token = store.token_for(test["id"])
        self.other_token = store.token_for(other["id"])
        self.parent = store.create_status(other["id"], "Toot, finally!")["id"]
        self.hoot = store.create_status(test["id"], "#hoot (hashtag toot)")["id"]
        self.plain = store.create_status(test["id"], "Toot!", visibility="unlisted")["id"]
        self.reply = store.create_status(
            test["id"], "@mastodonpy_test_2 same!", in_reply_to_id=self.parent
        )["id"]
        self.gone = store.create_status(test["id"], "gone")["id"]
        first = store.create_status(test["id"], "first status")["id"]
        self.middle = store.create_status(test["id"], "test?", in_reply_to_id=first)["id"]
        store.create_status(test["id"], "final status", in_reply_to_id=self.middle)
        store.delete_status(self.gone)

    def call(
        self, method: str, path: str, *, token: str | None = "self", **kwargs: Any
    ) -> requests.Response:
        headers = {}
        bearer = self.token if token == "self" else token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return requests.request(
            method, f"{self.box.url}{path}", headers=headers, timeout=10, **kwargs
        )


CALLS: dict[str, Callable[[World], requests.Response]] = {
    "status_post.json": lambda w: w.call("POST", "/api/v1/statuses", data={"status": "Toot!"}),
    "status_post_hashtag.json": lambda w: w.call(
        "POST", "/api/v1/statuses", data={"status": "#hoot (hashtag toot)"}
    ),
    "status_reply_parent.json": lambda w: w.call(
        "POST", "/api/v1/statuses", data={"status": "Toot, finally!"}
    ),
    "status_reply.json": lambda w: w.call(
        "POST",
        "/api/v1/statuses",
        data={
            "status": "@mastodonpy_test_2 same!",
            "in_reply_to_id": w.parent,
            "visibility": "public",
        },
    ),
    "status_get.json": lambda w: w.call("GET", f"/api/v1/statuses/{w.plain}"),
    "status_delete.json": lambda w: w.call("DELETE", f"/api/v1/statuses/{w.plain}"),
    "status_delete_hashtag.json": lambda w: w.call("DELETE", f"/api/v1/statuses/{w.hoot}"),
    "status_reply_delete.json": lambda w: w.call("DELETE", f"/api/v1/statuses/{w.reply}"),
    "timeline_hashtag.json": lambda w: w.call("GET", "/api/v1/timelines/tag/hoot"),
    "status_context_empty.json": lambda w: w.call("GET", f"/api/v1/statuses/{w.plain}/context"),
    "status_context_mastodon_social.json": lambda w: w.call(
        "GET", f"/api/v1/statuses/{w.middle}/context"
    ),
    "instance_v1.json": lambda w: w.call("GET", "/api/v1/instance/"),
    "instance_v2.json": lambda w: w.call("GET", "/api/v2/instance/"),
    "error_401_home_anonymous.json": lambda w: w.call("GET", "/api/v1/timelines/home", token=None),
    "error_404_status_missing.json": lambda w: w.call("GET", "/api/v1/statuses/0"),
    "error_404_delete_twice.json": lambda w: w.call("DELETE", f"/api/v1/statuses/{w.gone}"),
    "error_422_status_empty.json": lambda w: w.call(
        "POST", "/api/v1/statuses", data={"status": ""}
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_shape_as_the_real_answer(sandbox: Sandbox, name: str):
    world = World(sandbox)
    real = json.loads((REAL / name).read_text())
    response = CALLS[name](world)
    exchange = _exchanges()[name]
    assert response.status_code == exchange["response"]["status"], response.text
    ours = response.json()
    assert shape_differences(real, ours) == []


# Which bucket each recorded call draws on: its limit, and the period its reset lies on.
PERIODS = {"300/reads": 300, "300/statuses": 3 * 3600, "30/deletes": 1800}


def _bucket(method: str, path: str, limit: str) -> str:
    if method == "DELETE":
        return f"{limit}/deletes"
    if method in ("POST", "PUT") and path.startswith("/api/v1/statuses"):
        return f"{limit}/statuses"
    return f"{limit}/reads"


def _on_boundary(reset: str, period: int) -> bool:
    moment = datetime.strptime(reset, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(moment.timestamp()) % period == 0


@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_rate_limit_headers(sandbox: Sandbox, name: str):
    world = World(sandbox)
    exchange = _exchanges()[name]
    recorded = exchange["response"]["headers"]
    response = CALLS[name](world)
    if "x-ratelimit-limit" not in recorded:
        return
    path = re.sub(r"^https?://[^/]+", "", exchange["request"]["uri"])
    bucket = _bucket(exchange["request"]["method"], path, recorded["x-ratelimit-limit"])
    assert bucket in PERIODS, f"the recording uses a bucket the sandbox lacks: {bucket}"
    assert _on_boundary(recorded["x-ratelimit-reset"], PERIODS[bucket])
    assert response.headers["X-RateLimit-Limit"] == recorded["x-ratelimit-limit"]
    assert response.headers["X-RateLimit-Remaining"].isdigit()
    assert _on_boundary(response.headers["X-RateLimit-Reset"], PERIODS[bucket])


def _link_shape(link: str, base: str, ids: list[str]) -> str:
    for index, value in enumerate(ids):
        link = link.replace(value, f"<id{index}>")
    return link.replace(base, "BASE")


def test_paging_links_as_recorded(sandbox: Sandbox):
    """The recorded 30-status walk with limit=10: links, then an empty page without one."""
    tag = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"
    account = sandbox.store.create_account("mastodonpy_test")
    ids = [
        sandbox.store.create_status(account["id"], f"Toot number {i}! #{tag}")["id"]
        for i in range(30)
    ]
    exchanges = _exchanges()
    real_ids = [
        str(s["id"])
        for page in (
            "timeline_hashtag_page1.json",
            "timeline_hashtag_page2.json",
            "timeline_hashtag_page3.json",
        )
        for s in json.loads((REAL / page).read_text())
    ]
    ours_ids = list(reversed(ids))
    for page_name in ("page1", "page2", "page3", "page4_empty"):
        exchange = exchanges[f"timeline_hashtag_{page_name}.json"]
        real_uri = exchange["request"]["uri"]
        query = real_uri.split("?", 1)[1]
        for index, value in enumerate(real_ids):
            query = query.replace(value, ours_ids[index])
        response = requests.get(f"{sandbox.url}/api/v1/timelines/tag/{tag}?{query}", timeout=10)
        real_link = exchange["response"]["headers"].get("link")
        if real_link is None:
            assert response.json() == [] and "Link" not in response.headers
            continue
        assert _link_shape(response.headers["Link"], sandbox.url, ours_ids) == _link_shape(
            real_link, "http://localhost:3000", real_ids
        )


def _sse_events(lines: list[str]) -> list[tuple[str, str]]:
    events, name = [], None
    for line in lines:
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name:
            events.append((name, line[len("data: ") :]))
            name = None
    return events


def test_streamed_events_have_the_recorded_shape(sandbox: Sandbox):
    real = dict(reversed(_sse_events((REAL / "streaming_user.sse").read_text().splitlines())))
    account = sandbox.store.create_account("mastodonpy_test")
    token = sandbox.store.token_for(account["id"])
    url = f"{sandbox.url}/api/v1/streaming/hashtag?tag=hoot"
    headers = {"Authorization": f"Bearer {token}"}
    with requests.get(url, headers=headers, stream=True, timeout=10) as response:
        lines = response.iter_lines(decode_unicode=True)
        assert next(lines) == ":)"  # as the real server greets
        deadline = time.monotonic() + 5
        while not sandbox.store._subscriptions:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        status = sandbox.store.create_status(account["id"], "it's cool guy #hoot")
        sandbox.store.edit_status(status["id"], "it's a cool guy #hoot")
        sandbox.store.delete_status(status["id"])
        seen: list[str] = []
        while len(_sse_events(seen)) < 3:
            seen.append(next(lines))
    ours = dict(_sse_events(seen))
    for name in ("update", "status.update"):
        assert shape_differences(json.loads(real[name]), json.loads(ours[name])) == []
        assert list(json.loads(ours[name]))[-6:] == list(json.loads(real[name]))[-6:]
    assert real["delete"].isdigit() and ours["delete"] == status["id"]
