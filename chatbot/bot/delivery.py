"""What the outbox hands out (claims, notices, outcomes), the rules it decides by, and messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chatbot.errors import AuthError, ChatbotError, NotFoundError
from chatbot.models import Event, PostDelivery, ScheduledPost
from chatbot.platforms.base import Attachment, RemoteRef
from chatbot.platforms.keys import post_key

FINAL_STATES = ("posted", "failed", "skipped")
OPEN_STATES = ("pending", "posting")
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
    attempts: int  # tries not refused with a rate limit, including this one
    worker: str
    hashtag: str
    timezone: str
    language: str | None = None
    reply_to: RemoteRef | None = None
    root: RemoteRef | None = None
    reclaimed: bool = False  # found stuck in ``posting`` past the lease
    late_by: float = 0.0  # seconds past due when claimed
    landed_before: bool = False  # an earlier try may have reached the network
    rate_limited: int = 0  # earlier tries the network refused with a rate limit
    media: tuple[Attachment, ...] = ()  # images to upload and post with the text


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
class Claims:
    """What one claim of several posts took (oldest due first), and what it had to say."""

    claims: list[Claim] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What recording a try did: ``posted``, ``retry`` (with ``next_at``) or ``failed``."""

    state: str
    message: str = ""
    next_at: datetime | None = None
    late: bool = False
    url: str = ""


def make_key(delivery: PostDelivery, post: ScheduledPost, event: Event) -> str:
    """The post key every try of ``delivery`` sends (fields that never change for the row)."""
    return post_key(delivery.idempotency_key, post.key, event.start_at)


def may_have_landed(delivery: PostDelivery) -> bool:
    """True when an earlier try may have reached the network: finish it, never skip it."""
    if delivery.state == "posting":
        return True
    # Rate-limited tries are not in ``attempts`` (see counts_after); the prefix test
    # covers rows written before that, whose ``attempts`` counted them too.
    return delivery.attempts > 0 and not (delivery.last_error or "").startswith(RATE_LIMITED)


def decide(
    delivery: PostDelivery, now: datetime, lease: timedelta, late_limit: timedelta
) -> str | None:
    """What to do with an event's first open delivery: "claim", "late", "unknown" or None."""
    window = IDEMPOTENCY_WINDOWS.get(delivery.network)
    # The key's hour counts from the first try that may have landed: a claim taken again
    # after each of several crashes moves claimed_at, never this.
    first = getattr(delivery, "first_tried_at", None)  # late replies keep no such time
    if delivery.state == "posting":
        claimed = delivery.claimed_at or delivery.updated_at
        if claimed > now - lease:
            return None  # someone is posting it
        if window is not None and (first or claimed) < now - window:
            return "unknown"
        return "claim"
    if delivery.due_at > now:
        return None
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return None
    landed = may_have_landed(delivery)
    if now - delivery.due_at > late_limit and not landed:
        return "late"
    if landed and window is not None and first is not None and first < now - window:
        return "unknown"  # a retry now could post it twice: the network forgot the key
    return "claim"


def attachments(stored: list[dict[str, Any]] | None) -> tuple[Attachment, ...]:
    """A scheduled post's stored images as the adapters take them."""
    return tuple(
        Attachment(
            file=str(item["file"]),
            alt=str(item.get("alt", "")),
            mime=str(item.get("mime", "")),
            width=int(item.get("width", 0)),
            height=int(item.get("height", 0)),
            sha256=str(item.get("sha256", "")),
        )
        for item in stored or []
    )


def with_recap(text: str, url: str) -> str:
    """The wrap-up text with the recap link on a line of its own."""
    return f"{text}\n{url}"


def counts_after(claim: Claim, *, limited: bool) -> tuple[int, int]:
    """``(attempts, rate_limited)`` to store when ``claim``'s try did not post.

    ``attempts`` counts the tries that may have failed for real, and is what
    the give-up limit (``max_attempts``) applies to.  A claim counts its try
    there at once (if the process dies mid-try, the try may have landed); a
    try the network refused with a rate limit ("not yet", nothing posted)
    moves to ``rate_limited`` instead, so a post that waits politely for a
    reset never looks failed, nor nears the limit.
    """
    if limited:
        return claim.attempts - 1, claim.rate_limited + 1
    return claim.attempts, claim.rate_limited


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
        waits = claim.rate_limited
        also = f" (and {waits} rate-limited {'wait' if waits == 1 else 'waits'})" if waits else ""
        return (
            f"failed after {claim.attempts} tries{also}: {error}; it may have reached the "
            "network: check the account before posting it by hand"
        )
    return f"failed: {error}"


__all__ = [
    "FINAL_STATES",
    "IDEMPOTENCY_WINDOWS",
    "LAYOUTS",
    "OPEN_STATES",
    "RATE_LIMITED",
    "Claim",
    "ClaimResult",
    "Claims",
    "Notice",
    "Outcome",
    "attachments",
    "counts_after",
    "decide",
    "failure_message",
    "make_key",
    "may_have_landed",
    "with_recap",
]
