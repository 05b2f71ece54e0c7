"""Live controls of a running chat: status, pause, resume, skip, delay, post-now (DB functions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from chatbot import db
from chatbot.bot.eventstatus import EventStatus, PostStatus, local_time, posts_of, status
from chatbot.bot.outbox import FINAL_STATES, LAYOUTS, finish_if_done, lock_event, with_recap
from chatbot.collect.live import LIVE_SETTING, live_sources
from chatbot.errors import UsageError
from chatbot.eventref import resolve_event
from chatbot.models import LIVE_EVENT_STATES, Event, PostDelivery, ScheduledPost
from chatbot.questionfile.timing import MAX_DURATION, format_duration, parse_duration
from chatbot.text.length import (
    BLUESKY_MAX_BYTES,
    BLUESKY_MAX_GRAPHEMES,
    MASTODON_DEFAULT_LIMIT,
    bluesky_length,
    mastodon_length,
)


@dataclass(frozen=True)
class ControlReport:
    """What a control changed, as the lines the command prints."""

    event_id: int
    lines: tuple[str, ...]

    def summary(self) -> str:
        return "\n".join(self.lines)


def parse_delay(text: str) -> timedelta:
    """A ``delay`` / ``--late-limit`` value such as ``5m``, ``90s`` or ``1h30m``."""
    delta = parse_duration(text)
    if delta is None or delta > MAX_DURATION:
        raise UsageError(f"{text!r} is not a duration; write e.g. 5m, 90s or 1h30m")
    return delta


def _find_post(session: Session, event: Event, label: str) -> ScheduledPost:
    wanted = label.strip().lower().replace("-", "")
    posts = posts_of(session, event)
    for post in posts:
        if wanted in (post.key.lower().replace("-", ""), post.label.lower().replace("-", "")):
            return post
    known = ", ".join(p.key for p in posts)
    raise UsageError(
        f"#{event.hashtag} (event {event.id}) has no post {label!r}; its posts: {known}"
    )


def _lock(session: Session, event: Event) -> None:
    """Lock the event (and read it again) before its posts: the lock order of chatbot.bot.outbox."""
    if event.id is not None:
        lock_event(session, event.id)


def _live(event: Event, action: str) -> None:
    if event.state not in LIVE_EVENT_STATES:
        raise UsageError(
            f"#{event.hashtag} (event {event.id}) is {event.state}; there is nothing left to "
            f"{action}. Load the file with another --start to run it again"
        )


def pause(engine: Engine, ref: str, *, now: datetime) -> ControlReport:
    """Stop posting the event's posts (one already being sent still finishes)."""
    with db.session_scope(engine) as session:
        event = resolve_event(session, ref, purpose="act", now=now)
        _live(event, "pause")
        assert event.id is not None
        if event.paused:
            return ControlReport(event.id, (f"#{event.hashtag} is already paused.",))
        event.paused, event.updated_at = True, now
        session.add(event)
        line = (
            f"Paused #{event.hashtag} (event {event.id}): no more posts until "
            f"`chatbot resume {event.id}`."
        )
        return ControlReport(event.id, (line,))


def resume(engine: Engine, ref: str, *, now: datetime, late_limit: timedelta) -> ControlReport:
    """Post again; says which posts are now overdue and which are past the late limit."""
    with db.session_scope(engine) as session:
        event = resolve_event(session, ref, purpose="act", now=now)
        _live(event, "resume")
        assert event.id is not None
        if not event.paused:
            return ControlReport(event.id, (f"#{event.hashtag} is not paused.",))
        event.paused, event.updated_at = False, now
        session.add(event)
        lines = [f"Resumed #{event.hashtag} (event {event.id})."]
        for post in posts_of(session, event):
            if post.skipped or all(d.state in FINAL_STATES for d in post.deliveries):
                continue
            overdue = now - post.due_at
            if overdue <= timedelta(0):
                break
            if overdue > late_limit:
                lines.append(
                    f"{post.label} is {format_duration(overdue)} overdue, past the late limit "
                    f"({format_duration(late_limit)}): it will be skipped. To post it instead: "
                    f"chatbot pause {event.id}; chatbot delay {event.id} {format_duration(overdue)}"
                    f"; chatbot resume {event.id}"
                )
            else:
                lines.append(
                    f"{post.label} is {format_duration(overdue)} overdue: it goes out now."
                )
        return ControlReport(event.id, tuple(lines))


def skip(engine: Engine, ref: str, label: str, *, now: datetime) -> ControlReport:
    """Never post ``label`` (on the networks where it is not already out)."""
    with db.session_scope(engine) as session:
        event = resolve_event(session, ref, purpose="act", now=now)
        _lock(session, event)
        _live(event, "skip")
        assert event.id is not None
        post = _find_post(session, event, label)
        pending = [d for d in post.deliveries if d.state == "pending"]
        out = [d for d in post.deliveries if d.state in ("posting", "posted")]
        if not pending:
            if out:
                where = " and ".join(f"{d.network} ({d.state})" for d in out)
                raise UsageError(
                    f"{post.label} of #{event.hashtag} is already out on {where}; it cannot be "
                    "skipped. To remove it, delete the post on the network"
                )
            return ControlReport(
                event.id, (f"{post.label} is already {post.deliveries[0].state}.",)
            )
        for delivery in pending:
            delivery.state, delivery.updated_at = "skipped", now
            delivery.last_error = "skipped by the moderator"
            delivery.claimed_by = None
            session.add(delivery)
        post.skipped, post.updated_at = True, now
        session.add(post)
        session.flush()
        finish_if_done(session, event.id, now)
        networks = " and ".join(d.network for d in pending)
        lines = [f"Skipped {post.label} of #{event.hashtag} on {networks}."]
        lines += [f"note: it was already {d.state} on {d.network}." for d in out]
        return ControlReport(event.id, tuple(lines))


def _remaining(session: Session, event: Event) -> list[tuple[ScheduledPost, list[PostDelivery]]]:
    found = []
    for post in posts_of(session, event):
        pending = [d for d in post.deliveries if d.state == "pending"]
        if pending and not post.skipped:
            found.append((post, pending))
    return found


def delay(engine: Engine, ref: str, amount: timedelta, *, now: datetime) -> ControlReport:
    """Move every post not yet sent ``amount`` later."""
    if amount <= timedelta(0):
        raise UsageError("the delay must be more than 0; e.g. chatbot delay sm35 5m")
    with db.session_scope(engine) as session:
        event = resolve_event(session, ref, purpose="act", now=now)
        _lock(session, event)
        _live(event, "delay")
        assert event.id is not None
        remaining = _remaining(session, event)
        if not remaining:
            return ControlReport(event.id, (f"#{event.hashtag} has no post left to delay.",))
        for post, pending in remaining:
            # A post already out on one network keeps its time there; move the rest.
            if len(pending) == len(post.deliveries):
                post.due_at, post.updated_at = post.due_at + amount, now
                session.add(post)
            for delivery in pending:
                delivery.due_at, delivery.updated_at = delivery.due_at + amount, now
                session.add(delivery)
        first = remaining[0][0]
        labels = ", ".join(p.label for p, _ in remaining)
        return ControlReport(
            event.id,
            (
                f"Delayed {len(remaining)} posts of #{event.hashtag} by {format_duration(amount)} "
                f"({labels}); next: {first.label} at "
                f"{local_time(remaining[0][1][0].due_at, event.timezone)}.",
            ),
        )


def post_now(engine: Engine, ref: str, label: str, *, now: datetime) -> ControlReport:
    """Make ``label`` due now (it goes out within a couple of seconds).

    Posts before it that are not due yet would hold it back (posts go out in
    order), so that is refused with the fix: skip them or post them first.
    """
    with db.session_scope(engine) as session:
        event = resolve_event(session, ref, purpose="act", now=now)
        _lock(session, event)
        _live(event, "post")
        assert event.id is not None
        post = _find_post(session, event, label)
        pending = [d for d in post.deliveries if d.state == "pending"]
        if not pending:
            states = ", ".join(f"{d.network} {d.state}" for d in post.deliveries)
            raise UsageError(
                f"{post.label} of #{event.hashtag} is not waiting to be posted ({states})"
            )
        for earlier, waiting in _remaining(session, event):
            if earlier.position >= post.position:
                break
            # An earlier post already due goes out first, in order; a later-due one would block.
            later = {d.network for d in waiting if d.due_at > now}
            if later & {d.network for d in pending}:
                raise UsageError(
                    f"{earlier.label} comes before {post.label} and is not due yet "
                    f"({local_time(earlier.due_at, event.timezone)}); posts go out in order. "
                    f"Skip it (chatbot skip {event.id} {earlier.label}) or post it first "
                    f"(chatbot post-now {event.id} {earlier.label})"
                )
        for delivery in pending:
            delivery.due_at, delivery.next_attempt_at, delivery.updated_at = now, None, now
            session.add(delivery)
        post.due_at, post.updated_at = now, now
        session.add(post)
        lines = [
            f"{post.label} of #{event.hashtag} is due now ({local_time(now, event.timezone)})."
        ]
        if event.paused:
            lines.append(f"note: the event is paused; it goes out after chatbot resume {event.id}.")
        return ControlReport(event.id, tuple(lines))


def set_options(
    engine: Engine,
    event_ids: list[int],
    *,
    layout: str | None = None,
    recap_url: str | None = None,
    live: str | None = None,
) -> None:
    """Store ``chatbot run``'s --layout / --recap-url / --live in the events (so restarts
    keep them)."""
    if layout is not None and layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; use {' or '.join(LAYOUTS)}")
    if recap_url is not None and not recap_url.startswith(("https://", "http://")):
        raise UsageError(f"--recap-url {recap_url!r} must start with https://")
    if live is not None:
        live_sources(live)
    with db.session_scope(engine) as session:
        for event_id in sorted(event_ids):  # several events: locked in id order
            event = session.get(Event, event_id)
            if event is None:
                continue
            settings = dict(event.settings or {})
            if layout is not None:
                settings["layout"] = layout
            if recap_url is not None:
                settings["recap_url"] = recap_url
                _check_recap(session, event, recap_url)
            if live is not None:
                settings[LIVE_SETTING] = live
            event.settings = settings  # a new dict, so the JSON column is written
            session.add(event)


def _check_recap(session: Session, event: Event, url: str) -> None:
    for post in posts_of(session, event):
        if post.kind != "wrapup":
            continue
        for delivery in post.deliveries:
            if delivery.state != "pending":
                continue
            text = with_recap(delivery.text, url)
            if delivery.network == "bluesky":
                graphemes, size = bluesky_length(text)
                too_long = graphemes > BLUESKY_MAX_GRAPHEMES or size > BLUESKY_MAX_BYTES
                measured = f"{graphemes} graphemes; Bluesky allows {BLUESKY_MAX_GRAPHEMES}"
            else:
                limit = int((event.settings or {}).get("mastodon_limit") or MASTODON_DEFAULT_LIMIT)
                length = mastodon_length(text)
                too_long, measured = length > limit, f"{length} characters; the limit is {limit}"
            if too_long:
                raise UsageError(
                    f"the wrap-up of #{event.hashtag} with --recap-url is {measured} on "
                    f"{delivery.network}; shorten the wrap-up in {event.source_path} and load it "
                    "again, or use a shorter URL"
                )


def live_event_ids(engine: Engine) -> list[int]:
    """The ids of every event not finished or cancelled."""
    with db.session_scope(engine) as session:
        return [
            e.id
            for e in session.exec(select(Event).where(col(Event.state).in_(LIVE_EVENT_STATES)))
            if e.id is not None
        ]


__all__ = [
    "ControlReport",
    "EventStatus",
    "PostStatus",
    "delay",
    "live_event_ids",
    "parse_delay",
    "pause",
    "post_now",
    "resume",
    "set_options",
    "skip",
    "status",
]
