"""The page's buttons: each calls the library function its CLI command calls, nothing more.

pause, resume, skip, delay and post-now are :mod:`chatbot.bot.controls`; hide is
:func:`chatbot.collect.hide.hide_post`. What they print on the terminal is
what the page shows after the press; a refusal (a :class:`UsageError`) is shown
the same way, marked as an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from chatbot.bot import controls
from chatbot.collect.hide import hide_post
from chatbot.errors import ChatbotError, UsageError
from chatbot.platforms.base import Platform

ACTIONS = ("pause", "resume", "skip", "delay", "post-now", "hide")
DEFAULT_HIDE_REASON = "hidden from the live page"


@dataclass(frozen=True)
class Outcome:
    """What a press did: the lines the CLI would print, or the refusal."""

    ok: bool
    message: str


@dataclass(frozen=True)
class Controls:
    """What the buttons act on: one event of one store, at the clock's time."""

    engine: Engine
    event_id: int
    late_limit: timedelta
    connect: Callable[[str], Platform] | None = None  # for hide's Bluesky threadgate

    def run(self, action: str, form: Mapping[str, str], *, now: datetime) -> Outcome:
        """Do ``action`` with the form's fields; a bad field or a refusal is an error outcome."""
        try:
            return Outcome(True, self._run(action, form, now))
        except ChatbotError as error:  # a refusal, or a network that would not hide
            return Outcome(False, str(error))

    def _run(self, action: str, form: Mapping[str, str], now: datetime) -> str:
        ref = str(self.event_id)
        if action == "pause":
            return controls.pause(self.engine, ref, now=now).summary()
        if action == "resume":
            return controls.resume(self.engine, ref, now=now, late_limit=self.late_limit).summary()
        if action == "skip":
            return controls.skip(self.engine, ref, _field(form, "post"), now=now).summary()
        if action == "post-now":
            return controls.post_now(self.engine, ref, _field(form, "post"), now=now).summary()
        if action == "delay":
            amount = controls.parse_delay(_field(form, "duration"))
            return controls.delay(self.engine, ref, amount, now=now).summary()
        if action == "hide":
            reason = form.get("reason", "").strip() or DEFAULT_HIDE_REASON
            report = hide_post(
                self.engine, ref, _field(form, "post"), reason, connect=self.connect, now=now
            )
            return report.message()
        raise UsageError(f"unknown action {action!r}; the page's buttons are {', '.join(ACTIONS)}")


def _field(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise UsageError(f"the form has no {name}; fill it in and press again")
    return value


__all__ = ["ACTIONS", "DEFAULT_HIDE_REASON", "Controls", "Outcome"]
