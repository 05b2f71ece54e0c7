"""Live controls of a running chat: pause, resume, skip, delay, post-now (database functions).

Each control has one meaning, the same from the CLI and from the live page
(the table in docs/running.md), and returns what it did as a
:class:`ControlReport`; none prints.

- **pause**: nothing more goes out until resume; times and windows stay.
- **resume**: the posts that fell due meanwhile go out now (their due time
  becomes now), or, more than the late limit behind, are skipped now; the
  report names each, so nothing happens later that it did not say.
- **skip**: a post never goes out; a question takes its reminder and its
  follow-ups (Q3 → A3 reminder, Q3a, A3a reminder) with it unless ``only``.
- **delay**: every post not yet sent moves by the amount (earlier when
  negative, never into the past), and the collection window moves with the
  first and last posts.
- **post-now**: the post is due now (a skipped one is taken back), behind any
  earlier post already due; refused while an earlier one is not due yet.

Every command a report suggests is built by :func:`chatbot.hints.command`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from chatbot import db
from chatbot.bot.delivery import may_have_landed
from chatbot.bot.eventstatus import EventStatus, PostStatus, local_time, posts_of, status
from chatbot.bot.outbox import finish_if_done, lock_event
from chatbot.bot.postgroups import (
    find_post,
    live_deliveries,
    move_window,
    post_group,
    span,
    still_to_send,
)
from chatbot.bot.runsettings import (
    default_late_limit,
    late_limit_of,
    live_event_ids,
    set_options,
)
from chatbot.errors import UsageError
from chatbot.eventref import resolve_event
from chatbot.hints import command, commands_in
from chatbot.models import LIVE_EVENT_STATES, Event, PostDelivery, ScheduledPost
from chatbot.questionfile.timing import MAX_DURATION, format_duration, parse_duration


@dataclass(frozen=True)
class ControlReport:
    """What a control changed, as lines to show (the commands they suggest in backticks)."""

    event_id: int
    lines: tuple[str, ...]

    def summary(self) -> str:
        return "\n".join(self.lines)

    @property
    def commands(self) -> list[list[str]]:
        """The arguments of each command the lines suggest (after ``chatbot``)."""
        return commands_in(self.summary())

    def as_dict(self) -> dict[str, object]:
        """What ``--json`` prints: the lines, and each suggested command's arguments."""
        return {"event_id": self.event_id, "lines": list(self.lines), "commands": self.commands}


def parse_delay(text: str) -> timedelta:
    """A ``delay`` amount such as ``5m``, ``90s``, ``1h30m``, or ``-5m`` (earlier)."""
    given = text.strip()
    sign = -1 if given.startswith("-") else 1
    delta = parse_duration(given.removeprefix("-").removeprefix("+"))
    if delta is None or delta > MAX_DURATION:
        raise UsageError(
            f"{text!r} is not a duration; write e.g. 5m, 90s or 1h30m (-5m: five minutes earlier)"
        )
    return sign * delta


def parse_late_limit(text: str) -> timedelta:
    """A ``--late-limit`` value such as ``10m`` (a duration, not negative)."""
    delta = parse_delay(text)
    if delta < timedelta(0):
        raise UsageError(f"--late-limit {text!r} is negative; write e.g. 10m")
    return delta


def _event(
    session: Session, ref: str, now: datetime, action: str, *, finished_ok: bool = False
) -> tuple[Event, int]:
    """The live event ``ref`` names, locked before its posts (the outbox's lock order)."""
    event = resolve_event(session, ref, purpose="act", now=now)
    assert event.id is not None
    lock_event(session, event.id)
    allowed = (*LIVE_EVENT_STATES, "finished") if finished_ok else LIVE_EVENT_STATES
    if event.state not in allowed:
        raise UsageError(
            f"#{event.hashtag} (event {event.id}) is {event.state}; there is nothing left to "
            f"{action}. Load the file with another --start to run it again"
        )
    return event, event.id


def pause(engine: Engine, ref: str, *, now: datetime) -> ControlReport:
    """Stop posting the event's posts (one already being sent still finishes)."""
    with db.session_scope(engine) as session:
        event, event_id = _event(session, ref, now, "pause")
        if event.paused:
            return ControlReport(event_id, (f"#{event.hashtag} is already paused.",))
        event.paused, event.updated_at = True, now
        session.add(event)
        line = (
            f"Paused #{event.hashtag} (event {event_id}) at {local_time(now, event.timezone)}: "
            f"no more posts until {command('resume', event_id)}. A post that falls due "
            "meanwhile goes out at the resume, or is skipped then if it is more than the "
            "late limit behind."
        )
        return ControlReport(event_id, (line,))


def resume(
    engine: Engine, ref: str, *, now: datetime, late_limit: timedelta | None = None
) -> ControlReport:
    """Post again. Each post that fell due during the pause goes out now, or is skipped now.

    ``late_limit`` is the default (else the setting ``late_limit_seconds``); an
    event whose run stored its own (``chatbot run --late-limit``) is judged by
    that one, as the run would judge it.
    """
    with db.session_scope(engine) as session:
        event, event_id = _event(session, ref, now, "resume")
        if not event.paused:
            return ControlReport(event_id, (f"#{event.hashtag} is not paused.",))
        limit = late_limit_of(event, default_late_limit() if late_limit is None else late_limit)
        event.paused, event.updated_at = False, now
        session.add(event)
        posts = posts_of(session, event)
        tracked = live_deliveries(posts)
        before = span(tracked)
        lines = [f"Resumed #{event.hashtag} (event {event_id})."]
        for post in posts:
            held = [d for d in post.deliveries if d.state == "pending" and d.due_at <= now]
            if not held:
                continue
            due = min(d.due_at for d in held)
            late = now - due
            when = f"{post.label} (due {local_time(due, event.timezone)})"
            if late > limit and not any(may_have_landed(d) for d in held):
                # As the runner words a late skip, so that status shows "skipped: 12m late ...".
                reason = (
                    f"skipped: {format_duration(late)} late at the resume "
                    f"(limit {format_duration(limit)})"
                )
                for delivery in held:
                    _set_skipped(session, delivery, now, reason)
                lines.append(
                    f"{when} is {format_duration(late)} late, past the late limit "
                    f"({format_duration(limit)}): skipped. To post it after all: "
                    f"{command('post-now', event_id, post.label)}"
                )
                continue
            for delivery in held:
                delivery.due_at, delivery.next_attempt_at, delivery.updated_at = now, None, now
                session.add(delivery)
            if len(held) == len(post.deliveries):
                post.due_at, post.updated_at = now, now
                session.add(post)
            lines.append(f"{when} goes out now.")
        if len(lines) == 1:
            nxt = _next(posts)
            lines.append(
                f"Nothing fell due during the pause; next: {nxt.label} at "
                f"{local_time(nxt.due_at, event.timezone)}."
                if nxt
                else "Nothing is left to post."
            )
        session.flush()
        finish_if_done(session, event_id, now)
        move_window(event, before, tracked, now)
        session.add(event)
        return ControlReport(event_id, tuple(lines))


def _next(posts: list[ScheduledPost]) -> ScheduledPost | None:
    waiting = [p for p in posts if any(d.state == "pending" for d in p.deliveries)]
    return min(waiting, key=lambda p: (p.due_at, p.position), default=None)


def _set_skipped(session: Session, delivery: PostDelivery, now: datetime, reason: str) -> None:
    delivery.state, delivery.updated_at = "skipped", now
    delivery.last_error = reason
    delivery.claimed_by = None
    session.add(delivery)


def skip(
    engine: Engine, ref: str, label: str, *, now: datetime, only: bool = False
) -> ControlReport:
    """Never post ``label`` where it is not out yet, nor (unless ``only``) its reminder and
    follow-ups."""
    with db.session_scope(engine) as session:
        event, event_id = _event(session, ref, now, "skip")
        posts = posts_of(session, event)
        post = find_post(event, posts, label)
        group = [post] if only else post_group(posts, post)
        pending = [d for member in group for d in member.deliveries if d.state == "pending"]
        out = [d for d in post.deliveries if d.state in ("posting", "posted")]
        if not [d for d in post.deliveries if d.state == "pending"]:
            if out:
                where = " and ".join(f"{d.network} ({d.state})" for d in out)
                rest = [
                    m for m in group if m is not post and any(d in pending for d in m.deliveries)
                ]
                also = "".join(
                    f"; to skip its {m.label}: {command('skip', event_id, m.label, '--only')}"
                    for m in rest
                )
                raise UsageError(
                    f"{post.label} of #{event.hashtag} is already out on {where}; it cannot be "
                    f"skipped. To remove it, delete the post on the network{also}"
                )
            if not pending:
                return ControlReport(
                    event_id, (f"{post.label} is already {post.deliveries[0].state}.",)
                )
        for delivery in pending:
            _set_skipped(session, delivery, now, "skipped by the moderator")
        skipped_posts = [m for m in group if any(d in pending for d in m.deliveries)]
        for member in skipped_posts:
            member.skipped, member.updated_at = True, now
            session.add(member)
        session.flush()
        finish_if_done(session, event_id, now)
        networks = " and ".join(sorted({d.network for d in post.deliveries if d in pending}))
        lines = [f"Skipped {post.label} of #{event.hashtag} on {networks}."]
        if not networks:
            lines = [f"{post.label} of #{event.hashtag} is already {post.deliveries[0].state}."]
        others = [m.label for m in skipped_posts if m is not post]
        if others:
            lines.append(f"Skipped with it: {', '.join(others)}.")
        lines += [f"note: it was already {d.state} on {d.network}." for d in out]
        revivable = [d for d in post.deliveries if d.state == "skipped"]
        if revivable:
            lines.append(f"To post it after all: {command('post-now', event_id, post.label)}")
        return ControlReport(event_id, tuple(lines))


def delay(engine: Engine, ref: str, amount: timedelta, *, now: datetime) -> ControlReport:
    """Move every post not yet sent ``amount`` later (earlier when negative), with the window.

    Bringing posts forward never puts one in the past: that is refused,
    saying how far they can come forward.
    """
    if amount == timedelta(0):
        raise UsageError("a delay of 0 changes nothing; give e.g. 5m (later) or -5m (earlier)")
    with db.session_scope(engine) as session:
        event, event_id = _event(session, ref, now, "delay")
        posts = posts_of(session, event)
        remaining = still_to_send(posts)
        if not remaining:
            return ControlReport(event_id, (f"#{event.hashtag} has no post left to delay.",))
        tracked = live_deliveries(posts)
        before = span(tracked)
        if amount < timedelta(0):
            _check_forward(event, remaining, amount, now)
        for post, pending in remaining:
            # A post already out on one network keeps its time there; move the rest.
            if len(pending) == len(post.deliveries):
                post.due_at, post.updated_at = post.due_at + amount, now
                session.add(post)
            for delivery in pending:
                delivery.due_at, delivery.updated_at = delivery.due_at + amount, now
                session.add(delivery)
        window = move_window(event, before, tracked, now)
        session.add(event)
        first = min(remaining, key=lambda r: min(d.due_at for d in r[1]))
        how = (
            f"Delayed {_posts(len(remaining))} of #{event.hashtag} by {format_duration(amount)}"
            if amount > timedelta(0)
            else f"Brought {_posts(len(remaining))} of #{event.hashtag} forward by "
            f"{format_duration(-amount)}"
        )
        labels = ", ".join(p.label for p, _ in remaining)
        next_at = local_time(min(d.due_at for d in first[1]), event.timezone)
        return ControlReport(
            event_id, (f"{how} ({labels}); next: {first[0].label} at {next_at}; {window}.",)
        )


def _posts(count: int) -> str:
    return f"{count} post" + ("" if count == 1 else "s")


def _check_forward(
    event: Event,
    remaining: list[tuple[ScheduledPost, list[PostDelivery]]],
    amount: timedelta,
    now: datetime,
) -> None:
    post, deliveries = min(remaining, key=lambda r: min(d.due_at for d in r[1]))
    due = min(d.due_at for d in deliveries)
    if due + amount >= now:
        return
    zone = event.timezone
    room = timedelta(seconds=int((due - now).total_seconds()))  # whole seconds, rounded down
    if room <= timedelta(0):
        raise UsageError(
            f"{post.label} of #{event.hashtag} is due already ({local_time(due, zone)}, now "
            f"{local_time(now, zone)}), so no post can come forward; to send a later post at "
            "once, use chatbot post-now EVENT POST"
        )
    raise UsageError(
        f"bringing the posts {format_duration(-amount)} forward would put {post.label} "
        f"(due {local_time(due, zone)}) at {local_time(due + amount, zone)}, before now "
        f"({local_time(now, zone)}); they can come at most {format_duration(room)} forward: "
        f"{command('delay', event.id, '-' + format_duration(room))}"
    )


def post_now(engine: Engine, ref: str, label: str, *, now: datetime) -> ControlReport:
    """Make ``label`` due now, taking it back if it was skipped (where it is not out).

    Posts go out in order, so an earlier post not due yet would hold it back:
    that is refused with the fix (skip that one, or post it first). An
    earlier post already due goes out just before it.
    """
    with db.session_scope(engine) as session:
        event, event_id = _event(session, ref, now, "post", finished_ok=True)
        posts = posts_of(session, event)
        post = find_post(event, posts, label)
        targets = [d for d in post.deliveries if d.state in ("pending", "skipped")]
        if not targets:
            states = ", ".join(f"{d.network} {d.state}" for d in post.deliveries)
            raise UsageError(
                f"{post.label} of #{event.hashtag} is not waiting to be posted ({states})"
            )
        networks = {d.network for d in targets}
        ahead: list[str] = []
        for earlier, waiting in still_to_send(posts):
            if earlier.position >= post.position:
                break
            if not networks & {d.network for d in waiting}:
                continue
            if any(d.due_at > now for d in waiting if d.network in networks):
                in_group = post in post_group(posts, earlier)
                skip_hint = (
                    command("skip", event_id, earlier.label, "--only")
                    if in_group
                    else command("skip", event_id, earlier.label)
                )
                raise UsageError(
                    f"{earlier.label} comes before {post.label} and is not due yet "
                    f"({local_time(earlier.due_at, event.timezone)}); posts go out in order. "
                    f"Skip it ({skip_hint}) or post it first "
                    f"({command('post-now', event_id, earlier.label)})"
                )
            ahead.append(earlier.label)
        revived = [d for d in targets if d.state == "skipped"]
        reopened = event.state == "finished"
        if reopened:
            event.state, event.updated_at = "running", now
            session.add(event)
        for delivery in targets:
            delivery.state, delivery.due_at, delivery.next_attempt_at = "pending", now, None
            delivery.updated_at, delivery.claimed_by = now, None
            if delivery in revived:
                delivery.last_error = None
            session.add(delivery)
        post.due_at, post.skipped, post.updated_at = now, False, now
        session.add(post)
        where = " and ".join(sorted(networks))
        line = f"{post.label} of #{event.hashtag} is due now ({local_time(now, event.timezone)})"
        line += f" on {where}" + (f", after {', '.join(ahead)} (due already)" if ahead else "")
        lines = [line + "."]
        if revived:
            lines.append(
                f"It was skipped on {' and '.join(d.network for d in revived)}; it is taken back."
            )
        if reopened:
            lines.append(f"#{event.hashtag} was finished: it is open again for this post.")
        if event.paused:
            limit = late_limit_of(event, default_late_limit())
            lines.append(
                f"note: #{event.hashtag} is paused: it goes out at {command('resume', event_id)}"
                f" if that is within the late limit ({format_duration(limit)}) from now; "
                "later, the resume skips it."
            )
        return ControlReport(event_id, tuple(lines))


__all__ = [
    "ControlReport",
    "EventStatus",
    "PostStatus",
    "delay",
    "live_event_ids",
    "parse_delay",
    "parse_late_limit",
    "pause",
    "post_now",
    "resume",
    "set_options",
    "skip",
    "status",
]
