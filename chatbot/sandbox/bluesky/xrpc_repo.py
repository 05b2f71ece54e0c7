"""com.atproto.repo.*: writing and reading records in a repo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatbot.sandbox.bluesky.cid import record_cid
from chatbot.sandbox.bluesky.params import body, boolean, field, integer, required
from chatbot.sandbox.bluesky.ratelimit import REPO_WRITE_HOUR, WRITE_POINTS, Status
from chatbot.sandbox.bluesky.store import Account, StoredRecord
from chatbot.sandbox.web import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from chatbot.sandbox.bluesky.base import BlueskyBase


def register(app: BlueskyBase) -> None:
    store = app.store

    def writer(request: Request, data: dict[str, Any]) -> Account:
        account = app.authed(request)
        target = store.account(str(field(data, "repo")))
        if target is None or target.did != account.did:
            # The PDS only writes to the caller's own repo.
            raise HttpError(401, "AuthenticationRequired", "Authentication Required")
        return account

    def commit(did: str, data_cid: str) -> dict[str, str]:
        rev = store.tids.next()
        return {
            "cid": record_cid({"did": did, "rev": rev, "data": data_cid, "version": 3}),
            "rev": rev,
        }

    def charge(request: Request, account: Account, op: str) -> Status:
        # Charged before writing: a write refused for its rate limit changes nothing.
        return app.spend(request, REPO_WRITE_HOUR, account.did, WRITE_POINTS[op])

    def written(account: Account, stored: StoredRecord, status: Status) -> Response:
        result = {
            "uri": stored.uri,
            "cid": stored.cid,
            "commit": commit(account.did, stored.cid),
            "validationStatus": "valid",
        }
        return json_response(result, headers=status.headers())

    def create_record(request: Request) -> Response:
        data = body(request)
        account = writer(request, data)
        status = charge(request, account, "create")
        stored = store.create_record(
            account.did,
            str(field(data, "collection")),
            field(data, "record"),
            rkey=data.get("rkey") or None,
        )
        return written(account, stored, status)

    def put_record(request: Request) -> Response:
        data = body(request)
        account = writer(request, data)
        collection, rkey = str(field(data, "collection")), str(field(data, "rkey"))
        existing = store.get_record(account.did, collection, rkey)
        swap = data.get("swapRecord")
        if swap is not None and (existing is None or existing.cid != swap):
            raise HttpError(
                400, "InvalidSwap", "Record was at " + (existing.cid if existing else "null")
            )
        status = charge(request, account, "update" if existing else "create")
        stored = store.put_record(account.did, collection, rkey, field(data, "record"))
        return written(account, stored, status)

    def delete_record(request: Request) -> Response:
        data = body(request)
        account = writer(request, data)
        collection, rkey = str(field(data, "collection")), str(field(data, "rkey"))
        existing = store.get_record(account.did, collection, rkey)
        swap = data.get("swapRecord")
        if swap is not None and (existing is None or existing.cid != swap):
            raise HttpError(
                400, "InvalidSwap", "Record was at " + (existing.cid if existing else "null")
            )
        status = charge(request, account, "delete")
        if not store.delete_record(account.did, collection, rkey):
            return json_response({}, headers=status.headers())  # nothing to delete: no commit
        return json_response({"commit": commit(account.did, "")}, headers=status.headers())

    def get_record(request: Request) -> dict[str, Any]:
        repo, collection = required(request, "repo"), required(request, "collection")
        rkey = required(request, "rkey")
        if store.account(repo) is None:
            raise HttpError(400, "InvalidRequest", f"Could not find repo: {repo}")
        stored = store.get_record(repo, collection, rkey)
        wanted_cid = request.arg("cid")
        if stored is None or (wanted_cid and wanted_cid != stored.cid):
            uri = f"at://{repo}/{collection}/{rkey}"
            raise HttpError(400, "RecordNotFound", f"Could not locate record: {uri}")
        return {"uri": stored.uri, "cid": stored.cid, "value": stored.value}

    def list_records(request: Request) -> dict[str, Any]:
        repo, collection = required(request, "repo"), required(request, "collection")
        limit = integer(request, "limit", 50, 1, 100)
        cursor = request.arg("cursor")
        reverse = boolean(request, "reverse")
        if store.account(repo) is None:
            raise HttpError(400, "InvalidRequest", f"Could not find repo: {repo}")
        records = store.list_records(repo, collection)
        if not reverse:
            records.reverse()  # newest (highest TID) first, as the PDS lists them
        if cursor:
            records = [r for r in records if (r.rkey > cursor if reverse else r.rkey < cursor)]
        page = records[:limit]
        result: dict[str, Any] = {
            "records": [{"uri": r.uri, "cid": r.cid, "value": r.value} for r in page]
        }
        if page:  # the reference PDS gives the last key as the cursor, even on the last page
            result["cursor"] = page[-1].rkey
        return result

    def describe_repo(request: Request) -> dict[str, Any]:
        account = store.account(required(request, "repo"))
        if account is None:
            raise HttpError(400, "InvalidRequest", "Could not find repo")
        collections = sorted({r.collection for r in store.all_records(account.did)})
        return {
            "handle": account.handle,
            "did": account.did,
            "didDoc": {},
            "collections": collections,
            "handleIsCorrect": True,
        }

    def upload_blob(request: Request) -> dict[str, Any]:
        account = app.authed(request)
        declared = request.header("Content-Type")
        blob = store.blobs.upload(account.did, request.body, declared, store.clock.now())
        return {"blob": blob.ref()}

    def get_blob(request: Request) -> Response:
        did, cid = required(request, "did"), required(request, "cid")
        blob = store.blobs.get(did, cid)
        if blob is None:
            raise HttpError(400, "BlobNotFound", "Blob not found")
        return Response(200, blob.data, content_type=blob.mime)

    def image(request: Request) -> Response:
        # The CDN's address for an image: /img/<preset>/plain/<did>/<cid>@jpeg. The
        # sandbox serves the bytes as uploaded (the CDN would re-encode them).
        params = request.path_params
        blob = store.blobs.get(params["did"], params["file"].split("@", 1)[0])
        if blob is None:
            raise HttpError(404, "NotFound", "no such image")
        return Response(200, blob.data, content_type=blob.mime)

    app.procedure("com.atproto.repo.uploadBlob", upload_blob)
    app.query("com.atproto.sync.getBlob", get_blob)
    app.router.add("GET", "/img/{preset}/plain/{did}/{file}", image)
    app.procedure("com.atproto.repo.createRecord", create_record)
    app.procedure("com.atproto.repo.putRecord", put_record)
    app.procedure("com.atproto.repo.deleteRecord", delete_record)
    app.query("com.atproto.repo.getRecord", get_record)
    app.query("com.atproto.repo.listRecords", list_records)
    app.query("com.atproto.repo.describeRepo", describe_repo)


__all__ = ["register"]
