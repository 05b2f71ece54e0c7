"""Phrasebooks: book "a" words the chats it always did; book "b" is worded apart from it."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from chatbot.sandbox.crowd import CrowdConfig, CrowdPlan, plan_crowd
from chatbot.sandbox.crowd.phrasebooks import PHRASEBOOKS
from chatbot.sandbox.crowd.texts import BOOK_A, Phrasebook
from chatbot.sandbox.crowd.voices import words_of
from tests.sandbox.test_crowd_plan import check_invariants, schedule

SLOT = re.compile(r"\{\w+\}")


@pytest.fixture(scope="module")
def held_out() -> CrowdPlan:
    config = CrowdConfig(seed=7, participants=30, posts_per_minute=6, phrasebook="b")
    return plan_crowd(config, schedule())


def phrases(book: Phrasebook) -> list[str]:
    """Every template and text of ``book`` (spam waves' templates included)."""
    found: list[str] = []
    for item in fields(book):
        value = getattr(book, item.name)
        if item.name in ("name", "roles", "places", "stuffing_tags"):
            continue
        if item.name == "spam_waves":
            found += [template for template, _ in value]
        elif isinstance(value, str):
            found.append(value)
        else:
            found += list(value)
    return found


def fragments(template: str, least: int = 3) -> list[str]:
    """The literal runs of ``template`` between its slots, of ``least`` words or more."""
    runs = (" ".join(run.split()).lower() for run in SLOT.split(template))
    return [run for run in runs if len(run.split()) >= least]


def test_default_book_is_a_and_an_unknown_book_is_refused():
    assert CrowdConfig().phrasebook == "a"
    assert plan_crowd(CrowdConfig(seed=3), schedule()) == plan_crowd(
        CrowdConfig(seed=3, phrasebook="a"), schedule()
    )
    with pytest.raises(ValueError, match="unknown phrasebook 'c' \\(known: a, b\\)"):
        CrowdConfig(phrasebook="c")


def test_every_book_fills_every_bank():
    for name, book in PHRASEBOOKS.items():
        assert book.name == name
        for item in fields(book):
            assert getattr(book, item.name), (name, item.name)
        assert "#optout" in book.optout
        assert "://" in book.spam_waves[0][0]


def runs(book: Phrasebook, length: int = 3) -> set[tuple[str, ...]]:
    """Every run of ``length`` words in ``book``'s templates (not across a slot)."""
    found: set[tuple[str, ...]] = set()
    for phrase in phrases(book):
        for part in SLOT.split(phrase):
            words = re.findall(r"[\w'+]+", part.lower())
            found |= {tuple(words[i : i + length]) for i in range(len(words) - length + 1)}
    return found


def test_book_b_shares_no_three_words_in_a_row_with_book_a():
    b_book = PHRASEBOOKS["b"]
    assert not runs(BOOK_A) & runs(b_book)
    # Nor a whole short text (a reply such as "+1, this.").
    assert not {p.lower() for p in phrases(BOOK_A)} & {p.lower() for p in phrases(b_book)}


def test_held_out_chat_keeps_the_invariants_and_its_seed(held_out):
    check_invariants(held_out)
    again = plan_crowd(
        CrowdConfig(seed=7, participants=30, posts_per_minute=6, phrasebook="b"), schedule()
    )
    assert again.to_dict() == held_out.to_dict()
    assert again.to_dict()["config"]["phrasebook"] == "b"


def test_held_out_chat_has_every_kind_of_post_in_its_own_words(held_out):
    same = plan_crowd(CrowdConfig(seed=7, participants=30, posts_per_minute=6), schedule())
    kinds = {a.kind for a in held_out.posts()}
    assert kinds == {a.kind for a in same.posts()}
    a_fragments = {f for p in phrases(BOOK_A) for f in fragments(p)}
    for post in held_out.posts():
        text = " ".join(post.text.split()).lower()
        assert not [f for f in a_fragments if f in text], post.text
    for cue in ("(cont.)", "plus:", "to expand on that", "what did i miss", "catching up"):
        assert not [a.text for a in held_out.posts() if cue in a.text.lower()], cue
    assert [a for a in held_out.actions if a.op == "edit"]


def test_held_out_chat_has_spam_waves_and_no_genuine_copies(held_out):
    spam = [a for a in held_out.posts() if a.spam]
    wave = [a for a in spam if "trading bot" in a.text]
    assert len({a.author for a in wave}) >= 2 and len({a.text for a in wave}) >= 2
    seen: dict[tuple[str, ...], str] = {}
    for post in held_out.posts():
        words = tuple(words_of(post.text))
        if post.spam or len(words) < 8:
            continue
        assert seen.setdefault(words, post.author) == post.author, post.text
