"""The settings table: every setting's name, default, help and environment variable.

One table drives validation, a ``chatbot settings`` listing and the docs.
Credentials are not settings: they come from environment variables or a private
config file, never from a question file or the database.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from chatbot.errors import ConfigError

Value = str | int | float | bool


@dataclass(frozen=True)
class Setting:
    """One setting: how it is named, typed, defaulted and explained."""

    name: str
    default: Value
    help: str
    minimum: float | None = None
    choices: tuple[str, ...] = ()  # for a text setting: the values it may take

    @property
    def env(self) -> str:
        return "CHATBOT_" + self.name.upper()

    @property
    def kind(self) -> type:
        return type(self.default)

    def parse(self, raw: object) -> Value:
        """``raw`` (a string from the environment, or a value) checked and typed."""
        value = _convert(self, raw)
        if self.choices and value not in self.choices:
            raise ConfigError(
                f"setting {self.name} is {raw!r}; use one of: {', '.join(self.choices)} "
                f"(default {self.default!r})"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"setting {self.name} is {raw!r}; give a finite number")
        if self.minimum is not None and isinstance(value, int | float) and value < self.minimum:
            raise ConfigError(
                f"setting {self.name} is {raw!r}; it must be at least {self.minimum:g} "
                f"(default {self.default!r})"
            )
        return value


def _convert(setting: Setting, raw: object) -> Value:
    kind = setting.kind
    if isinstance(raw, kind) and not (kind is not bool and isinstance(raw, bool)):
        return raw  # type: ignore[return-value]
    text = str(raw).strip()
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"setting {setting.name} is {raw!r}; use true or false")
    if kind is str:
        return text
    try:
        return kind(text)  # type: ignore[no-any-return]
    except ValueError:
        article = "an integer" if kind is int else "a number"
        raise ConfigError(
            f"setting {setting.name} is {raw!r}; it must be {article} (default {setting.default!r})"
        ) from None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "sqlite:///chatbot.db",
        "Where events, the outbox and collected posts are stored "
        "(SQLite file, or postgresql+psycopg://user@host/db for several bot processes).",
    ),
    Setting(
        "collect_before_minutes",
        15,
        "Start collecting the hashtag this many minutes before the event starts.",
        minimum=0,
    ),
    Setting(
        "collect_after_minutes",
        60,
        "Keep collecting this many minutes after the last scheduled post.",
        minimum=0,
    ),
    Setting(
        "claim_timeout_seconds",
        300,
        "A post claimed by a bot process for longer than this is checked on its "
        "network and retried if it is not there.",
        minimum=10,
    ),
    Setting(
        "stop_grace_seconds",
        1.0,
        "On Ctrl-C or SIGTERM, `chatbot run` waits this long for a post being sent; one a "
        "network has not answered by then is given back and sent again (same key) by the "
        "next run. Keep it under about 1.5 to exit within 2 s.",
        minimum=0,
    ),
    Setting("max_attempts", 5, "Give up posting one post on one network after this many tries.", 1),
    Setting(
        "late_after_seconds",
        60,
        "A post sent more than this many seconds after its due time is marked late.",
        minimum=0,
    ),
    Setting(
        "late_limit_seconds",
        600,
        "A post not yet sent this many seconds after its due time (after downtime, a "
        "long pause or rate limits) is skipped, and the moderator told; "
        "`chatbot run --late-limit` overrides it.",
        minimum=0,
    ),
    Setting(
        "poll_interval_seconds",
        20.0,
        "How often collection polls each network's search and threads.",
        minimum=1,
    ),
    Setting(
        "bluesky_live",
        "jetstream",
        "Bluesky's live sources between polls: jetstream, firehose (the relay's "
        "subscribeRepos) or both.",
        choices=("jetstream", "firehose", "both"),
    ),
    Setting(
        "mastodon_servers",
        20,
        "Besides the bot's own Mastodon server, read the public hashtag timeline of at most "
        "this many other servers participants post from (0: the bot's own only).",
        minimum=0,
    ),
    Setting("transcripts_dir", "transcripts", "Where exports and recap pages are written."),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def get_setting(name: str) -> Setting:
    """The setting called ``name``; an unknown name is a :class:`ConfigError` with a suggestion."""
    try:
        return _BY_NAME[name]
    except KeyError:
        close = difflib.get_close_matches(name, _BY_NAME, n=1)
        hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(_BY_NAME)}"
        raise ConfigError(f"unknown setting {name!r}{hint}") from None


def resolve_settings(
    values: Mapping[str, object] | None = None, *, env: Mapping[str, str] | None = None
) -> dict[str, Value]:
    """Every setting's value: ``values`` first, then ``CHATBOT_*`` variables, then defaults."""
    env = os.environ if env is None else env
    given = dict(values or {})
    for name in given:
        get_setting(name)
    resolved: dict[str, Value] = {}
    for setting in SETTINGS:
        if setting.name in given:
            resolved[setting.name] = setting.parse(given[setting.name])
        elif env.get(setting.env, "") != "":
            resolved[setting.name] = setting.parse(env[setting.env])
        else:
            resolved[setting.name] = setting.default
    return resolved


__all__ = ["SETTINGS", "Setting", "Value", "get_setting", "resolve_settings"]
