"""Favourites and boosts of the sandbox Mastodon's statuses: who did which, and the counts.

Each server counts what it has heard of: a favourite or boost given on a
remote copy counts there and, once federation delivers it (late, or lost as
a status can be), on the status's origin too, as a Like or Announce reaches
a real origin; a remote copy never hears of those given elsewhere, so its
counts are its own server's. A boost is kept as a reaction, not as a status
of its own: the sandbox's timelines show no boosts.
"""

from __future__ import annotations

import threading


class Reactions:
    """Accounts that favourited and boosted each status (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, dict[str, set[str]]] = {"favourite": {}, "reblog": {}}

    def set(self, kind: str, status_id: str, account_id: str, on: bool = True) -> None:
        """``account_id`` favourites (``kind`` "favourite") or boosts ("reblog") a status;
        ``on=False`` takes it back. Doing it twice counts once, as on Mastodon."""
        with self._lock:
            accounts = self._kinds[kind].setdefault(status_id, set())
            if on:
                accounts.add(account_id)
            else:
                accounts.discard(account_id)

    def count(self, kind: str, status_id: str) -> int:
        with self._lock:
            return len(self._kinds[kind].get(status_id, ()))

    def did(self, kind: str, status_id: str, account_id: str | None) -> bool:
        """Whether ``account_id`` favourited or boosted the status (the viewer's flags)."""
        with self._lock:
            return account_id in self._kinds[kind].get(status_id, ())


__all__ = ["Reactions"]
