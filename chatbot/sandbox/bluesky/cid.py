"""Content identifiers of records (CIDv1, dag-cbor, sha2-256, base32), as a PDS computes them."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import libipld

_PREFIX = bytes([0x01, 0x71, 0x12, 0x20])  # CIDv1, dag-cbor codec, sha2-256, 32-byte digest
CID_RE = re.compile(r"^b[a-z2-7]{20,}$")


class RecordEncodingError(ValueError):
    """The record can't be encoded as DAG-CBOR (e.g. it holds a float)."""


def _check(value: Any, path: str) -> None:
    # The atproto data model has no floats; the PDS refuses them, so do we.
    if isinstance(value, float):
        raise RecordEncodingError(f"{path} is a float; the atproto data model has integers only")
    if isinstance(value, dict):
        for key, item in value.items():
            _check(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}/{index}")


def record_cid(record: dict[str, Any]) -> str:
    """The CID of a record given in its JSON form (blob refs are hashed as plain maps)."""
    _check(record, "Record")
    try:
        encoded = libipld.encode_dag_cbor(record)
    except (TypeError, ValueError) as error:
        raise RecordEncodingError(f"Record can't be encoded: {error}") from None
    digest = hashlib.sha256(encoded).digest()
    return "b" + base64.b32encode(_PREFIX + digest).decode("ascii").lower().rstrip("=")


_RAW_PREFIX = bytes([0x01, 0x55, 0x12, 0x20])  # CIDv1, raw codec, sha2-256: a blob's CID


def blob_cid(data: bytes) -> str:
    """The CID of a blob's bytes, as uploadBlob gives it (``bafkrei...``)."""
    digest = hashlib.sha256(data).digest()
    return "b" + base64.b32encode(_RAW_PREFIX + digest).decode("ascii").lower().rstrip("=")


def is_valid_cid(value: object) -> bool:
    return isinstance(value, str) and bool(CID_RE.match(value))


__all__ = ["RecordEncodingError", "blob_cid", "is_valid_cid", "record_cid"]
