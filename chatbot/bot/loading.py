"""Storing an event's plan in the outbox: load, and reload without touching posted rows."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from chatbot import db
from chatbot.bot.runsettings import RUN_KEYS
from chatbot.bot.schedule import check_compress, parse_start, shift_plan
from chatbot.config import resolve_settings
from chatbot.errors import ConfigError, EventConflictError, UsageError
from chatbot.models import (
    LIVE_EVENT_STATES,
    LOCKED_DELIVERY_STATES,
    Event,
    PostDelivery,
    ScheduledPost,
    hashtag_key,
    utcnow,
)
from chatbot.platforms.base import IMAGE_NOT_SENT
from chatbot.questionfile.model import NETWORKS, EventPlan, PlannedPost

_SECRET_WORDS = re.compile(r"password|passwd|secret|token|credential", re.IGNORECASE)


@dataclass(frozen=True)
class LoadReport:
    """What loading a plan did to the database."""

    event_id: int
    hashtag: str
    title: str
    timezone: str
    networks: tuple[str, ...]
    start_at: datetime  # UTC
    first_due_at: datetime | None  # UTC
    source_path: str
    created: bool  # a new event, not a reload
    posts: int  # posts in the plan
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    kept: int = 0  # already posted (or being posted): left as they were
    dry_run: bool = False
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """The lines ``chatbot load`` prints."""
        zone = ZoneInfo(self.timezone)
        first = self.first_due_at or self.start_at
        verb = "Would load" if self.dry_run else "Loaded"
        plural = "post" if self.posts == 1 else "posts"
        lines = [
            f'{verb} #{self.hashtag} "{self.title}": {self.posts} {plural} ({self.new} new) '
            f"on {' and '.join(self.networks)}, first "
            f"{first.astimezone(zone).strftime('%Y-%m-%d %H:%M %Z')}"
        ]
        if not self.created:
            lines.append(
                f"{self.updated} updated, {self.unchanged} unchanged, {self.removed} removed, "
                f"{self.kept} kept (already posted)"
            )
        lines.extend(self.notes)
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["networks"] = list(self.networks)
        data["notes"] = list(self.notes)
        data["start_at"] = self.start_at.isoformat()
        data["first_due_at"] = self.first_due_at.isoformat() if self.first_due_at else None
        return data


def post_keys(plan: EventPlan) -> list[str]:
    """Each planned post's stable key: its label, with ``#2``, ``#3`` for repeats."""
    seen: Counter[str] = Counter()
    keys = []
    for post in plan.posts:
        seen[post.label] += 1
        keys.append(post.label if seen[post.label] == 1 else f"{post.label}#{seen[post.label]}")
    return keys


def check_plan(plan: EventPlan) -> None:
    """Refuse a plan the database cannot hold faithfully (before any write)."""
    where = f"{plan.path}:"
    if not plan.networks:
        raise UsageError(f"{where} the event names no network; add bluesky and/or mastodon")
    unknown = [n for n in plan.networks if n not in NETWORKS]
    if unknown:
        raise UsageError(f"{where} unknown network {unknown[0]!r}; use {' or '.join(NETWORKS)}")
    if plan.start.tzinfo is None:
        raise UsageError(f"{where} the start has no time zone")
    for name in plan.settings:
        if _SECRET_WORDS.search(name):
            raise ConfigError(
                f"{where} setting {name!r} looks like a credential; credentials are never "
                "stored: set them in the environment (e.g. CHATBOT_MASTODON_TOKEN)"
            )
    for post in plan.posts:
        if post.due_at.tzinfo is None:
            raise UsageError(f"{where}{post.line}: {post.label} has a time without a zone")
        missing = [n for n in plan.networks if not post.texts.get(n)]
        if missing:
            raise UsageError(f"{where}{post.line}: {post.label} has no text for {missing[0]}")


def load_event(
    target: Session | Engine,
    plan: EventPlan,
    *,
    source_path: str,
    source_sha256: str = "",
    dry_run: bool = False,
) -> LoadReport:
    """Store ``plan`` as an event with its scheduled posts, or update it.

    Posts not yet posted get the plan's text and times (new ones are added,
    vanished ones removed); posts being posted or posted are never touched.
    An event with the same hashtag and start loaded from another file is
    refused with :class:`EventConflictError`; ``source_path`` is compared as
    given (the CLI passes the resolved path).  Given an engine, everything
    happens in one transaction (rolled back with ``dry_run``); given a session,
    in the caller's transaction, which the caller commits.
    """
    check_plan(plan)
    if isinstance(target, Engine):
        with db.session_scope(target, dry_run=dry_run) as session:
            db.migrate(session)
            return _load(session, plan, source_path, source_sha256, dry_run)
    with db.translate_errors(target.get_bind().engine.url):
        return _load(target, plan, source_path, source_sha256, dry_run)


def _load(
    session: Session, plan: EventPlan, source_path: str, sha256: str, dry_run: bool
) -> LoadReport:
    now = utcnow()
    key = hashtag_key(plan.hashtag)
    start = plan.start.astimezone(UTC)
    end = plan.end.astimezone(UTC)
    settings = resolve_settings()
    before = timedelta(minutes=float(settings["collect_before_minutes"]))
    after = timedelta(minutes=float(settings["collect_after_minutes"]))
    # The event row first, then its posts, then their deliveries: the lock order
    # every transaction on the outbox keeps (see chatbot.bot.outbox), or a reload during
    # posting could deadlock on PostgreSQL.  NO KEY UPDATE: the key is not changed.
    event = session.exec(
        select(Event)
        .where(Event.hashtag_key == key, Event.start_at == start)
        .with_for_update(key_share=True)
    ).first()
    if event is not None and event.source_path != source_path:
        raise EventConflictError(
            f"#{event.hashtag} starting {_local(start, event.timezone)} is already loaded "
            f"from {event.source_path} (event {event.id}); load that file instead, or give "
            "this one another start with --start"
        )
    if event is not None and event.state in ("finished", "cancelled"):
        raise EventConflictError(
            f"#{event.hashtag} starting {_local(start, event.timezone)} is {event.state} "
            f"(event {event.id}); to run it again, load it with another --start"
        )
    created = event is None
    if event is None:
        event = Event(
            hashtag=plan.hashtag,
            hashtag_key=key,
            start_at=start,
            source_path=source_path,
            title=plan.title,
            timezone=plan.timezone,
            end_at=end,
            collect_from=start - before,
            collect_until=end + after,
        )
    event.hashtag = plan.hashtag
    event.title = plan.title
    event.timezone = plan.timezone
    event.end_at = end
    event.networks = list(plan.networks)
    event.moderators = list(plan.moderators)
    event.accounts = dict(plan.accounts)
    # Whatever the parser put there, store plain JSON (times and such as text).
    planned = json.loads(json.dumps(plan.settings, default=str))
    # What `chatbot run` stored (layout, recap link, live sources, late limit) outlives a
    # reload of the file, unless the file now says otherwise.
    kept = {k: v for k, v in (event.settings or {}).items() if k in RUN_KEYS and k not in planned}
    event.settings = {**planned, **kept}
    event.source_sha256 = sha256
    event.collect_from = start - before
    event.collect_until = end + after
    event.updated_at = now
    session.add(event)
    session.flush()
    assert event.id is not None
    counts = _sync_posts(session, event, plan, now)
    session.flush()
    return LoadReport(
        event_id=event.id,
        hashtag=plan.hashtag,
        title=plan.title,
        timezone=plan.timezone,
        networks=tuple(plan.networks),
        start_at=start,
        first_due_at=min((p.due_at for p in plan.posts), default=None),
        source_path=source_path,
        created=created,
        posts=len(plan.posts),
        dry_run=dry_run,
        notes=(*plan.notes, *_other_events(session, event)),
        **counts,
    )


def _sync_posts(session: Session, event: Event, plan: EventPlan, now: datetime) -> dict[str, int]:
    assert event.id is not None
    # Under the event lock (taken in _load), lock the posts, then their deliveries, so
    # a runner recording a post waits for this reload, or this reload sees it posted.
    posts = select(ScheduledPost).where(ScheduledPost.event_id == event.id)
    existing = {
        post.key: post
        for post in session.exec(posts.order_by(col(ScheduledPost.id)).with_for_update())
    }
    deliveries = select(PostDelivery).where(PostDelivery.event_id == event.id)
    list(session.exec(deliveries.order_by(col(PostDelivery.id)).with_for_update()))
    counts = dict.fromkeys(("new", "updated", "unchanged", "removed", "kept"), 0)
    for position, (post_key, planned) in enumerate(zip(post_keys(plan), plan.posts, strict=True)):
        row = existing.pop(post_key, None)
        if row is None:
            row = ScheduledPost(
                event_id=event.id,
                key=post_key,
                kind=planned.kind,
                label=planned.label,
                number=planned.number,
                suffix=planned.suffix,
                position=position,
                line=planned.line,
                due_at=planned.due_at,
                original_due_at=planned.due_at,
                media=media_of(planned),
            )
            session.add(row)
            session.flush()
            for network in plan.networks:
                session.add(_delivery(event, row, network, planned.texts[network]))
            counts["new"] += 1
        elif _is_kept(row):
            # Posted on one network, refused on another for its image: that one waits again.
            revived = _revive_image_failures(row, planned, now)
            counts["updated" if revived else "kept"] += 1
        else:
            changed = _update_post(session, event, row, planned, plan.networks, position, now)
            counts["updated" if changed else "unchanged"] += 1
    for row in existing.values():
        if _is_kept(row):
            counts["kept"] += 1
        else:
            session.delete(row)
            counts["removed"] += 1
    return counts


def _revive_image_failures(row: ScheduledPost, planned: PlannedPost, now: datetime) -> bool:
    """Take back the deliveries of a posted row that failed for their image (see below)."""
    failed = [d for d in row.deliveries if _failed_for_image(d)]
    for delivery in failed:
        _revive(delivery, now)
    if failed:
        row.media, row.updated_at = media_of(planned), now
    return bool(failed)


def _revive(delivery: PostDelivery, now: datetime) -> None:
    # That try posted nothing (images are read and checked before the post): the post
    # waits again, to go out with the images as loaded now.
    delivery.state, delivery.last_error, delivery.next_attempt_at = "pending", None, None
    delivery.attempts = max(0, delivery.attempts - 1)
    delivery.updated_at = now


def _failed_for_image(delivery: PostDelivery) -> bool:
    return delivery.state == "failed" and IMAGE_NOT_SENT in (delivery.last_error or "")


def media_of(planned: PlannedPost) -> list[dict[str, Any]]:
    """The images a planned post carries, as its row stores them (a changed file: new sha256)."""
    return [image.as_dict() for image in planned.media]


def _is_kept(row: ScheduledPost) -> bool:
    return any(d.state in LOCKED_DELIVERY_STATES for d in row.deliveries)


def _update_post(
    session: Session,
    event: Event,
    row: ScheduledPost,
    planned: PlannedPost,
    networks: tuple[str, ...],
    position: int,
    now: datetime,
) -> bool:
    # A live delay (due_at moved from original_due_at) survives a reload.
    delay = row.due_at - row.original_due_at
    due = planned.due_at.astimezone(UTC) + delay
    identity = (planned.kind, planned.label, planned.number, planned.suffix)
    changed = (row.kind, row.label, row.number, row.suffix, row.due_at) != (*identity, due)
    media = media_of(planned)
    changed = changed or list(row.media or []) != media
    row.kind, row.label, row.number, row.suffix = identity
    row.media = media
    row.position, row.line = position, planned.line
    row.original_due_at, row.due_at = planned.due_at, due
    by_network = {d.network: d for d in row.deliveries}
    for network in networks:
        delivery = by_network.pop(network, None)
        if delivery is None:
            session.add(_delivery(event, row, network, planned.texts[network]))
            changed = True
            continue
        if (delivery.text, delivery.due_at) != (planned.texts[network], due):
            delivery.text, delivery.due_at, delivery.updated_at = planned.texts[network], due, now
            changed = True
        if _failed_for_image(delivery):
            _revive(delivery, now)
            changed = True
    for delivery in by_network.values():  # a network dropped from the plan
        row.deliveries.remove(delivery)
        changed = True
    if changed:
        row.updated_at = now
    session.add(row)
    return changed


def _delivery(event: Event, row: ScheduledPost, network: str, text: str) -> PostDelivery:
    assert event.id is not None and row.id is not None
    seed = f"{event.hashtag_key}|{event.start_at.isoformat()}|{event.id}|{row.key}|{network}"
    return PostDelivery(
        scheduled_post_id=row.id,
        event_id=event.id,
        network=network,
        text=text,
        due_at=row.due_at,
        idempotency_key="chatbot-" + hashlib.sha256(seed.encode()).hexdigest()[:32],
    )


def _other_events(session: Session, event: Event) -> list[str]:
    """Warn about other live events of this hashtag loaded from the same file."""
    others = session.exec(
        select(Event).where(
            Event.hashtag_key == event.hashtag_key,
            Event.source_path == event.source_path,
            Event.id != event.id,
            col(Event.state).in_(LIVE_EVENT_STATES),
        )
    ).all()
    return [
        f"note: event {other.id} of #{other.hashtag} from the same file is also scheduled, "
        f"starting {_local(other.start_at, other.timezone)}; both will be posted"
        for other in others
    ]


def _local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def prepare_plan(
    path: str | Path,
    *,
    start: str | None = None,
    compress: float = 1,
    allow_past: bool = False,
    now: datetime | None = None,
    data: bytes | None = None,
) -> EventPlan:
    """Read and check a question file, moved by ``--start`` / ``--compress`` values.

    ``data``, when given, is the file's content (standard input), ``path`` its name.
    """
    # Imported here so storage can be used without the parser loaded.
    from chatbot.questionfile import load_plan

    now = now or utcnow()
    check_compress(compress)
    plan: EventPlan = load_plan(
        path, allow_past=allow_past or start is not None, now=now, data=data
    )
    if start is None and compress == 1:
        return plan
    new_start = parse_start(start, timezone=plan.timezone, now=now) if start else None
    plan = shift_plan(plan, start=new_start, compress=compress)
    first = min((p.due_at for p in plan.posts), default=plan.start)
    if start is not None and not allow_past and first < now:
        raise UsageError(
            f"--start {start} puts the first post at {_local(first, plan.timezone)}, "
            "which is in the past; give a later --start (e.g. +5m), or add --allow-past"
        )
    return plan


def load_file(
    path: str | Path,
    *,
    database_url: str | None = None,
    start: str | None = None,
    compress: float = 1,
    allow_past: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    data: bytes | None = None,
) -> LoadReport:
    """``chatbot load`` as a function: check the file, then store it in one transaction.

    With ``data`` (the file's content, read from standard input) ``path`` is
    only its name, stored as the event's source as it is: loading standard
    input again updates the same event.
    """
    plan = prepare_plan(
        path, start=start, compress=compress, allow_past=allow_past, now=now, data=data
    )
    source = Path(path)
    if data is None:
        data = source.read_bytes()
        source = source.resolve()
    sha256 = hashlib.sha256(data).hexdigest()
    # load_event migrates inside its own transaction, so a dry run changes nothing.
    with db.open_store(database_url, migrated=False) as engine:
        return load_event(
            engine, plan, source_path=str(source), source_sha256=sha256, dry_run=dry_run
        )


__all__ = ["LoadReport", "check_plan", "load_event", "load_file", "post_keys", "prepare_plan"]
