"""Which posts a live control means, and the stretch of time they span.

A label as a moderator types it (``q3``, ``'A3 reminder'``, ``A3-reminder``),
a question's group (its reminder and follow-ups), the posts still to send,
and the collection window moved as far as the chat's first and last posts.
"""

from __future__ import annotations

from datetime import datetime

from chatbot.bot.eventstatus import local_time
from chatbot.errors import UsageError
from chatbot.models import Event, PostDelivery, ScheduledPost

# Deliveries that will not go out: they keep their times whatever a control moves.
DROPPED = ("skipped", "failed")


def norm_label(label: str) -> str:
    """A label compared without case, spaces, hyphens or underscores."""
    return "".join(label.split()).lower().replace("-", "").replace("_", "")


def find_post(event: Event, posts: list[ScheduledPost], label: str) -> ScheduledPost:
    wanted = norm_label(label)
    for post in posts:
        if wanted in (norm_label(post.key), norm_label(post.label)):
            return post
    known = ", ".join(p.key for p in posts)
    raise UsageError(
        f"#{event.hashtag} (event {event.id}) has no post {label!r}; its posts: {known}"
    )


def post_group(posts: list[ScheduledPost], post: ScheduledPost) -> list[ScheduledPost]:
    """``post`` with what belongs to it: a question's reminder and follow-ups (its parts)."""
    if post.kind != "question" or post.number is None:
        return [post]

    def belongs(other: ScheduledPost) -> bool:
        if other.kind not in ("question", "reminder") or other.number != post.number:
            return False
        return not post.suffix or other.suffix == post.suffix  # Q3 takes Q3a; Q3a only its own

    return [other for other in posts if belongs(other)]


def live_deliveries(posts: list[ScheduledPost]) -> list[PostDelivery]:
    """The deliveries still meant to go out (or out already): what spans the chat."""
    return [d for post in posts for d in post.deliveries if d.state not in DROPPED]


def move_window(
    event: Event,
    before: tuple[datetime, datetime] | None,
    tracked: list[PostDelivery],
    now: datetime,
) -> str:
    """Move the collection window as far as the chat's first and last posts moved, and the
    chat's end with its last post (the start stays: it names the event)."""
    if not tracked or before is None:
        return f"collecting until {local_time(event.collect_until, event.timezone)}"
    old_first, old_last = before
    new_first = min(d.due_at for d in tracked)
    new_last = max(d.due_at for d in tracked)
    if (new_first, new_last) != (old_first, old_last):
        event.collect_from = event.collect_from + (new_first - old_first)
        event.collect_until = event.collect_until + (new_last - old_last)
        event.end_at = event.end_at + (new_last - old_last)
        event.updated_at = now
    return f"collecting until {local_time(event.collect_until, event.timezone)}"


def span(tracked: list[PostDelivery]) -> tuple[datetime, datetime] | None:
    if not tracked:
        return None
    return min(d.due_at for d in tracked), max(d.due_at for d in tracked)


def still_to_send(posts: list[ScheduledPost]) -> list[tuple[ScheduledPost, list[PostDelivery]]]:
    found = []
    for post in posts:
        pending = [d for d in post.deliveries if d.state == "pending"]
        if pending and not post.skipped:
            found.append((post, pending))
    return found


__all__ = [
    "DROPPED",
    "find_post",
    "live_deliveries",
    "move_window",
    "norm_label",
    "post_group",
    "span",
    "still_to_send",
]
