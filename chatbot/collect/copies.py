"""Same or nearly the same text in several posts: a normaliser and a grouping without O(n²).

Thresholds, chosen from what real spam waves look like rather than from any
one chat: a wave is one template posted by many accounts, with the links,
mentions, hashtags, numbers ("GET 62 FOLLOWERS" / "GET 85 FOLLOWERS") and
emoji varied. So all of those are dropped or folded before comparing.

- Identical: the normalised texts are equal and have at least
  ``IDENTICAL_MIN_WORDS`` words. Two people writing the same sentence of eight
  or more words by chance is rare; "A1 yes" or "thanks for hosting!" from
  two people is common and stays below the bar.
- Near-identical: both have at least ``NEAR_MIN_WORDS`` distinct words and
  their word sets have a Jaccard similarity of at least ``NEAR_JACCARD``: of
  twelve words, at most two differ on each side, which is a template with a
  name or a word swapped, not two people answering the same question.

Near-identical candidates come from prefix filtering: order each text's words
rarest first; two sets with Jaccard >= t must share one of the first
``len - ceil(t * len) + 1`` words of each, so only texts sharing one of those
few rare words are compared, each with at most ``MAX_COMPARISONS`` earlier
texts under that word. Distinct texts are visited in sorted order, so the
groups never depend on the order of the posts.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

IDENTICAL_MIN_WORDS = 8
NEAR_MIN_WORDS = 12  # distinct words, in each of the two texts
NEAR_JACCARD = 0.8
MAX_COMPARISONS = 32  # per rare word, so a 10k-post wave costs 10k x 32 at most

_DROP = re.compile(
    r"(?:https?://\S+|www\.\S+|(?<![\w@])@[\w.\-]+(?:@[\w\-]+(?:\.[\w\-]+)+)?|(?<![\w&])#\w+)",
    re.UNICODE | re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PREFIX = re.compile(r"[aq]\d+[a-z]?")  # "A1", "Q2b": answer and question labels
_DIGITS = re.compile(r"\d+")
_CREDITED = re.compile(
    r"^\W*(?:rt|mt|via)\s*:?\s*@", re.IGNORECASE
)  # "RT @ann: ..." retweets by hand


def normalise(text: str) -> str:
    """The words of a post as compared: no links, mentions, hashtags, labels, emoji or case.

    Numbers are folded to ``0`` and words are separated by one space. A
    retweet by hand ("RT @ann: ...", "MT @ann ...") credits the author it
    copies, so it is no copy: its key is empty.
    """
    if _CREDITED.match(text):
        return ""
    text = unicodedata.normalize("NFKC", html.unescape(text)).casefold()
    words = _WORD.findall(_DROP.sub(" ", text))
    return " ".join(_DIGITS.sub("0", word) for word in words if not _PREFIX.fullmatch(word))


def copy_groups(keys: Sequence[str]) -> list[tuple[list[int], bool]]:
    """Groups of indices whose normalised ``keys`` are the same or nearly the same.

    Each group comes with True when it joins different (near-identical) texts.
    Groups of one index are left out; whether the members are several accounts
    is the caller's question.
    """
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        if key:
            by_key[key].append(index)
    distinct = sorted(by_key)
    words = {key: frozenset(key.split(" ")) for key in distinct}
    parent = list(range(len(distinct)))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    near = [key for key in distinct if len(words[key]) >= NEAR_MIN_WORDS]
    frequency = Counter(word for key in near for word in words[key])
    position = {key: number for number, key in enumerate(distinct)}
    buckets: dict[str, list[int]] = defaultdict(list)
    for key in near:
        own = words[key]
        rare = sorted(own, key=lambda word: (frequency[word], word))
        me = position[key]
        for word in rare[: len(own) - math.ceil(NEAR_JACCARD * len(own)) + 1]:
            bucket = buckets[word]
            for other in bucket[:MAX_COMPARISONS]:
                if find(other) != find(me) and _similar(own, words[distinct[other]]):
                    parent[find(me)] = find(other)
            bucket.append(me)

    clusters: dict[int, list[int]] = defaultdict(list)
    for number in range(len(distinct)):
        clusters[find(number)].append(number)
    groups: list[tuple[list[int], bool]] = []
    for members in clusters.values():
        texts = [distinct[number] for number in members]
        if len(texts) == 1 and len(texts[0].split(" ")) < IDENTICAL_MIN_WORDS:
            continue
        indices = sorted(index for text in texts for index in by_key[text])
        if len(indices) >= 2:
            groups.append((indices, len(texts) > 1))
    return groups


def _similar(one: frozenset[str], other: frozenset[str]) -> bool:
    shared = len(one & other)
    return shared >= NEAR_JACCARD * (len(one) + len(other) - shared)


__all__ = [
    "IDENTICAL_MIN_WORDS",
    "NEAR_JACCARD",
    "NEAR_MIN_WORDS",
    "copy_groups",
    "normalise",
]
