"""collect.threadfill: which posts to read again, against a model of a cutting AppView."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.collect.threadfill import MAX_SETTLED, Ledger, Seen, complete, wanted


@dataclass(frozen=True)
class Network:
    """A reply tree (node 0 is the question) some of whose posts the AppView never shows,
    read ``depth`` levels at a time and ``branching`` replies a post below the anchor's."""

    parents: tuple[int, ...]  # parents[i - 1] is the parent of node i
    hidden: frozenset[int]
    depth: int
    branching: int

    def children(self, node: int) -> list[int]:
        """Newest first (a higher number is newer), hidden ones included."""
        return [i for i in range(len(self.parents), 0, -1) if self.parents[i - 1] == node]

    def shown(self, node: int) -> list[int]:
        return [i for i in self.children(node) if i not in self.hidden]

    def seen(self, node: int) -> Seen:
        parent = f"n{self.parents[node - 1]}" if node else None
        return f"n{node}", parent, len(self.children(node))

    def read(self, anchor: int) -> list[Seen]:
        found, level = [self.seen(anchor)], [anchor]
        for depth in range(1, self.depth + 1):
            cut = None if depth == 1 else self.branching
            level = [c for node in level for c in self.shown(node)[:cut]]
            found += [self.seen(node) for node in level]
        return found

    def visible(self) -> set[str]:
        """Every post reachable from the question through posts that are shown."""
        found, todo = {"n0"}, [0]
        while todo:
            node = todo.pop()
            for child in self.shown(node):
                found.add(f"n{child}")
                todo.append(child)
        return found


@st.composite
def networks(draw: st.DrawFn) -> Network:
    size = draw(st.integers(1, 60))
    parents = tuple(draw(st.integers(0, i - 1)) for i in range(1, size + 1))
    hidden = draw(st.frozensets(st.integers(1, size), max_size=size // 4))
    return Network(parents, hidden, draw(st.integers(1, 4)), draw(st.integers(1, 4)))


def one_pass(net: Network, ledger: Ledger, stored: dict[str, int]) -> int:
    """A pass: the question read as the collector reads it each pass, then completed."""

    def read(uri: str) -> list[str]:
        ledger.stored[uri] = stored.get(uri, 0)
        return ledger.record_read(uri, net.read(int(uri[1:])))

    first = read("n0")
    return 1 + complete(ledger, first, read, lambda uris: {u: stored.get(u, 0) for u in uris})


@settings(max_examples=300, deadline=None)
@given(networks())
def test_every_shown_reply_is_found_and_each_post_read_once(net: Network) -> None:
    ledger = Ledger()
    reads = one_pass(net, ledger, {})
    assert set(ledger.counts) == net.visible()
    with_replies = sum(1 for node in range(len(net.parents) + 1) if net.children(node))
    assert reads <= max(with_replies, 1)
    # What stays unseen is exactly the hidden replies under the posts read.
    hidden_under = {f"n{n}": sum(c in net.hidden for c in net.children(n)) for n in range(61)}
    assert ledger.unseen() == sum(hidden_under.get(uri, 0) for uri in ledger.read)


@settings(max_examples=200, deadline=None)
@given(networks())
def test_the_next_pass_reads_only_the_question_when_nothing_changed(net: Network) -> None:
    ledger = Ledger()
    one_pass(net, ledger, {})
    # Everything shown is stored now; the settled counts are carried over.
    stored: dict[str, int] = {}
    for uri, parent, _count in map(net.seen, range(1, len(net.parents) + 1)):
        if uri in ledger.counts and parent:
            stored[parent] = stored.get(parent, 0) + 1
    again = Ledger.from_state(ledger.state())
    assert one_pass(net, again, stored) == 1


def test_a_settled_post_is_read_again_once_its_count_grows() -> None:
    ledger = Ledger.from_state({"settled": {"at://p": 3, "bad": "x", "zero": 0, "flag": True}})
    assert ledger.settled == {"at://p": 3}
    ledger.observe("at://p", None, 3)
    ledger.observe("at://c", "at://p", 0)
    assert wanted(ledger, ["at://p"]) == []  # read before; no reply since
    ledger.observe("at://p", None, 4)
    assert wanted(ledger, ["at://p", "at://p"]) == ["at://p"]
    ledger.record_read("at://p", [("at://p", None, 4), ("at://c", "at://p", 0)])
    assert ledger.settled == {"at://p": 4} and ledger.unseen() == 3
    assert wanted(ledger, ["at://p"]) == []  # once a pass
    # A post that is gone has nothing left to wait for.
    ledger.record_read("at://p", None)
    assert ledger.settled == {} and ledger.unseen() == 0


def test_the_state_kept_between_passes_is_bounded() -> None:
    ledger = Ledger()
    for n in range(MAX_SETTLED + 5):
        ledger.observe(f"at://{n}", None, 1)
        ledger.anchored(f"at://{n}")
    kept = ledger.state()["settled"]
    assert len(kept) == MAX_SETTLED and f"at://{MAX_SETTLED + 4}" in kept and "at://0" not in kept
