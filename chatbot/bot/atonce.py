"""Run a piece of work on each of a few items side by side, and wait for all of them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def at_once(items: Sequence[T], work: Callable[[T], object], *, name: str = "at-once") -> None:
    """``work(item)`` for every item, each in a thread of its own (the first in this one).

    Returns when every call has returned; then raises the first exception one raised.
    The extra threads are daemons: a process that gives up waiting for them (a prompt
    stop past its grace) must not wait for them again at exit.
    """
    errors: list[BaseException] = []

    def run(item: T) -> None:
        try:
            work(item)
        except BaseException as error:  # raised again in the calling thread below
            errors.append(error)

    helpers = [
        threading.Thread(target=run, args=(item,), name=name, daemon=True) for item in items[1:]
    ]
    for helper in helpers:
        helper.start()
    if items:
        run(items[0])
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]


__all__ = ["at_once"]
