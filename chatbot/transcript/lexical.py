"""Evidence from words: a post that shares the telling words of one question's text.

No model and no download: the questions' own words, less common English
words, hashtags, names and links, each weighted by how few questions use it
(a word in every question tells nothing), and dropped when the chat's posts
use it everywhere. Word endings are folded ("meetings" and "meeting", "tools"
and "tool") so an answer need not repeat the question's exact form.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["Vocabulary", "words"]

_WORD = re.compile(r"(?<![@#/\w])[^\W\d_][\w'’]{2,}", re.UNICODE)
_LINK = re.compile(r"\S+://\S+|\bwww\.\S+")
_ENDINGS = (("ings", ""), ("ing", ""), ("ies", "y"), ("es", ""), ("ed", ""), ("s", ""))

# Common English words that say nothing about a topic (and chat words that
# every post of a chat may carry).
_STOP_WORDS = """
    about above after again against all also although always among and another any anybody
    anyone anything anyway are around because been before being below between both but can
    cannot could did does doing done down during each either else even ever every everybody
    everyone everything few for from further get gets getting got had has have having her here
    hers him his how however into its itself just know last least less let like lot lots made
    make makes many may maybe might mine more most much must myself need needs never new next
    nor not now off often once one only other others our ours out over own per please quite
    rather really same see seem she should since some somebody someone something sometimes still
    such sure take tell than thank thanks that the their theirs them then there these they thing
    things think this those though through thus today too toward under until upon use used
    uses using very want was way ways well were what whatever when where whether which while
    who whom whose why will with within without would yes yet you your yours yourself
    everyone's what's it's i'm you're we're they're don't doesn't didn't can't won't isn't
    let's that's there's here's i've you've we've i'll you'll we'll i'd you'd
    chat question questions answer answers tweet tweets post posts folks people
    good great time times year years day days week weeks month months
"""
_STOP = frozenset(_STOP_WORDS.split())


def _fold(word: str) -> str:
    # "resources" and "resource" both become "resourc"; "studies", "study".
    word = word.replace("’", "'")
    for ending, instead in _ENDINGS:
        if len(word) - len(ending) >= 4 and word.endswith(ending):
            word = word[: -len(ending)] + instead
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def words(text: str) -> set[str]:
    """The telling words of ``text``, folded: no links, tags, names, numbers or stop words."""
    if "://" in text or "www." in text:
        text = _LINK.sub(" ", text)
    found = set()
    for word in _WORD.findall(text.lower()):
        if word not in _STOP:
            found.add(_fold(word))
    return found


class Vocabulary:
    """The words that tell the chat's questions apart, and how strongly each points.

    ``texts`` maps each question label to the texts that ask it (the plan's
    wording, the posts that asked it). ``posts`` are the texts the evidence
    will be asked about: a word that more than ``COMMON_SHARE`` of them use is
    the chat's topic, not one question's.
    """

    COMMON_SHARE = 0.15

    def __init__(self, texts: Mapping[str, Sequence[str]]) -> None:
        self.labels = list(texts)
        per_label = {label: set().union(*map(words, found)) for label, found in texts.items()}
        counts: dict[str, int] = {}
        for found in per_label.values():
            for word in found:
                counts[word] = counts.get(word, 0) + 1
        total = len(per_label)
        # What a word used by one question alone weighs: enough to tell.
        self.telling = math.log(total) if total > 1 else 1.0
        # A word in k of n questions weighs log(n / k): in all of them, nothing.
        self.weights: dict[str, dict[str, float]] = {}
        for label, found in per_label.items():
            for word in found:
                weight = math.log(total / counts[word]) if total > 1 else 1.0
                if weight > 0:
                    self.weights.setdefault(word, {})[label] = weight

    def __bool__(self) -> bool:
        return bool(self.weights)

    def drop_common(self, texts: Iterable[str]) -> None:
        """Forget the words that too many of ``texts`` use (at least three of them)."""
        counts: dict[str, int] = {}
        number = 0
        known = self.weights
        for text in texts:
            number += 1
            for word in words(text) & known.keys():
                counts[word] = counts.get(word, 0) + 1
        limit = max(3, self.COMMON_SHARE * number)
        for word, count in counts.items():
            if count > limit:
                del known[word]

    def scores(self, text: str, open_labels: Iterable[str]) -> list[tuple[float, str]]:
        """How strongly ``text`` points at each of ``open_labels``, strongest first (score > 0)."""
        found = words(text) & self.weights.keys()
        if not found:
            return []
        allowed = set(open_labels)
        totals: dict[str, float] = {}
        for word in found:
            for label, weight in self.weights[word].items():
                if label in allowed:
                    totals[label] = totals.get(label, 0.0) + weight
        return sorted(((score, label) for label, score in totals.items()), reverse=True)
