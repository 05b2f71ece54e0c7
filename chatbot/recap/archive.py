"""The archive page: every chat grouped by hashtag series, with series figures (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from chatbot.zones import zone_or_utc

from .render import content_security_policy, environment

__all__ = ["ArchiveEvent", "Series", "build_series", "render_archive"]


@dataclass(frozen=True, slots=True)
class ArchiveEvent:
    """One chat as the archive lists it; ``people`` holds ``network:handle`` keys."""

    id: int
    hashtag: str
    title: str
    start: datetime
    timezone: str
    state: str
    posts: int
    people: frozenset[str]
    recap: str | None = None  # relative link to its recap, when one was written

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(zone_or_utc(self.timezone))


@dataclass(slots=True)
class SeriesRow:
    """A chat within its series: how many came for the first time, how many came back."""

    event: ArchiveEvent
    new: int
    returning: int


@dataclass(slots=True)
class Series:
    """All chats of one hashtag, oldest first, with the series' figures."""

    hashtag: str
    rows: list[SeriesRow] = field(default_factory=list)
    participants: int = 0  # unique across the series
    returning: int = 0  # took part in more than one chat of it
    posts: int = 0


def build_series(events: Iterable[ArchiveEvent]) -> list[Series]:
    """Group chats by hashtag (case-insensitive); series with the latest chat first."""
    groups: dict[str, list[ArchiveEvent]] = {}
    for event in events:
        groups.setdefault(event.hashtag.lower(), []).append(event)
    found: list[Series] = []
    for chats in groups.values():
        chats.sort(key=lambda event: event.start)
        series = Series(hashtag=chats[-1].hashtag)
        seen: set[str] = set()
        times: Counter[str] = Counter()
        for event in chats:
            returning = len(event.people & seen)
            series.rows.append(SeriesRow(event, len(event.people) - returning, returning))
            seen |= event.people
            times.update(event.people)
            series.posts += event.posts
        series.participants = len(seen)
        series.returning = sum(1 for count in times.values() if count > 1)
        series.rows.reverse()  # latest first on the page
        found.append(series)
    found.sort(key=lambda series: series.rows[0].event.start, reverse=True)
    return found


def render_archive(
    events: Iterable[ArchiveEvent],
    *,
    title: str = "Chat archive",
    templates: Path | str | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The archive page's HTML."""
    env = environment(templates)
    css = env.get_template("recap.css").render()
    context: dict[str, Any] = {
        "series": build_series(events),
        "title": title,
        "lang": "en",
        "css": Markup(css),
        "csp": content_security_policy(css),
        "generated_at": generated_at,
    }
    return env.get_template("archive.html").render(context)
