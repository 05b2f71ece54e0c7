"""The project's one exception tree.

Every error the core raises on purpose is a ``ChatbotError``.  Adapters turn
SDK exceptions into these; only the CLI turns them into messages and exit
codes::

    ChatbotError
    ├── UsageError              bad input from the user (exit code 2)
    │   ├── QuestionFileError   a question file with one or more problems
    │   ├── ConfigError         a bad setting, or credentials missing/unsafe
    │   └── EventConflictError  another file already holds that event
    ├── StorageError            the database refused or is unreachable
    └── PlatformError           a network call failed
        ├── AuthError           credentials refused
        ├── NotFoundError       the post or account is not there
        ├── RateLimitedError    slow down; ``retry_at`` says until when
        └── TransientError      worth retrying (5xx, timeouts, dropped links)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class ChatbotError(Exception):
    """Base of every error the project raises on purpose."""

    exit_code = 1


class UsageError(ChatbotError):
    """The user gave something we cannot use; the message says how to fix it."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One problem found in a file, located compiler-style."""

    path: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: str = "error"  # "error" or "note"

    def format(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n    fix: {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


class QuestionFileError(UsageError):
    """A question file has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))


class ConfigError(UsageError):
    """A setting is wrong, or credentials are missing or stored unsafely."""


class EventConflictError(UsageError):
    """An event with the same hashtag and start was loaded from another file."""


class StorageError(ChatbotError):
    """The database could not be reached or refused the change."""


class UnreachableDatabaseError(StorageError):
    """No connection to the database at the URL given: down, wrong or never answering.

    Exit 2, as for any input that cannot be used: the fix is the URL or the server.
    """

    exit_code = 2


class PlatformError(ChatbotError):
    """A call to a network failed."""

    def __init__(self, message: str, *, network: str = ""):
        self.network = network
        super().__init__(message)


class AuthError(PlatformError):
    """The network refused our credentials."""


class NotFoundError(PlatformError):
    """The post, record or account does not exist (or no longer does)."""


class RateLimitedError(PlatformError):
    """The network asked us to slow down until ``retry_at`` (UTC) if known."""

    def __init__(self, message: str, *, network: str = "", retry_at: datetime | None = None):
        self.retry_at = retry_at
        super().__init__(message, network=network)


class TransientError(PlatformError):
    """A failure worth retrying: server errors, timeouts, dropped connections."""


__all__ = [
    "AuthError",
    "ChatbotError",
    "ConfigError",
    "EventConflictError",
    "NotFoundError",
    "PlatformError",
    "Problem",
    "QuestionFileError",
    "RateLimitedError",
    "StorageError",
    "TransientError",
    "UnreachableDatabaseError",
    "UsageError",
]
