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
rarest first (by how many texts of the chat hold them); two sets with Jaccard
>= t share at least ``ceil(t * len)`` words, so the two rarest shared words
are both among the first ``len - ceil(t * len) + 2`` words of each. Texts are
bucketed by every pair of those few rare words (6 pairs for 12 words), and
only texts sharing a bucket are compared, each with at most
``MAX_COMPARISONS`` earlier texts of the bucket. Two unrelated posts rarely
share a pair of rare words, so comparisons stay near the number of real
copies. Distinct texts are visited in sorted order, so the groups never
depend on the order of the posts.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations

IDENTICAL_MIN_WORDS = 8
NEAR_MIN_WORDS = 12  # distinct words, in each of the two texts
NEAR_JACCARD = 0.8
MAX_COMPARISONS = 32  # per pair of rare words, so a 10k-post wave costs 10k x 32 at most

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


def copy_groups(keys: Iterable[str]) -> list[tuple[list[int], bool]]:
    """Groups of indices whose normalised ``keys`` are the same or nearly the same.

    Each group comes with True when it joins different (near-identical) texts.
    Groups of one index are left out; whether the members are several accounts
    is the caller's question. ``keys`` is read once (a generator is fine), and
    no key is kept once its words are numbered.
    """
    by_key: dict[str, int | list[int]] = {}  # most texts are one post's: kept bare
    for index, key in enumerate(keys):
        if key:
            held = by_key.setdefault(key, index)
            if held != index:
                if isinstance(held, int):
                    by_key[key] = [held, index]
                else:
                    held.append(index)
    distinct = sorted(by_key)
    # Each text's words as a sorted array of word numbers, one string per word of
    # the chat: a frozenset of strings weighed about 1.3 KB a text, this 4 bytes a word.
    vocabulary: dict[str, int] = {}
    words: list[array[int]] = []
    lengths = array("I")  # each text's number of words, repeats included
    posts: list[int | list[int]] = []  # each text's posts (indices of ``keys``)
    for number, key in enumerate(distinct):
        spelled_out = key.split(" ")
        words.append(
            array("I", sorted({vocabulary.setdefault(w, len(vocabulary)) for w in spelled_out}))
        )
        lengths.append(len(spelled_out))
        posts.append(by_key.pop(key))
        distinct[number] = ""  # the text itself is not needed again
    del by_key, distinct
    spelled = list(vocabulary)  # word number -> the word, for the rare-first order's ties
    del vocabulary
    parent = list(range(len(words)))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    near = [number for number, own in enumerate(words) if len(own) >= NEAR_MIN_WORDS]
    for one, other in _near_pairs([words[number] for number in near], spelled):
        parent[find(near[one])] = find(near[other])

    clusters: dict[int, list[int]] = defaultdict(list)
    for number in range(len(words)):
        clusters[find(number)].append(number)
    groups: list[tuple[list[int], bool]] = []
    for members in clusters.values():
        if len(members) == 1 and lengths[members[0]] < IDENTICAL_MIN_WORDS:
            continue
        indices = sorted(index for number in members for index in _indices(posts[number]))
        if len(indices) >= 2:
            groups.append((indices, len(members) > 1))
    return groups


def _indices(held: int | list[int]) -> list[int]:
    return [held] if isinstance(held, int) else held


def _near_pairs(sets: Sequence[array[int]], spelled: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (later, earlier) of ``sets`` with Jaccard >= NEAR_JACCARD, found by prefix pairs.

    Each set is an array of distinct word numbers (``spelled`` names them).
    Only the pairs that joined two groups not yet joined are returned.
    """
    frequency = Counter(word for own in sets for word in own)
    ranked = sorted(frequency, key=lambda word: (frequency[word], spelled[word]))
    rank = {word: number for number, word in enumerate(ranked)}
    size = len(ranked)
    leader = list(range(len(sets)))

    def find(node: int) -> int:
        while leader[node] != node:
            leader[node] = leader[leader[node]]
            node = leader[node]
        return node

    found: list[tuple[int, int]] = []
    # Most buckets hold one text: keep it bare, and make a list only on a second.
    buckets: dict[int, int | list[int]] = {}
    for me, own in enumerate(sets):
        rare = sorted(rank[word] for word in own)[
            : len(own) - math.ceil(NEAR_JACCARD * len(own)) + 2
        ]
        mine = set(own)  # made once per text, not once per comparison
        for first, second in combinations(rare, 2):
            key = first * size + second
            held = buckets.setdefault(key, me)
            if held == me:
                continue
            bucket = [held] if isinstance(held, int) else held
            for other in bucket:
                if find(other) != find(me) and _similar(mine, sets[other]):
                    found.append((me, other))
                    leader[find(me)] = find(other)
            if len(bucket) < MAX_COMPARISONS:
                bucket.append(me)
            buckets[key] = bucket
    return found


def _similar(one: set[int], other: array[int]) -> bool:
    small, large = sorted((len(one), len(other)))
    if small < NEAR_JACCARD * large:  # the Jaccard can be no more than small / large
        return False
    shared = len(one.intersection(other))
    return shared >= NEAR_JACCARD * (len(one) + len(other) - shared)


__all__ = [
    "IDENTICAL_MIN_WORDS",
    "NEAR_JACCARD",
    "NEAR_MIN_WORDS",
    "copy_groups",
    "normalise",
]
