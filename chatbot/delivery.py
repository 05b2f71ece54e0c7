"""What the outbox hands out: claims, notices and outcomes, and the moderator's messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chatbot.errors import AuthError, ChatbotError, NotFoundError
from chatbot.platforms.base import RemoteRef

FINAL_STATES = ("posted", "failed", "skipped")
OPEN_STATES = ("pending", "posting")
ACTIVE_EVENT_STATES = ("scheduled", "running", "paused")
LAYOUTS = ("standalone", "thread")
RATE_LIMITED = "rate limited: "
# Mastodon remembers an Idempotency-Key for about an hour; past that a re-send of a
# post whose first send may have landed could double it, so it is not re-sent.
IDEMPOTENCY_WINDOWS = {"mastodon": timedelta(minutes=55)}


@dataclass(frozen=True)
class Claim:
    """A delivery this worker has claimed (state ``posting``): everything needed to post it."""

    delivery_id: int
    event_id: int
    network: str
    label: str
    kind: str
    text: str
    key: str  # deterministic: the same for every try, in every process
    due_at: datetime
    attempts: int  # including this one
    worker: str
    hashtag: str
    timezone: str
    language: str | None = None
    reply_to: RemoteRef | None = None
    root: RemoteRef | None = None
    reclaimed: bool = False  # found stuck in ``posting`` past the lease
    late_by: float = 0.0  # seconds past due when claimed
    landed_before: bool = False  # an earlier try may have reached the network


@dataclass(frozen=True)
class Notice:
    """Something the claim decided that the moderator must hear (a post skipped or failed)."""

    event_id: int
    network: str
    label: str
    timezone: str
    state: str  # "skipped" or "failed"
    reason: str


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim | None
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What recording a try did: ``posted``, ``retry`` (with ``next_at``) or ``failed``."""

    state: str
    message: str = ""
    next_at: datetime | None = None
    late: bool = False
    url: str = ""


def with_recap(text: str, url: str) -> str:
    """The wrap-up text with the recap link on a line of its own."""
    return f"{text}\n{url}"


def failure_message(error: ChatbotError, claim: Claim, gave_up: bool) -> str:
    """What the moderator reads when a post fails for good: what happened and what to do."""
    if isinstance(error, AuthError):
        names = {
            "bluesky": "CHATBOT_BLUESKY_HANDLE and CHATBOT_BLUESKY_PASSWORD (an app password)",
            "mastodon": "CHATBOT_MASTODON_URL and CHATBOT_MASTODON_TOKEN",
        }.get(claim.network, "the credentials")
        return f"failed: {error}; check {names}, then restart chatbot run"
    if isinstance(error, NotFoundError):
        return f"failed: {error}; the post it replies to may have been deleted"
    if gave_up:
        return (
            f"failed after {claim.attempts} tries: {error}; it may have reached the network: "
            "check the account before posting it by hand"
        )
    return f"failed: {error}"


__all__ = [
    "ACTIVE_EVENT_STATES",
    "FINAL_STATES",
    "IDEMPOTENCY_WINDOWS",
    "LAYOUTS",
    "OPEN_STATES",
    "RATE_LIMITED",
    "Claim",
    "ClaimResult",
    "Notice",
    "Outcome",
    "failure_message",
    "with_recap",
]
