"""The crowd's phrasebooks by name: "a", the banks the attribution was tuned on; "b", held out."""

from __future__ import annotations

from chatbot.sandbox.crowd.heldout import BOOK_B
from chatbot.sandbox.crowd.texts import BOOK_A, Phrasebook

PHRASEBOOKS: dict[str, Phrasebook] = {book.name: book for book in (BOOK_A, BOOK_B)}


def phrasebook(name: str) -> Phrasebook:
    """The book called ``name``; a ValueError naming the known ones otherwise."""
    try:
        return PHRASEBOOKS[name]
    except KeyError:
        known = ", ".join(sorted(PHRASEBOOKS))
        raise ValueError(f"unknown phrasebook {name!r} (known: {known})") from None


__all__ = ["PHRASEBOOKS", "phrasebook"]
