"""What sandbox handlers see and return: a parsed request, responses, and HTTP errors.

These are plain objects, free of the server underneath (``chatbot.sandbox.asgi``
turns an ASGI request into a :class:`Request` and a :class:`Response` back),
so the networks' handlers stay small synchronous functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs


class HttpError(Exception):
    """Raised by handlers to answer with an error; the app renders the body."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str = "",
        headers: dict[str, str] | None = None,
    ):
        self.status = status
        self.error = error
        self.message = message or error
        self.headers = headers or {}
        super().__init__(f"{status} {error}: {self.message}")


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    filename: str
    content_type: str  # as the client declared it
    data: bytes = field(repr=False)


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # case-insensitive (Starlette's Headers)
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    _form: dict[str, list[str]] | None = None
    remote_addr: str = ""  # the client's IP, for per-IP rate limits

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def bearer_token(self) -> str | None:
        value = self.header("Authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise HttpError(400, "InvalidRequest", f"body is not valid JSON: {error}") from None

    def form(self) -> dict[str, list[str]]:
        """Body parameters from a urlencoded, multipart or JSON body."""
        if self._form is None:
            self._form = self._parse_form()
        return self._form

    def _parse_form(self) -> dict[str, list[str]]:
        content_type = (self.header("Content-Type") or "").lower()
        if not self.body:
            return {}
        if content_type.startswith("application/json"):
            data = self.json()
            if not isinstance(data, dict):
                raise HttpError(400, "InvalidRequest", "JSON body must be an object")
            result: dict[str, list[str]] = {}
            for key, value in data.items():
                values = value if isinstance(value, list) else [value]
                result[key] = [_scalar(v) for v in values]
            return result
        if content_type.startswith("multipart/form-data"):
            head = f"Content-Type: {self.header('Content-Type')}\r\n\r\n".encode()
            message = BytesParser(policy=HTTP).parsebytes(head + self.body)
            result = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name:
                    payload = part.get_payload(decode=True)
                    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
                    result.setdefault(str(name), []).append(text)
            return result
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def files(self) -> dict[str, list[Upload]]:
        """The files of a multipart body, by field name, with their raw bytes."""
        content_type = self.header("Content-Type") or ""
        if not content_type.lower().startswith("multipart/form-data") or not self.body:
            return {}
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.body)
        found: dict[str, list[Upload]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            if name and filename is not None:
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
                upload = Upload(str(filename), part.get_content_type(), data)
                found.setdefault(str(name), []).append(upload)
        return found

    def _values(self, source: dict[str, list[str]], name: str) -> list[str]:
        return source.get(name, []) + source.get(f"{name}[]", [])

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter (``name`` or ``name[]``)."""
        values = self._values(self.query, name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self._values(self.query, name)

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a body parameter, falling back to the query string."""
        values = self._values(self.form(), name) or self._values(self.query, name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return self._values(self.form(), name) or self._values(self.query, name)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResponse:
    """A response written chunk by chunk (server-sent events)."""

    chunks: Iterator[bytes]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status=status, body=body, headers=dict(headers or {}))


__all__ = ["HttpError", "Request", "Response", "StreamResponse", "Upload", "json_response"]
