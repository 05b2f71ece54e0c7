"""When a chat we did not host ended: the host's wrap-up, else a question gap after the last."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median

from .model import ChatPost, ChatQuestion, ModeratorAccount
from .prefix import read_prefixes
from .questions import MIN_TAIL, is_moderator, moderator_keys

__all__ = ["WRAPUP_HORIZON", "chat_end", "find_wrapup", "reads_as_wrapup"]

# A wrap-up comes within this long of the last question, or three question
# gaps if the chat's pace is slower: a host's post hours later is not one.
WRAPUP_HORIZON = timedelta(minutes=30)

# A closing line: a wrap-up label, or the words hosts close a chat with.
_WRAPUP = re.compile(
    r"^\W*wrap[- ]?up\b"
    r"|\bthat'?s a wrap\b|\bwrap(?:ping)? (?:it |things |this )?up\b"
    r"|\b(?:thanks|thank you)\b.{0,60}\b(?:joining|chatting|participating|coming|taking part"
    r"|being here|everyone|all|tonight|today)\b"
    r"|\b(?:see you|join us|until) next\b|\buntil next time\b",
    re.IGNORECASE | re.DOTALL,
)


def reads_as_wrapup(text: str) -> bool:
    """Whether ``text`` closes the chat: "Wrap-up: ...", "Thanks for joining us!", ..."""
    return _WRAPUP.search(text) is not None


def find_wrapup(
    posts: Iterable[ChatPost],
    questions: Sequence[ChatQuestion],
    moderators: Iterable[ModeratorAccount],
) -> ChatPost | None:
    """The host's wrap-up post: the first that closes the chat after the last question.

    It is a moderator's post after the last question and within the horizon,
    addressed to the chat (not a reply to someone else's post), carrying no
    "Qn"/"An" prefix, and reading as a closing line (see ``reads_as_wrapup``).
    """
    last = _last_question(questions)
    if last is None:
        return None
    mods = moderator_keys(moderators)
    posts = list(posts)
    own = {post.uri for post in posts if is_moderator(post, mods)}
    horizon = last + max(WRAPUP_HORIZON, 3 * _pace(questions))
    candidates = sorted(
        (
            post
            for post in posts
            if post.uri in own
            and last < post.created_at <= horizon
            and (post.parent_uri is None or post.parent_uri in own)
            and not read_prefixes(post.text)
            and reads_as_wrapup(post.text)
        ),
        key=lambda post: (post.created_at, post.uri),
    )
    return candidates[0] if candidates else None


def chat_end(
    posts: Iterable[ChatPost],
    questions: Sequence[ChatQuestion],
    moderators: Iterable[ModeratorAccount],
) -> datetime | None:
    """When the chat ended: its wrap-up post, else the last question plus the median gap.

    The median gap between questions (at least ``MIN_TAIL``) stands in for
    the time the last question had; never the last post collected, which
    may be spam hours later. None when there is no question at all.
    """
    wrapup = find_wrapup(posts, questions, moderators)
    if wrapup is not None:
        return wrapup.created_at
    last = _last_question(questions)
    if last is None:
        return None
    return last + max(_pace(questions), MIN_TAIL)


def _starts(questions: Sequence[ChatQuestion]) -> list[datetime]:
    return sorted(min(q.posted_at.values()) for q in questions if q.posted_at)


def _last_question(questions: Sequence[ChatQuestion]) -> datetime | None:
    starts = _starts(questions)
    return starts[-1] if starts else None


def _pace(questions: Sequence[ChatQuestion]) -> timedelta:
    gaps = [(b - a).total_seconds() for a, b in pairwise(_starts(questions))]
    return timedelta(seconds=median(gaps)) if gaps else timedelta(0)
