"""Session tokens: HS256 JWTs shaped like the reference PDS's, timed by the sandbox clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chatbot.clock import Clock
from chatbot.sandbox.web import HttpError

ACCESS_SCOPE = "com.atproto.access"
REFRESH_SCOPE = "com.atproto.refresh"
ACCESS_LIFETIME = timedelta(hours=2)
REFRESH_LIFETIME = timedelta(days=90)
# A used refresh token keeps working this long, so a client that lost the answer
# to refreshSession can retry (the reference PDS has the same grace period).
REFRESH_GRACE = timedelta(hours=2)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TokenClaims:
    did: str
    scope: str
    exp: int
    jti: str | None = None


class TokenIssuer:
    """Issues and checks access and refresh JWTs with a per-server secret."""

    def __init__(self, clock: Clock, *, service_did: str, secret: bytes | None = None):
        self.clock = clock
        self.service_did = service_did
        self._secret = secret or secrets.token_bytes(32)
        self._used_refresh: dict[str, int] = {}  # jti -> epoch second it stops working
        self._lock = threading.Lock()

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def _sign(self, header: dict[str, Any], payload: dict[str, Any]) -> str:
        head = _b64(json.dumps(header, separators=(",", ":")).encode())
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        signature = hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(signature)}"

    def issue(self, did: str) -> tuple[str, str]:
        """A fresh ``(accessJwt, refreshJwt)`` pair for ``did``."""
        now = self._now()
        access = self._sign(
            {"typ": "at+jwt", "alg": "HS256"},
            {
                "scope": ACCESS_SCOPE,
                "sub": did,
                "aud": self.service_did,
                "iat": now,
                "exp": now + int(ACCESS_LIFETIME.total_seconds()),
            },
        )
        refresh = self._sign(
            {"typ": "refresh+jwt", "alg": "HS256"},
            {
                "scope": REFRESH_SCOPE,
                "sub": did,
                "aud": self.service_did,
                "jti": secrets.token_urlsafe(24),
                "iat": now,
                "exp": now + int(REFRESH_LIFETIME.total_seconds()),
            },
        )
        return access, refresh

    def verify(self, token: str | None, scope: str) -> TokenClaims:
        """The claims of a valid token of ``scope``; raises the PDS's error otherwise."""
        if not token:
            raise HttpError(401, "AuthMissing", "Authentication Required")
        parts = token.split(".")
        try:
            if len(parts) != 3:
                raise ValueError("not three segments")
            expected = hmac.new(
                self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256
            ).digest()
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                raise ValueError("bad signature")
            payload = json.loads(_unb64(parts[1]))
            claims = TokenClaims(
                did=str(payload["sub"]),
                scope=str(payload["scope"]),
                exp=int(payload["exp"]),
                jti=payload.get("jti"),
            )
        except (ValueError, KeyError, TypeError):
            raise HttpError(400, "InvalidToken", "Token could not be verified") from None
        now = self._now()
        if claims.exp <= now:
            raise HttpError(400, "ExpiredToken", "Token has expired")
        if claims.scope != scope:
            raise HttpError(400, "InvalidToken", "Bad token scope")
        if claims.jti is not None:
            with self._lock:
                stops = self._used_refresh.get(claims.jti)
            if stops is not None and stops <= now:
                raise HttpError(400, "ExpiredToken", "Token has been revoked")
        return claims

    def rotate(self, claims: TokenClaims) -> None:
        """Mark a refresh token used; it keeps working for the grace period."""
        if claims.jti is None:
            return
        stops = self._now() + int(REFRESH_GRACE.total_seconds())
        with self._lock:
            self._used_refresh.setdefault(claims.jti, stops)

    def revoke(self, claims: TokenClaims) -> None:
        if claims.jti is not None:
            with self._lock:
                self._used_refresh[claims.jti] = self._now()


__all__ = ["ACCESS_SCOPE", "REFRESH_SCOPE", "TokenClaims", "TokenIssuer"]
