"""Who may see and steer the live page: the access token, sessions, CSRF tokens, origins.

The page is for one moderator on this machine. It listens on 127.0.0.1 only,
and that is not enough: every page the browser opens (another local server
included) can send requests there. So:

- the first visit carries a random access token in the URL; it is compared in
  constant time, swapped for a session cookie (HttpOnly, SameSite=Strict, its
  name carrying the port) and the browser sent on to ``/`` so the token leaves
  the address bar;
- every form carries the session's CSRF token, POST only, and the ``Origin``
  header (or, without one, ``Referer``) must be this server's own;
- the ``Host`` header must name 127.0.0.1 or localhost at this port (a
  DNS-rebinding page would send its own name).

Nothing here logs: the token is printed once, in the URL the command shows.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TOKEN_BYTES = 32
MAX_SESSIONS = 64  # a moderator's browsers; the oldest is forgotten past this


@dataclass
class Gate:
    """The access token of one server and the sessions it has granted."""

    port: int
    # Neither is ever in a repr (a failing test's report, a log line).
    token: str = field(default_factory=lambda: secrets.token_urlsafe(TOKEN_BYTES), repr=False)
    _sessions: dict[str, str] = field(default_factory=dict, repr=False)  # session id -> CSRF

    @property
    def cookie(self) -> str:
        """The session cookie's name: cookies ignore ports, so two servers need two names."""
        return f"chatbot_live_{self.port}"

    @property
    def origins(self) -> tuple[str, ...]:
        return (f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}")

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def open_session(self) -> str:
        """A new session id (the cookie's value); its CSRF token is made with it."""
        while len(self._sessions) >= MAX_SESSIONS:
            self._sessions.pop(next(iter(self._sessions)))
        session = secrets.token_urlsafe(TOKEN_BYTES)
        self._sessions[session] = secrets.token_urlsafe(TOKEN_BYTES)
        return session

    def csrf_of(self, session: str | None) -> str | None:
        """The CSRF token of a known session, ``None`` for an unknown one."""
        if not session:
            return None
        for known, csrf in list(self._sessions.items()):
            if hmac.compare_digest(known.encode(), session.encode()):
                return csrf
        return None

    def csrf_ok(self, session: str | None, given: str | None) -> bool:
        expected = self.csrf_of(session)
        return (
            expected is not None
            and given is not None
            and hmac.compare_digest(expected.encode(), given.encode())
        )

    def host_ok(self, host: str | None) -> bool:
        return host in (f"127.0.0.1:{self.port}", f"localhost:{self.port}")

    def origin_ok(self, headers: Mapping[str, str]) -> bool:
        """Whether a form post comes from this server's own page."""
        origin = headers.get("origin")
        if origin is not None:
            return origin in self.origins
        referer = headers.get("referer")
        if referer is None:
            return False
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" in self.origins


__all__ = ["MAX_SESSIONS", "Gate"]
