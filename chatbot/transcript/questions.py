"""The chat's questions as attribution sees them: labels, question posts, time windows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median

from .model import ChatPost, ChatQuestion, ModeratorAccount
from .prefix import read_prefixes

__all__ = [
    "QuestionTable",
    "Timeline",
    "discover_questions",
    "is_moderator",
    "moderator_keys",
    "norm_handle",
    "read_question_post",
]

MIN_TAIL = timedelta(minutes=10)  # how long the last question stays open at least

Timeline = tuple[list[float], list[str]]


def norm_handle(handle: str) -> str:
    return handle.lstrip("@").lower()


class QuestionTable:
    """The chat's questions: labels, question-post URIs, and per-network timelines."""

    def __init__(self, questions: Sequence[ChatQuestion]) -> None:
        self.order: list[str] = []
        self.times: dict[str, dict[str, datetime]] = {}
        self.uri_label: dict[str, str] = {}
        self.due: dict[str, datetime] = {}  # label -> due time, for networks it is not on
        self._cache: dict[tuple[int, str], str | None] = {}
        for question in questions:
            self.add(question.label, None, None, None)
            if question.due_at is not None:
                self.due[question.label] = question.due_at
            for network, when in question.posted_at.items():
                self.times[question.label][network] = when
            for uri in question.uris.values():
                self.uri_label[uri] = question.label

    def add(self, label: str, network: str | None, when: datetime | None, uri: str | None) -> None:
        if label not in self.times:
            self.order.append(label)
            self.times[label] = {}
            self._cache = {}
        if network is not None and when is not None:
            known = self.times[label].get(network)
            if known is None or when < known:
                self.times[label][network] = when
        if uri is not None:
            self.uri_label[uri] = label

    def max_number(self) -> int | None:
        numbers = [_number(label) for label in self.order]
        return max(numbers) if numbers else None

    def resolve(self, number: int, suffix: str) -> str | None:
        # "A2a" for a chat without Q2a means Q2; "A2" for a chat with only
        # Q2a/Q2b means the first of them. Unknown numbers are no answer once
        # any question is known (a stray "A9" in an 8-question chat); with
        # none known at all, the post's own label stands.
        key = (number, suffix)
        if key in self._cache:
            return self._cache[key]
        label = f"Q{number}{suffix}"
        result: str | None = label
        if label not in self.times:
            base = f"Q{number}"
            if suffix and base in self.times:
                result = base
            else:
                same = [known for known in self.order if _number(known) == number]
                result = same[0] if same else (None if self.order else label)
        self._cache[key] = result
        return result

    def timeline(self, network: str | None, ends_at: datetime | None) -> Timeline:
        # Each question opens a window when it was posted (else when it is
        # due, live delays included), closed by the next one; the last one
        # closes at ``ends_at`` (the wrap-up or the scheduled end) or, with
        # no end known, after a tail derived from the chat's pace.
        points: list[tuple[float, str]] = []
        for label in self.order:
            times = self.times[label]
            when = (
                times.get(network)
                if network is not None
                else (min(times.values()) if times else None)
            )
            if when is None:
                when = self.due.get(label)
            if when is not None:
                points.append((when.timestamp(), label))
        points.sort()
        if not points:
            return [], []
        starts = [point[0] for point in points]
        labels = [point[1] for point in points]
        if ends_at is not None:
            end = ends_at.timestamp()
        else:
            gaps = [b - a for a, b in pairwise(starts)]
            pace = 2 * median(gaps) if gaps else 0.0
            end = starts[-1] + max(pace, MIN_TAIL.total_seconds())
        starts.append(max(end, starts[-1]))
        labels.append("")
        return starts, labels


def discover_questions(
    posts: Iterable[ChatPost], moderators: Iterable[ModeratorAccount]
) -> tuple[ChatQuestion, ...]:
    """Questions read from the moderators' own "Q1 ..." posts (for chats we did not host)."""
    table = QuestionTable(())
    mods = moderator_keys(moderators)
    uris: dict[str, dict[str, str]] = {}
    texts: dict[str, str] = {}
    own = [post for post in posts if is_moderator(post, mods)]
    for post in sorted(own, key=lambda p: (p.created_at, p.uri)):
        found = read_question_post(post, table)
        for label in found:
            uris.setdefault(label, {}).setdefault(post.network, post.uri)
            if label not in texts:
                first = read_prefixes(post.text)[0]
                texts[label] = post.text[first.body_start : first.body_end]
    return tuple(
        ChatQuestion(
            number=_number(label),
            suffix=label[1:].lstrip("0123456789"),
            text=texts.get(label, ""),
            posted_at=dict(table.times[label]),
            uris=uris.get(label, {}),
        )
        for label in table.order
    )


def _number(label: str) -> int:
    return int(label[1:].rstrip("abcdefghijklmnopqrstuvwxyz"))


def moderator_keys(moderators: Iterable[ModeratorAccount]) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for account in moderators:
        bucket = keys.setdefault(account.network, set())
        if account.account_id:
            bucket.add(account.account_id)
        if account.handle:
            bucket.add(norm_handle(account.handle))
    return keys


def is_moderator(post: ChatPost, mods: Mapping[str, set[str]]) -> bool:
    bucket = mods.get(post.network)
    if not bucket:
        return False
    return post.author_id in bucket or norm_handle(post.author_handle) in bucket


def read_question_post(post: ChatPost, table: QuestionTable) -> tuple[str, ...]:
    # A moderator's post is a question when it opens with "Q<n>"; its
    # follow-ups ("@bob Tell us more about Q2") mention a question mid-text.
    matches = read_prefixes(post.text)
    if not matches or matches[0].kind != "Q" or matches[0].at != "start":
        return ()
    found: list[str] = []
    for match in matches:
        if match.kind == "Q" and match.body_start == matches[0].body_start:
            # A moderator may improvise a question the file lacked: it counts.
            label = table.resolve(match.number, match.suffix) or match.label
            if label is not None and label not in found:
                found.append(label)
                table.add(label, post.network, post.created_at, post.uri)
    return tuple(found)
