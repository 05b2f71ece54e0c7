"""Which posts to read again so Bluesky threads come back whole (pure: no I/O).

``getPostThread`` answers a bounded tree: ``depth`` levels below the post asked
for, and on production only some replies per post below the first level
(``getPostThreadV2``'s ``nestedBranchingFactor``, 10 by default). Every post
view carries the network's own ``replyCount``, so a post whose count is above
the replies known for it has replies the answer left out, and reading the
thread again *at that post* brings its direct replies (an anchor's own
replies all come back) and the levels below them.

Some replies are counted but never shown (a taken-down or blocking author, a
post the AppView lost): those counts never agree. So a post is read as an
anchor at most once a pass, and a post read whose count still disagreed is
*settled* at that count: later passes read it again only once its count
grows. The shortfall is counted, never looped on. The settled counts are the
only state kept between passes (:meth:`Ledger.state`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Posts settled with replies that cannot be seen, kept between passes; beyond this
# the oldest entries are dropped (such a post may then cost one more read).
MAX_SETTLED = 5000
Seen = tuple[str, str | None, int]  # a post a read returned: URI, parent's URI, replyCount


@dataclass
class Ledger:
    """What one pass knows of reply counts and replies, and which posts it has read."""

    counts: dict[str, int] = field(default_factory=dict)  # the newest replyCount seen
    children: dict[str, set[str]] = field(default_factory=dict)  # replies seen, by parent
    stored: dict[str, int] = field(default_factory=dict)  # live replies stored, by parent
    read: set[str] = field(default_factory=set)  # read as a thread's anchor this pass
    settled: dict[str, int] = field(default_factory=dict)  # from earlier passes too

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Ledger:
        """A pass's ledger that remembers what earlier passes settled."""
        raw = state.get("settled") or {}
        settled = {
            str(uri): count
            for uri, count in (raw.items() if isinstance(raw, Mapping) else ())
            if type(count) is int and count > 0  # not a bool, not garbled
        }
        return cls(settled=settled)

    def state(self) -> dict[str, Any]:
        """What to keep for the next pass: the settled posts and their counts."""
        kept = list(self.settled.items())[-MAX_SETTLED:]
        return {"settled": dict(kept)}

    def observe(self, uri: str, parent: str | None, count: int) -> None:
        """Note a post a read returned: its parent's URI and its replyCount."""
        self.counts[uri] = max(count, 0)
        if parent:
            self.children.setdefault(parent, set()).add(uri)

    def known(self, uri: str) -> int:
        """How many replies to ``uri`` are known: seen this pass, or stored before."""
        return max(len(self.children.get(uri, ())), self.stored.get(uri, 0))

    def missing(self, uri: str) -> int:
        """How many replies the network counts for ``uri`` beyond those known."""
        return max(self.counts.get(uri, 0) - self.known(uri), 0)

    def observe_all(self, posts: Iterable[Seen]) -> list[str]:
        """Note every post of a read (or of a page); their URIs, in order."""
        uris = []
        for uri, parent, count in posts:
            self.observe(uri, parent, count)
            uris.append(uri)
        return uris

    def record_read(self, uri: str, posts: Iterable[Seen] | None) -> list[str]:
        """Note a read at ``uri``: the posts it returned (None: no such post any more).

        Call it once the stored replies of ``uri`` are in :attr:`stored`.
        """
        if posts is None:
            self.gone(uri)
            return []
        uris = self.observe_all(posts)
        self.anchored(uri)
        return uris

    def anchored(self, uri: str) -> None:
        """``uri`` was read as an anchor: what it still lacks cannot be seen (for now)."""
        self.read.add(uri)
        if self.missing(uri) > 0:
            self.settled.pop(uri, None)  # re-inserted last: the newest are kept
            self.settled[uri] = self.counts.get(uri, 0)
        else:
            self.settled.pop(uri, None)

    def gone(self, uri: str) -> None:
        """A read at ``uri`` found no such post: nothing to wait for under it."""
        self.read.add(uri)
        self.counts[uri] = 0
        self.settled.pop(uri, None)

    def unseen(self) -> int:
        """Replies counted under the posts read this pass that no read showed."""
        return sum(self.missing(uri) for uri in self.read)


def wanted(ledger: Ledger, uris: Iterable[str]) -> list[str]:
    """Those of ``uris`` to read as an anchor, in order, each once.

    A post is wanted when its replyCount is above the replies known for it, it
    was not read as an anchor this pass, and it is not settled at a count at
    least as high (read before, and no reply has come since).
    """
    chosen: list[str] = []
    picked: set[str] = set()
    for uri in uris:
        if uri in picked or uri in ledger.read or ledger.missing(uri) == 0:
            continue
        settled = ledger.settled.get(uri)
        if settled is not None and ledger.counts.get(uri, 0) <= settled:
            continue
        chosen.append(uri)
        picked.add(uri)
    return chosen


Stored = Callable[[list[str]], Mapping[str, int]]


def choose(ledger: Ledger, uris: Iterable[str], stored: Stored) -> list[str]:
    """:func:`wanted`, once the stored replies of those short of replies are counted."""
    uris = list(uris)
    short = [uri for uri in uris if ledger.missing(uri) > 0 and uri not in ledger.read]
    if short:
        counts = stored(short)
        ledger.stored.update((uri, counts.get(uri, 0)) for uri in short)
    return wanted(ledger, uris)


def complete(
    ledger: Ledger,
    uris: Iterable[str],
    read: Callable[[str], list[str]],
    stored: Stored = lambda uris: {},
) -> int:
    """Read again, breadth first, every post among ``uris`` and what the reads return
    that :func:`wanted` chooses; returns how many reads were made.

    ``read(uri)`` reads the thread at ``uri``, records it with
    :meth:`Ledger.record_read` and returns the URIs it got; ``stored(uris)``
    counts the replies to each of ``uris`` already stored. Each post is read
    at most once, so this ends however the counts stand; an exception from
    ``read`` (a spent budget) ends it early, with every finished read recorded.
    """
    queue = deque(choose(ledger, uris, stored))
    reads = 0
    while queue:
        uri = queue.popleft()
        if uri in ledger.read:
            continue
        found = read(uri)
        reads += 1
        queue.extend(choose(ledger, found, stored))
    return reads


__all__ = ["MAX_SETTLED", "Ledger", "Seen", "choose", "complete", "wanted"]
