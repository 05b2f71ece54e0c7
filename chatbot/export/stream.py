"""A transcript document's posts made afresh on each pass, so a big chat is never held whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from chatbot.transcript.counts import ChatCounts, document_counts


class PostStream(list[dict[str, Any]]):
    """The posts of a document, made from the database a batch at a time on each pass.

    A list to the readers that ask (``json``'s encoder writes it as one), but
    empty underneath: iterating calls ``make`` again, so each writer's pass
    holds one batch of posts, not the chat. ``len`` is the number of posts.
    ``counts`` keeps the document's count once made (one pass, not one per file).
    """

    def __init__(self, make: Callable[[], Iterator[dict[str, Any]]], length: int) -> None:
        super().__init__()
        self._make = make
        self._length = length
        self.counts: ChatCounts | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._make()

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __reduce__(self) -> Any:  # never pickled or copied as an empty list by mistake
        raise TypeError("a PostStream is read from an open session; iterate it instead")


def counts_of(document: dict[str, Any]) -> ChatCounts:
    """``document_counts(document)``, made once for a document whose posts are a stream."""
    posts = document.get("posts")
    if not isinstance(posts, PostStream):
        return document_counts(document)
    if posts.counts is None:
        posts.counts = document_counts(document)
    return posts.counts


__all__ = ["PostStream", "counts_of"]
