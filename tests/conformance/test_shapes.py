"""The sandbox answers the bot's calls with the reference network's statuses, errors and keys.

One scripted scene (two accounts, a post with every facet, a reply, a
threadgate, reads, a delete, refusals) is played on both targets over plain
HTTP; each answer's status, XRPC error name and the set of its key paths with
their JSON types must be the same, except for the differences listed in
``KNOWN`` (each explained in docs/conformance.md).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import httpx

from .conftest import Target, eventually

POST = "app.bsky.feed.post"
_VIEWER = ["author.viewer.mutedOnlyQuoteposts:bool", "author.viewer.mutedOnlyReposts:bool"]
_POST_VIEW = {"-author.createdAt:str", *(f"+{p}" for p in _VIEWER), "+viewer.replyDisabled:bool"}
# Key paths only one side has: "-" sandbox only, "+" reference only; "*" any depth prefix.
KNOWN = {
    "describeServer": {
        "-.phoneVerificationRequired:bool",
        "-.links:{}",
        "+.blobUploadLimit:int",
        "+.links.privacyPolicy:str",
        "+.links.termsOfService:str",
    },
    "createAccount": {"+.didDoc*"},
    "getProfile": {"-.createdAt:str", "-.indexedAt:str", *(f"+.{p[7:]}" for p in _VIEWER)},
    "searchPosts": {"-.hitsTotal:int", *(f"{s[0]}*.{s[1:]}" for s in _POST_VIEW)},
    "getPosts": {f"{s[0]}*.{s[1:]}" for s in _POST_VIEW},
    "getPostThread": {f"{s[0]}*.{s[1:]}" for s in _POST_VIEW},
    "getPostThreadReply": {f"{s[0]}*.{s[1:]}" for s in _POST_VIEW},
}


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """``.a.b[].c:type`` for every leaf of a JSON value."""
    if isinstance(value, dict):
        return set().union(*(key_paths(v, f"{prefix}.{k}") for k, v in value.items())) or {
            f"{prefix}:{{}}"
        }
    if isinstance(value, list):
        return set().union(*(key_paths(v, f"{prefix}[]") for v in value)) or {f"{prefix}[]"}
    kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(value), "null")
    return {f"{prefix}:{kind}"}


def known(call: str, sign: str, path: str) -> bool:
    for pattern in KNOWN.get(call, set()):
        if pattern[0] != sign:
            continue
        body = pattern[1:]
        if body.startswith("*"):  # any prefix, then this suffix
            if path.endswith(body[1:]):
                return True
        elif body.endswith("*"):
            if path.startswith(body[:-1]):
                return True
        elif path == body:
            return True
    return False


def play(target: Target) -> dict[str, tuple[int, Any]]:
    """The scene on one target: call name -> (status, JSON answer)."""
    http = httpx.Client(base_url=f"{target.url}/xrpc", timeout=10)
    answers: dict[str, tuple[int, Any]] = {}

    def call(
        name: str, nsid: str, token: str | None = None, method: str = "", **kwargs: Any
    ) -> Any:
        method = method or ("POST" if "json" in kwargs else "GET")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = http.request(method, nsid, headers=headers, **kwargs)
        is_json = response.headers.get("content-type", "").startswith("application/json")
        answers[name] = (response.status_code, response.json() if is_json else response.text)
        return answers[name][1] if response.status_code == 200 else {}

    def now() -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def record(text: str, **extra: Any) -> dict[str, Any]:
        return {"$type": POST, "text": text, "createdAt": now(), **extra}

    handles = [target.handle("sh") for _ in range(2)]
    sessions = []
    call("describeServer", "com.atproto.server.describeServer")
    for n, handle in enumerate(handles):
        email = f"{handle.split('.')[0]}@example.com"
        login = {"handle": handle, "password": "pw-123456", "email": email}
        call("createAccount" + "2" * n, "com.atproto.server.createAccount", json=login)
        sessions.append(
            call(
                "createSession" + "2" * n,
                "com.atproto.server.createSession",
                json={"identifier": handle, "password": "pw-123456"},
            )
        )
    (me, other), token = sessions, sessions[0]["accessJwt"]
    tag = f"sh{secrets.token_hex(4)}"
    text = f"Q1 #{tag} @{handles[1]} https://example.org"
    raw = text.encode()

    def span(start: int, end: int, feature: dict[str, str]) -> dict[str, Any]:
        return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}

    at, hashtag, link = raw.index(b"@"), raw.index(b"#"), raw.index(b"https")
    facets = [
        span(hashtag, hashtag + len(tag) + 1, {"$type": f"{_FACET}#tag", "tag": tag}),
        span(at, at + len(handles[1]) + 1, {"$type": f"{_FACET}#mention", "did": other["did"]}),
        span(link, len(raw), {"$type": f"{_FACET}#link", "uri": "https://example.org"}),
    ]
    call("getSession", "com.atproto.server.getSession", token)
    root = call(
        "createRecord",
        "com.atproto.repo.createRecord",
        token,
        json={"repo": me["did"], "collection": POST, "record": record(text, facets=facets)},
    )
    ref = {"uri": root["uri"], "cid": root["cid"]}
    reply = call(
        "createReply",
        "com.atproto.repo.createRecord",
        other["accessJwt"],
        json={
            "repo": other["did"],
            "collection": POST,
            "record": record(f"A1 #{tag}", reply={"root": ref, "parent": ref}),
        },
    )
    rkey = root["uri"].rsplit("/", 1)[1]
    gate = {
        "$type": "app.bsky.feed.threadgate",
        "post": root["uri"],
        "createdAt": now(),
        "hiddenReplies": [reply["uri"]],
    }
    call(
        "putThreadgate",
        "com.atproto.repo.putRecord",
        token,
        json={
            "repo": me["did"],
            "collection": "app.bsky.feed.threadgate",
            "rkey": rkey,
            "record": gate,
        },
    )

    def thread() -> Any:
        # The gate and the reply are indexed apart: the answer compared must hold both.
        answer = call(
            "getPostThread", "app.bsky.feed.getPostThread", token, params={"uri": root["uri"]}
        )
        return answer.get("threadgate") and (answer.get("thread") or {}).get("replies")

    eventually(thread, what="the thread, its reply and its gate indexed")
    mine = {"repo": me["did"], "collection": POST}
    call("getRecord", "com.atproto.repo.getRecord", params={**mine, "rkey": rkey})
    call("getRecordMissing", "com.atproto.repo.getRecord", params={**mine, "rkey": "2222222222222"})
    call("listRecords", "com.atproto.repo.listRecords", params=mine)
    call("getPosts", "app.bsky.feed.getPosts", token, params={"uris": [root["uri"], reply["uri"]]})
    call("getPostThreadReply", "app.bsky.feed.getPostThread", token, params={"uri": reply["uri"]})
    eventually(
        lambda: call(
            "searchPosts", "app.bsky.feed.searchPosts", token, params={"q": f"#{tag}", "limit": 1}
        ).get("cursor"),
        what="both posts searchable",
    )
    call("getProfile", "app.bsky.actor.getProfile", token, params={"actor": me["did"]})
    call("resolveHandle", "com.atproto.identity.resolveHandle", params={"handle": handles[0]})
    call("resolveUnknown", "com.atproto.identity.resolveHandle", params={"handle": "no-one.test"})
    refresh = {"method": "POST", "token": me["refreshJwt"]}
    call("refreshWithBody", "com.atproto.server.refreshSession", json={}, **refresh)
    call("refreshSession", "com.atproto.server.refreshSession", **refresh)
    theirs = {"repo": other["did"], "collection": POST, "rkey": reply["uri"].rsplit("/", 1)[1]}
    call("deleteRecord", "com.atproto.repo.deleteRecord", other["accessJwt"], json=theirs)
    call("deleteMissing", "com.atproto.repo.deleteRecord", other["accessJwt"], json=theirs)
    eventually(  # the reference AppView shows a deleted post for a moment
        lambda: (
            call(
                "threadOfDeleted",
                "app.bsky.feed.getPostThread",
                token,
                params={"uri": reply["uri"]},
            )
            == {}
        ),
        what="the deleted post gone",
    )
    unknown_repo = {**mine, "repo": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "rkey": rkey}
    call("getRecordUnknownRepo", "com.atproto.repo.getRecord", params=unknown_repo)
    write = {**mine, "record": record("x")}
    call("writeWithoutToken", "com.atproto.repo.createRecord", json=write)
    call("writeWithBadToken", "com.atproto.repo.createRecord", "not-a-token", json=write)
    call(
        "writeOthersRepo",
        "com.atproto.repo.createRecord",
        token,
        json={**write, "repo": other["did"]},
    )
    call(
        "writeTooLong",
        "com.atproto.repo.createRecord",
        token,
        json={**mine, "record": record("x" * 301)},
    )
    call("writeBadKey", "com.atproto.repo.createRecord", token, json={**write, "rkey": "not-a-tid"})
    call("writeDuplicateKey", "com.atproto.repo.createRecord", token, json={**write, "rkey": rkey})
    call("wrongMethod", "com.atproto.repo.createRecord")
    call("unknownMethod", "app.bsky.nothing.here", token)
    call("unknownMethodAnonymous", "app.bsky.nothing.here")
    return answers


_FACET = "app.bsky.richtext.facet"


def test_answers_have_the_reference_statuses_errors_and_keys(
    sandbox_target: Target, reference_target: Target
) -> None:
    sandbox, reference = play(sandbox_target), play(reference_target)
    assert list(sandbox) == list(reference)
    differences = []
    for name, (status, answer) in sandbox.items():
        ref_status, ref_answer = reference[name]
        if (status, error_of(answer)) != (ref_status, error_of(ref_answer)):
            differences.append(f"{name}: {status} {answer!r} != {ref_status} {ref_answer!r}")
            continue
        ours, theirs = key_paths(answer), key_paths(ref_answer)
        base = name.rstrip("2")
        differences += [
            f"{name}: only the sandbox has {p}"
            for p in sorted(ours - theirs)
            if not known(base, "-", p)
        ]
        differences += [
            f"{name}: only the reference has {p}"
            for p in sorted(theirs - ours)
            if not known(base, "+", p)
        ]
    assert differences == []


def error_of(answer: Any) -> str | None:
    return answer.get("error") if isinstance(answer, dict) else None
