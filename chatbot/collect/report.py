"""What a collection pass did, per network, for the scheduler's log and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SHOWN_NOT_PUBLIC = 10  # addresses a summary names before it says "and N more"


@dataclass
class SourceCount:
    """What one source did on one server in a pass: pages, requests, errors, its feed."""

    pages: int = 0
    requests: int = 0
    errors: int = 0
    last_error: str = ""
    feed: str = ""  # the hashtag feed: "open", "no posts yet ...", "closed: why"; "" untold
    tag_history: list[dict[str, Any]] | None = None  # the server's daily tag counts

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"pages": self.pages, "requests": self.requests}
        found["errors"] = self.errors
        if self.last_error:
            found["last_error"] = self.last_error
        if self.feed:
            found["feed"] = self.feed
        return found


@dataclass
class NetworkReport:
    """One network's part of a pass."""

    new: int = 0
    updated: int = 0
    deleted: int = 0
    pages: int = 0
    threads: int = 0
    checked: int = 0
    requests: int = 0
    participants: int = 0  # accounts added or changed (followers, opt-outs)
    errors: list[str] = field(default_factory=list)
    blocked_until: datetime | None = None  # rate limited or out of budget
    notes: list[str] = field(default_factory=list)  # what a feed said instead of posts
    server: str = ""  # the software the network's server runs, when it said
    stream: str = ""  # how the stream stands: "websocket", "sse", "reconnecting", "off: why"
    stream_gaps: int = 0  # reconnections of the stream this pass (each backfilled by the poll)
    # Posts met this pass that no transcript will show because they are not public
    # (unlisted, as new GoToSocial accounts post by default): their web addresses.
    not_public: list[str] = field(default_factory=list)
    # Replies the network counts under posts whose threads were read to the end, that
    # no read showed (deleted, blocked or taken down): Bluesky's thread completion.
    unseen_replies: int = 0
    # Per server (base URL) and kind of reading: what each source did this pass.
    sources: dict[tuple[str, str], SourceCount] = field(default_factory=dict)
    current: tuple[str, str] = ("", "")  # the server and source now reading

    def reading(self, instance: str, source: str) -> SourceCount:
        """From now on requests and errors count for ``source`` on ``instance``."""
        self.current = (instance, source)
        return self.source(instance, source)

    def source(self, instance: str, source: str) -> SourceCount:
        return self.sources.setdefault((instance, source), SourceCount())

    def reading_now(self) -> SourceCount:
        return self.source(*self.current)

    def failed(self, error: str) -> None:
        """An error of the source now reading (also in the pass's list)."""
        self.errors.append(error)
        count = self.reading_now()
        count.errors += 1
        count.last_error = error


@dataclass
class CollectReport:
    """The result of one :meth:`Collector.step` or :func:`collect_once`."""

    event_id: int
    hashtag: str
    started_at: datetime
    finished_at: datetime | None = None
    swept: bool = False  # known posts were checked for edits and deletions
    networks: dict[str, NetworkReport] = field(default_factory=dict)
    next_at: datetime | None = None  # when the collector wants to run again
    done: bool = False  # the window is over and the final check is made

    def network(self, name: str) -> NetworkReport:
        return self.networks.setdefault(name, NetworkReport())

    @property
    def new(self) -> int:
        return sum(n.new for n in self.networks.values())

    @property
    def updated(self) -> int:
        return sum(n.updated for n in self.networks.values())

    @property
    def deleted(self) -> int:
        return sum(n.deleted for n in self.networks.values())

    @property
    def errors(self) -> list[str]:
        return [e for n in self.networks.values() for e in n.errors]

    def summary(self) -> str:
        parts = [
            f"{name}: {n.new} new, {n.updated} updated, {n.deleted} deleted"
            + (f" ({len(n.errors)} errors)" if n.errors else "")
            for name, n in sorted(self.networks.items())
        ]
        lines = [f"#{self.hashtag}: " + ("; ".join(parts) or "no networks")]
        for name, n in sorted(self.networks.items()):
            lines += [f"  {name}: {note}" for note in n.notes]
            if n.unseen_replies:
                one = n.unseen_replies == 1
                lines.append(
                    f"  {name}: {n.unseen_replies} {'reply' if one else 'replies'} that the "
                    f"network counts in the threads read {'is' if one else 'are'} in none of "
                    "them (deleted, blocked or taken down)"
                )
            if n.not_public:
                shown = ", ".join(n.not_public[:SHOWN_NOT_PUBLIC])
                more = len(n.not_public) - SHOWN_NOT_PUBLIC
                lines.append(
                    f"  {name}: {len(n.not_public)} posts seen are not public (unlisted or "
                    f"private), so no transcript will show them: {shown}"
                    + (f" and {more} more" if more > 0 else "")
                )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "event_id": self.event_id,
            "hashtag": self.hashtag,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "swept": self.swept,
            "done": self.done,
            "next_at": iso(self.next_at),
            "new": self.new,
            "updated": self.updated,
            "deleted": self.deleted,
            "networks": {
                name: {
                    "new": n.new,
                    "updated": n.updated,
                    "deleted": n.deleted,
                    "pages": n.pages,
                    "threads": n.threads,
                    "checked": n.checked,
                    "requests": n.requests,
                    "participants": n.participants,
                    "errors": n.errors,
                    "blocked_until": iso(n.blocked_until),
                    "notes": n.notes,
                    "server": n.server,
                    "stream": n.stream,
                    "stream_gaps": n.stream_gaps,
                    "not_public": n.not_public,
                    "unseen_replies": n.unseen_replies,
                    "sources": [
                        {"instance": instance, "source": source, **count.as_dict()}
                        for (instance, source), count in sorted(n.sources.items())
                    ],
                }
                for name, n in sorted(self.networks.items())
            },
        }


__all__ = ["CollectReport", "NetworkReport", "SourceCount"]
