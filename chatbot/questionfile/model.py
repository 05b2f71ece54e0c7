"""The parsed, validated form of a moderator's question file (pure data).

The parser turns a file into an :class:`EventPlan`; storage, preview and the
scheduler only ever see this form, never the file's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

PostKind = Literal["welcome", "question", "reminder", "wrapup"]
NETWORKS: tuple[str, ...] = ("bluesky", "mastodon")


@dataclass(frozen=True)
class Question:
    """One numbered question, e.g. Q2 or the sub-question Q2a."""

    number: int
    suffix: str  # "" for Q2, "a" for Q2a
    text: str
    offset: timedelta  # from the event's start
    line: int  # where it stands in the file (1-based)

    @property
    def label(self) -> str:
        return f"Q{self.number}{self.suffix}"


@dataclass(frozen=True)
class Image:
    """An image a post carries: the file as checked, and its alt text."""

    path: str  # as written in the question file
    file: str  # the absolute path it resolved to
    alt: str
    mime: str  # from the file's bytes: image/png, image/jpeg, image/gif, image/webp
    size: int  # bytes
    width: int
    height: int
    sha256: str
    line: int
    column: int

    def as_dict(self) -> dict[str, object]:
        """The JSON an outbox row stores (``file`` is what is uploaded)."""
        return {
            "path": self.path,
            "file": self.file,
            "alt": self.alt,
            "mime": self.mime,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class PlannedPost:
    """One post the bot will make, with its text rendered for every network."""

    kind: PostKind
    label: str  # "welcome", "Q1", "Q2a", "A1 reminder", "wrapup"
    number: int | None
    suffix: str
    due_at: datetime  # timezone-aware, UTC
    texts: dict[str, str]  # network name -> rendered text
    line: int  # the file line it came from
    media: tuple[Image, ...] = ()  # images posted with it, in file order


@dataclass(frozen=True)
class EventPlan:
    """Everything a question file says, checked and resolved to UTC times."""

    path: str
    hashtag: str  # without the leading '#', case as written
    title: str
    moderators: tuple[str, ...]
    start: datetime  # timezone-aware, in ``timezone``
    timezone: str  # IANA name
    networks: tuple[str, ...]
    accounts: dict[str, str]  # network -> account handle, when given
    welcome: str | None
    questions: tuple[Question, ...]
    wrapup: str | None
    posts: tuple[PlannedPost, ...]
    settings: dict[str, object] = field(default_factory=dict)  # other options
    notes: tuple[str, ...] = ()  # things resolved for the user (e.g. DST overlap)

    @property
    def end(self) -> datetime:
        return max(post.due_at for post in self.posts) if self.posts else self.start


__all__ = ["NETWORKS", "EventPlan", "Image", "PlannedPost", "PostKind", "Question"]
