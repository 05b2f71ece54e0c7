"""Network credentials from env vars or a private TOML file, and keeping them out of logs."""

from __future__ import annotations

import logging
import os
import stat
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.errors import ConfigError
from chatbot.platforms.bluesky_uris import BLUESKY_WEB

ENV_BLUESKY_HANDLE = "CHATBOT_BLUESKY_HANDLE"
ENV_BLUESKY_PASSWORD = "CHATBOT_BLUESKY_PASSWORD"
ENV_BLUESKY_SERVICE = "CHATBOT_BLUESKY_SERVICE"
ENV_BLUESKY_WEB = "CHATBOT_BLUESKY_WEB"
ENV_MASTODON_URL = "CHATBOT_MASTODON_URL"
ENV_MASTODON_TOKEN = "CHATBOT_MASTODON_TOKEN"
ENV_CONFIG = "CHATBOT_CONFIG"
DEFAULT_BLUESKY_SERVICE = "https://bsky.social"
DEFAULT_BLUESKY_WEB = BLUESKY_WEB
MASK = "***"
# Shorter values are not scrubbed from logs: masking every "tok" in "token" would garble
# them, and no real app password or access token is that short.
MIN_REDACTED_LENGTH = 8

_known: set[str] = set()
_known_lock = threading.Lock()


class Secret:
    """A credential whose ``str``/``repr``/format is ``***``; ``reveal()`` gives the value.

    Every Secret made is remembered (in this process only) so that
    :class:`RedactingFilter` can scrub its value from any log record.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = str(value)
        if len(self._value) >= MIN_REDACTED_LENGTH:
            with _known_lock:
                _known.add(self._value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def known_secrets() -> frozenset[str]:
    with _known_lock:
        return frozenset(_known)


class RedactingFilter(logging.Filter):
    """Replaces every known secret value in a log record (message, args, traceback) by ``***``.

    Attach it to handlers (see :func:`install_redaction`): a filter on a logger
    does not see records that propagate from its children.
    """

    def __init__(self, extra: Iterable[str] = ()):
        super().__init__()
        self.extra = {value for value in extra if value}

    def _scrub(self, text: str) -> str:
        # Longest first, so a secret containing another is masked whole.
        for value in sorted(known_secrets() | self.extra, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self._scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
            record.exc_info = None  # the scrubbed text is what gets printed
        if record.stack_info:
            record.stack_info = self._scrub(record.stack_info)
        return True


def install_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add a RedactingFilter to every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    redactor = RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redactor)
    return redactor


@dataclass(frozen=True)
class BlueskyCredentials:
    handle: str
    password: Secret
    service: str = DEFAULT_BLUESKY_SERVICE
    web: str = DEFAULT_BLUESKY_WEB  # the base of links to posts and profiles


@dataclass(frozen=True)
class MastodonCredentials:
    url: str
    token: Secret


@dataclass(frozen=True)
class Credentials:
    """What was found; either network may be missing."""

    bluesky: BlueskyCredentials | None = None
    mastodon: MastodonCredentials | None = None
    source: str = ""  # "env", a file path, or both, for messages

    def require_bluesky(self) -> BlueskyCredentials:
        if self.bluesky is None:
            raise ConfigError(
                f"no Bluesky credentials: set {ENV_BLUESKY_HANDLE} and {ENV_BLUESKY_PASSWORD} "
                f"(an app password), or add a [bluesky] table to {default_config_path()}"
            )
        return self.bluesky

    def require_mastodon(self) -> MastodonCredentials:
        if self.mastodon is None:
            raise ConfigError(
                f"no Mastodon credentials: set {ENV_MASTODON_URL} and {ENV_MASTODON_TOKEN}, "
                f"or add a [mastodon] table to {default_config_path()}"
            )
        return self.mastodon


def config_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where private runtime state (the Bluesky session) lives: $XDG_STATE_HOME/chatbot."""
    env = os.environ if env is None else env
    return Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "chatbot"


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    return config_home(env) / "chatbot" / "credentials.toml"


def read_private_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file that only its owner may read; refuse it otherwise."""
    try:
        info = path.stat()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read credentials file: {error.strerror}") from None
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path}: credentials file has mode {mode:04o}, so other users can read it; "
            f"refusing to use it. Fix: chmod 600 {path}"
        )
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read credentials file: {error.strerror}") from None


def _table(data: Mapping[str, Any], name: str, path: Path) -> dict[str, str]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    result = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: [{name}] {key} must be a string")
        result[key] = value
    return result


def load_credentials(env: Mapping[str, str] | None = None, path: Path | None = None) -> Credentials:
    """Credentials from env vars, then the config file; env wins field by field.

    The file is read only if it exists (or ``CHATBOT_CONFIG``/``path`` names it,
    in which case it must exist) and only when its mode is 0600 or stricter.
    """
    env = os.environ if env is None else env
    explicit = path is not None or bool(env.get(ENV_CONFIG))
    path = path or default_config_path(env)
    data: dict[str, Any] = {}
    if explicit or path.exists():
        data = read_private_toml(path)
    blue = _table(data, "bluesky", path)
    masto = _table(data, "mastodon", path)
    unknown = set(data) - {"bluesky", "mastodon"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown table(s) {sorted(unknown)}; expected [bluesky], [mastodon]"
        )

    handle = env.get(ENV_BLUESKY_HANDLE) or blue.get("handle", "")
    password = env.get(ENV_BLUESKY_PASSWORD) or blue.get("password", "")
    service = env.get(ENV_BLUESKY_SERVICE) or blue.get("service") or DEFAULT_BLUESKY_SERVICE
    web = env.get(ENV_BLUESKY_WEB) or blue.get("web") or DEFAULT_BLUESKY_WEB
    url = env.get(ENV_MASTODON_URL) or masto.get("url", "")
    token = env.get(ENV_MASTODON_TOKEN) or masto.get("token", "")

    bluesky = None
    if handle or password:
        if not (handle and password):
            missing = ENV_BLUESKY_PASSWORD if handle else ENV_BLUESKY_HANDLE
            raise ConfigError(f"Bluesky credentials incomplete: set {missing} (or the file's key)")
        if not web.startswith(("https://", "http://")):
            raise ConfigError(
                f"Bluesky web base {web!r} ({ENV_BLUESKY_WEB}) must start with https://, "
                f"e.g. {DEFAULT_BLUESKY_WEB}"
            )
        bluesky = BlueskyCredentials(
            handle.lstrip("@"), Secret(password), service.rstrip("/"), web.rstrip("/")
        )
    mastodon = None
    if url or token:
        if not (url and token):
            missing = ENV_MASTODON_TOKEN if url else ENV_MASTODON_URL
            raise ConfigError(f"Mastodon credentials incomplete: set {missing} (or the file's key)")
        if not url.startswith(("https://", "http://")):
            raise ConfigError(f"Mastodon URL {url!r} must start with https://")
        mastodon = MastodonCredentials(url.rstrip("/"), Secret(token))
    source = ", ".join(filter(None, ["env" if _any_env(env) else "", str(path) if data else ""]))
    return Credentials(bluesky, mastodon, source)


def _any_env(env: Mapping[str, str]) -> bool:
    names = (ENV_BLUESKY_HANDLE, ENV_BLUESKY_PASSWORD, ENV_MASTODON_URL, ENV_MASTODON_TOKEN)
    return any(env.get(name) for name in names)


__all__ = [
    "BlueskyCredentials",
    "Credentials",
    "MastodonCredentials",
    "RedactingFilter",
    "Secret",
    "default_config_path",
    "install_redaction",
    "known_secrets",
    "load_credentials",
    "read_private_toml",
    "state_dir",
]
