"""Keeps a Bluesky session string in memory and, optionally, in a private 0600 file."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from chatbot.platforms.credentials import Secret, state_dir


class SessionCache:
    """The current session string; never written to the database or the logs.

    With ``path`` set it survives restarts, so a restarted bot refreshes its
    session instead of calling createSession (30 per 5 minutes per account).
    The file is created 0600 in a 0700 directory and rewritten atomically.
    """

    def __init__(self, path: Path | None = None):
        self.path = path
        self._value: Secret | None = None

    @classmethod
    def for_account(cls, service: str, handle: str, directory: Path | None = None) -> SessionCache:
        """A file-backed cache under the user's state dir, one file per service + handle."""
        name = hashlib.sha256(f"{service}\x00{handle}".encode()).hexdigest()[:16]
        return cls((directory or state_dir()) / f"bluesky-session-{name}")

    def load(self) -> str | None:
        if self._value is None and self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                text = self.path.read_text(encoding="utf-8").strip()
                if text:
                    self._value = Secret(text)
        return self._value.reveal() if self._value else None

    def save(self, session_string: str) -> None:
        self._value = Secret(session_string)
        if self.path is None:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, session_string.encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(temporary, self.path)

    def clear(self) -> None:
        self._value = None
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


__all__ = ["SessionCache"]
