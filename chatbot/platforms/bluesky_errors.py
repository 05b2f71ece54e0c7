"""Bluesky's errors as ours: what an ``atproto`` exception means for the bot.

Rate limits carry their reset time; transport failures and 5xx are
transient; refused credentials are an auth error; "not found" in its several
spellings (XRPC error names, 404, the AppView's 400 for an actor it has not
indexed yet) is :class:`~chatbot.errors.NotFoundError`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from atproto_client import exceptions as atx

from chatbot.errors import (
    AuthError,
    NotFoundError,
    PlatformError,
    RateLimitedError,
    TransientError,
)

NETWORK = "bluesky"
_AUTH_ERRORS = {"AuthenticationRequired", "InvalidToken", "ExpiredToken", "AccountTakedown"}
STALE_SESSION = {"ExpiredToken", "InvalidToken"}
_NOT_FOUND = {"NotFound", "RecordNotFound", "RepoNotFound", "ActorNotFound"}
# atproto wraps httpx's timeouts and network errors, but not e.g. a connection closed
# before any answer (RemoteProtocolError): catch the whole transport family.
CLIENT_ERRORS = (atx.AtProtocolError, httpx.TransportError)


def translate(error: Exception) -> PlatformError:
    """Turn an ``atproto`` exception into one of ours (never raises)."""
    if isinstance(error, PlatformError):
        return error
    if isinstance(error, atx.LoginRequiredError):
        return AuthError(f"Bluesky: not logged in ({error})", network=NETWORK)
    if isinstance(error, atx.RateLimitExceededError):
        retry_at = error.reset_at
        if retry_at is None and error.retry_after is not None:
            retry_at = datetime.fromtimestamp(
                datetime.now(UTC).timestamp() + error.retry_after, UTC
            )
        return RateLimitedError(
            f"Bluesky: rate limited ({error})", network=NETWORK, retry_at=retry_at
        )
    if isinstance(error, atx.NetworkError | httpx.TransportError):  # also 409/413/502
        return TransientError(f"Bluesky: network error ({_described(error)})", network=NETWORK)
    if isinstance(error, atx.RequestErrorBase):
        status = error.response.status_code if error.response is not None else 0
        name = error_name(error)
        if isinstance(error, atx.UnauthorizedError) or name in _AUTH_ERRORS:
            return AuthError(f"Bluesky: credentials refused ({error})", network=NETWORK)
        if name in _NOT_FOUND or status == 404 or _says_not_found(error, name):
            return NotFoundError(f"Bluesky: not found ({error})", network=NETWORK)
        if status >= 500 or status == 0:
            return TransientError(f"Bluesky: server error ({error})", network=NETWORK)
        return PlatformError(f"Bluesky: request refused ({error})", network=NETWORK)
    return PlatformError(f"Bluesky: {type(error).__name__}: {error}", network=NETWORK)


def error_name(error: atx.RequestErrorBase) -> str:
    content = error.response.content if error.response is not None else None
    return str(getattr(content, "error", "") or "")


def _says_not_found(error: atx.RequestErrorBase, name: str) -> bool:
    """An AppView's 400 ``InvalidRequest`` "Profile not found" (or "Post not found").

    The AppView answers so for an actor it has not indexed yet, e.g. an
    account made a moment ago: that is "not found", not a refused request.
    """
    content = error.response.content if error.response is not None else None
    message = str(getattr(content, "message", "") or "").lower()
    return name == "InvalidRequest" and message.endswith("not found")


def server_trouble(error: Exception) -> bool:
    """A failure that says nothing about our credentials (5xx, 429, transport)."""
    if isinstance(error, atx.NetworkError | atx.RateLimitExceededError | httpx.TransportError):
        return True
    response = getattr(error, "response", None)
    return response is not None and response.status_code >= 500


def _described(error: BaseException) -> str:
    """The error's own words, else its cause's (atproto wraps httpx's), else its kind."""
    for candidate in (error, error.__cause__, error.__context__):
        if candidate is not None and str(candidate):
            return str(candidate)
    return type(error).__name__


__all__ = ["CLIENT_ERRORS", "STALE_SESSION", "error_name", "server_trouble", "translate"]
