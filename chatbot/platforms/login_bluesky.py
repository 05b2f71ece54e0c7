"""Checking a Bluesky handle and app password with one createSession, as ``chatbot login`` does.

The check logs in with the unmodified ``atproto`` client, reads the PDS's
rate-limit headers from that answer (createSession has its own, small
budget: 30 per 5 minutes per account), and ends the session it made.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from atproto import Client, models
from atproto_client import exceptions as atx
from atproto_client.request import Request

from chatbot.errors import AuthError, PlatformError, RateLimitedError, TransientError, UsageError
from chatbot.platforms.credentials import Secret

# What Bluesky's app passwords look like: four groups of four lower-case letters and digits.
APP_PASSWORD = re.compile(r"\A[a-z0-9]{4}(?:-[a-z0-9]{4}){3}\Z")


def looks_like_app_password(password: str) -> bool:
    return bool(APP_PASSWORD.match(password))


def pds_url(text: str) -> str:
    """The PDS's base URL from what the user typed; a bare host means https://."""
    value = text.strip()
    if "://" not in value and value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # an unclosed "[", a port past 65535: no address either
        parts, host = urlsplit("x:"), None
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(
            f"--pds {text!r} is not a server address: use https://HOST, e.g. https://bsky.social"
        )
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise UsageError(
            f"--pds {text!r}: give only the server's address, e.g. {parts.scheme}://{parts.netloc}"
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def clean_handle(text: str) -> str:
    handle = text.strip().lstrip("@")
    if not handle or any(char.isspace() for char in handle):
        raise UsageError(
            f"handle {text!r} is not a Bluesky handle: give it as name.bsky.social "
            "(or the account's e-mail or DID)"
        )
    return handle


@dataclass(frozen=True)
class SessionLimit:
    """What the createSession answer's RateLimit-* headers said."""

    remaining: int
    limit: int
    reset: datetime | None
    policy: str = ""

    def describe(self) -> str:
        text = f"{self.remaining} of {self.limit} logins left"
        if self.policy:
            text += f" (policy {self.policy})"
        if self.reset is not None:
            text += f", window resets at {self.reset.strftime('%Y-%m-%d %H:%M:%S')} UTC"
        return text


def session_limit(headers: dict[str, Any]) -> SessionLimit | None:
    found = {str(key).lower(): str(value) for key, value in headers.items()}
    try:
        remaining = int(found["ratelimit-remaining"])
        limit = int(found.get("ratelimit-limit", remaining))
    except (KeyError, ValueError):
        return None
    reset = None
    with contextlib.suppress(KeyError, ValueError, OverflowError, OSError):
        reset = datetime.fromtimestamp(int(found["ratelimit-reset"]), UTC)
    return SessionLimit(remaining, limit, reset, found.get("ratelimit-policy", ""))


@dataclass(frozen=True)
class BlueskyAccount:
    """A handle and password checked against the PDS."""

    service: str
    handle: str
    did: str
    rate: SessionLimit | None


def check_password(
    handle: str, password: Secret, service: str, *, timeout: float = 30.0
) -> BlueskyAccount:
    """Log in once (createSession) and out again; who the account is and the login budget."""
    client = Client(base_url=service, request=Request(timeout=timeout))
    data = models.ComAtprotoServerCreateSession.Data(identifier=handle, password=password.reveal())
    try:
        answer = client.invoke_procedure("com.atproto.server.createSession", data=data)
    except atx.RateLimitExceededError:
        raise RateLimitedError(
            f"{service} says too many logins for {handle}: wait a few minutes (createSession "
            "allows 30 per 5 minutes per account)",
            network="bluesky",
        ) from None
    except atx.UnauthorizedError:
        raise AuthError(
            f"{service} refused the handle {handle!r} with that password: check the handle, "
            "and make a new app password if it was revoked (Settings → Privacy and security "
            "→ App passwords)",
            network="bluesky",
        ) from None
    except atx.RequestErrorBase as error:
        status = error.response.status_code if error.response is not None else 0
        if status >= 500:
            raise TransientError(
                f"{service} failed ({status}) logging in; try again later", network="bluesky"
            ) from None
        if status == 404:
            raise UsageError(
                f"{service} is not a Bluesky PDS (createSession answered 404): check --pds"
            ) from None
        raise PlatformError(
            f"{service} refused the login ({status}): check the handle", network="bluesky"
        ) from None
    except (atx.AtProtocolError, httpx.TransportError):
        raise UsageError(
            f"cannot reach {service}: check the address (--pds) and your connection"
        ) from None
    content = answer.content if isinstance(answer.content, dict) else {}
    refresh = str(content.get("refreshJwt") or "")
    if refresh:  # leave no session behind; only a courtesy, so failures don't matter
        with contextlib.suppress(atx.AtProtocolError, httpx.HTTPError, ValueError):
            client.invoke_procedure(
                "com.atproto.server.deleteSession", headers={"Authorization": f"Bearer {refresh}"}
            )
    return BlueskyAccount(
        service,
        str(content.get("handle") or handle),
        str(content.get("did") or ""),
        session_limit(answer.headers),
    )


__all__ = [
    "APP_PASSWORD",
    "BlueskyAccount",
    "SessionLimit",
    "check_password",
    "clean_handle",
    "looks_like_app_password",
    "pds_url",
    "session_limit",
]
