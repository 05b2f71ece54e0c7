"""How many posts and participants a chat has: the one count every report shows (pure).

The recap, the archive, the exports, ``chatbot status`` and ``chatbot demo``
all say "N posts by M participants"; they must say the same of the same
chat. The rule lives in :func:`count_posts`:

- a post counts when it is in the published transcript: live, public, not
  opted out, not hidden, not spam (``chatbot.export.document.exclusion``);
- the hosts' posts (the bot's accounts, the event's moderators, every
  question post) are counted apart, as ``host_posts``;
- a participant is a network and a handle, case and ``@`` aside.

Two feeders bring posts to it: :func:`document_counts` reads a transcript
document (what the recap and the exports have), and
:func:`chatbot.export.counts.stored_counts` reads the database's rows (what
the archive and status have, without attributing every chat again). Both
leave out and mark hosts by the same rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ChatCounts",
    "CountedPost",
    "count_posts",
    "document_counts",
    "host_keys",
    "participant_key",
]

# Flags that keep a document's post out of every count (a review export keeps spam and
# hidden posts, flagged; a document from elsewhere may carry the others).
_NOT_COUNTED = frozenset({"spam", "hidden", "deleted", "opted_out"})


def participant_key(network: str, handle: str) -> str:
    """``network:handle``, lower case, without ``@``: one person on one network."""
    return f"{network}:{handle.lstrip('@').lower()}"


@dataclass(frozen=True, slots=True)
class CountedPost:
    """A published post (or ``posts`` alike) as the count sees it: where, by whom, whether a
    host wrote it."""

    network: str
    handle: str
    host: bool = False
    posts: int = 1  # alike posts counted at once (a database's group of them)


@dataclass(frozen=True, slots=True)
class ChatCounts:
    """A chat's figures: participants' posts, the participants, the hosts' posts apart."""

    posts: int = 0
    participants: int = 0
    host_posts: int = 0
    people: frozenset[str] = frozenset()  # participant keys (network:handle)
    networks: Mapping[str, int] = field(default_factory=dict)  # participants' posts per network

    def phrase(self) -> str:
        """E.g. "112 posts by 7 participants (and 10 by the hosts)"."""
        posts = f"{self.posts} post{'s' if self.posts != 1 else ''}"
        people = f"{self.participants} participant{'s' if self.participants != 1 else ''}"
        hosts = f" (and {self.host_posts} by the hosts)" if self.host_posts else ""
        return f"{posts} by {people}{hosts}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "participants": self.participants,
            "host_posts": self.host_posts,
            "networks": dict(sorted(self.networks.items())),
        }


def count_posts(posts: Iterable[CountedPost]) -> ChatCounts:
    """The one count: participants' posts and distinct participants, hosts' posts apart."""
    people: set[str] = set()
    networks: Counter[str] = Counter()
    hosts = 0
    for post in posts:
        if post.host:
            hosts += post.posts
            continue
        people.add(participant_key(post.network, post.handle))
        networks[post.network] += post.posts
    return ChatCounts(
        posts=sum(networks.values()),
        participants=len(people),
        host_posts=hosts,
        people=frozenset(people),
        networks=dict(networks),
    )


def host_keys(
    moderators: Iterable[str], accounts: Mapping[str, str], networks: Sequence[str]
) -> set[str]:
    """Participant keys of the event's moderators (on each network) and the bot's accounts."""
    keys = {participant_key(net, handle) for net, handle in accounts.items()}
    for handle in moderators:
        keys.update(participant_key(net, handle) for net in [*networks, "twitter"])
    return keys


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [item for item in value if isinstance(item, str)]
    return []


def _flags(item: Mapping[str, Any]) -> set[str]:
    flags = item.get("flags")
    if isinstance(flags, Mapping):
        found = {str(name) for name, on in flags.items() if on}
    else:
        found = set(_strings(flags))
    return found | {name for name in ("deleted", "opted_out") if item.get(name)}


def _handle(item: Mapping[str, Any]) -> str:
    author = item.get("author")
    if isinstance(author, Mapping):
        handle = author.get("handle")
    else:
        handle = item.get("author_handle") or author
    return handle if isinstance(handle, str) else ""


def _readable_time(value: object) -> bool:
    if isinstance(value, datetime):
        return True
    if not isinstance(value, str) or not value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _question_uris(question: object) -> list[str]:
    if not isinstance(question, Mapping):
        return []
    posted = question.get("posted") or question.get("uris") or {}
    found: list[str] = []
    for value in posted.values() if isinstance(posted, Mapping) else ():
        uri = value.get("uri") if isinstance(value, Mapping) else value
        if isinstance(uri, str) and uri:
            found.append(uri)
    return found


def document_counts(document: Mapping[str, Any], hosts: Iterable[str] = ()) -> ChatCounts:
    """The count of a transcript document (see docs/transcript-format.md).

    A post without a URI or a readable time is no post of the chat (the recap
    cannot place it). Hosts' posts are those attributed to a moderator, the
    question posts (and the posts the questions name), and those of the
    accounts the event block (or ``hosts``, as participant keys) names.
    """
    event = document.get("event") or {}
    accounts = event.get("accounts") if isinstance(event.get("accounts"), Mapping) else {}
    own = host_keys(
        _strings(event.get("moderators")),
        {k: v for k, v in (accounts or {}).items() if isinstance(v, str)},
        _strings(event.get("networks")) or ["bluesky", "mastodon"],
    )
    own.update(hosts)
    questions = {
        uri for question in document.get("questions") or () for uri in _question_uris(question)
    }
    counted: list[CountedPost] = []
    for item in document.get("posts") or ():
        if not isinstance(item, Mapping) or _flags(item) & _NOT_COUNTED:
            continue
        if not item.get("uri") or not _readable_time(item.get("created_at")):
            continue
        network = item.get("network") if isinstance(item.get("network"), str) else ""
        handle = _handle(item).lstrip("@")
        host = (
            item.get("method") == "moderator"
            or bool(item.get("is_question"))
            or item.get("uri") in questions
            or participant_key(str(network), handle) in own
        )
        counted.append(CountedPost(str(network), handle, host))
    return count_posts(counted)
