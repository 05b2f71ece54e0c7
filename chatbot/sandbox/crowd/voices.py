"""Keeps the crowd's people from posting each other's words: what a copy-spam check looks for.

The crowd builds its texts from phrase banks, so two people could draw the
same long sentence, or the same template with one word swapped: exactly what
a real spam wave looks like, and what no two real participants write. Before
a genuine post is planned, :class:`Voices` compares it with what other people
already said and, when it is too close, adds a sign-off of the author's own
until it is not. The comparison is deliberately stricter than a spam check's
(shorter texts, lower similarity), so a margin remains.
"""

from __future__ import annotations

import random
import re

from chatbot.sandbox.crowd import texts

_NOISE = re.compile(r"https?://\S+|<post-url>|(?<![\w@])@[\w.\-]+|(?<![\w&])#\w+", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LABEL = re.compile(r"^[aq]\d+[a-z]?$")
SAME_MIN_WORDS = 6  # a copy-spam check's bar is higher (eight words)
LINKED_MIN_WORDS = 4  # a link with the same few words is a "same text with a link" wave
NEAR_MIN_WORDS = 9  # distinct words; a copy-spam check's bar is twelve
NEAR_SIMILARITY = 0.7  # Jaccard of the word sets; a copy-spam check's bar is 0.8
TRIES = 4


def words_of(text: str) -> list[str]:
    """The words compared: no links, mentions, hashtags or answer labels; digits folded."""
    found = _WORD.findall(_NOISE.sub(" ", text).lower())
    return [re.sub(r"\d+", "0", w) for w in found if not _LABEL.match(w)]


class Voices:
    """What everyone said so far, to keep a new post from reading as someone else's copy."""

    def __init__(self, book: texts.Phrasebook = texts.BOOK_A) -> None:
        # The author's own sign-offs: the book's, and its closers that have words.
        self.choices = book.sign_offs + tuple(
            c for c in book.closers if any(ch.isalpha() for ch in c)
        )
        self.same: dict[tuple[str, ...], str] = {}  # words -> first author
        self.near: list[tuple[frozenset[str], str]] = []

    def clashes(self, text: str, author: str) -> bool:
        """True when ``text`` by ``author`` is (nearly) what someone else posted."""
        words = words_of(text)
        linked = "://" in text or "<post-url>" in text
        least = LINKED_MIN_WORDS if linked else SAME_MIN_WORDS
        if len(words) >= least and self.same.get(tuple(words), author) != author:
            return True
        distinct = frozenset(words)
        if len(distinct) < NEAR_MIN_WORDS:
            return False
        for other, who in self.near:
            if who != author and len(distinct & other) >= NEAR_SIMILARITY * len(distinct | other):
                return True
        return False

    def own(self, rng: random.Random, text: str, author: str) -> str:
        """``text``, with sign-offs added until nobody else said (nearly) the same; recorded."""
        for _ in range(TRIES):
            if not self.clashes(text, author):
                break
            # One not used yet: the same sign-off twice adds no word of one's own.
            unused = [choice for choice in self.choices if choice not in text]
            if not unused:
                break
            sign_off = rng.choice(unused)
            if len(text) + len(sign_off) >= 290:  # every network takes 300 characters
                break
            text = f"{text} {sign_off}"
        self.remember(text, author)
        return text

    def remember(self, text: str, author: str) -> None:
        words = words_of(text)
        self.same.setdefault(tuple(words), author)
        distinct = frozenset(words)
        if len(distinct) >= NEAR_MIN_WORDS:
            self.near.append((distinct, author))


__all__ = ["Voices", "words_of"]
