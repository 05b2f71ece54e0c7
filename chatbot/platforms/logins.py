"""Storing the credentials ``chatbot login`` verified, and checking every configured one.

Storing goes to the private file :func:`~chatbot.platforms.credentials.load_credentials`
reads (``$CHATBOT_CONFIG``, else ``~/.config/chatbot/credentials.toml``);
checking reads exactly what the bot would read, environment variables
winning over the file value by value, and says where each value came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chatbot.errors import AuthError, ChatbotError, UsageError
from chatbot.platforms import credentials as creds
from chatbot.platforms.credfile import existing_table, write_table
from chatbot.platforms.login_bluesky import check_password, looks_like_app_password
from chatbot.platforms.login_mastodon import check_token, missing_scopes

# Which variable sets which key of each table, in the order load_credentials reads them.
ENV_KEYS = {
    "mastodon": {"url": creds.ENV_MASTODON_URL, "token": creds.ENV_MASTODON_TOKEN},
    "bluesky": {
        "handle": creds.ENV_BLUESKY_HANDLE,
        "password": creds.ENV_BLUESKY_PASSWORD,
        "service": creds.ENV_BLUESKY_SERVICE,
        "web": creds.ENV_BLUESKY_WEB,
    },
}


def terminal_safe(text: str) -> str:
    """``text`` with control characters (terminal escapes a hostile server could send) as ``?``."""
    return "".join(char if char.isprintable() or char == "\n" else "?" for char in text)


def overriding(network: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The environment variables set for ``network``: they win over the file."""
    env = os.environ if env is None else env
    return [name for name in ENV_KEYS[network].values() if env.get(name)]


def save_mastodon(path: Path, instance: str, token: creds.Secret) -> Path:
    """Write [mastodon] url and token; the file's other tables stay as they are."""
    return write_table(path, "mastodon", {"url": instance, "token": token.reveal()})


def save_bluesky(path: Path, handle: str, password: creds.Secret, service: str) -> Path:
    """Write [bluesky] handle, password and service; keys such as ``web`` are kept."""
    table = existing_table(path, "bluesky")
    table.update({"handle": handle, "password": password.reveal(), "service": service})
    return write_table(path, "bluesky", table)


@dataclass
class NetworkCheck:
    network: str
    ok: bool
    lines: list[str] = field(default_factory=list)  # "label: value" details
    problem: str = ""
    refused: bool = False  # the network said no to the credentials (not a network failure)


@dataclass
class CheckReport:
    sources: list[str]
    checks: list[NetworkCheck]

    @property
    def exit_code(self) -> int:
        if all(check.ok for check in self.checks):
            return 0
        return 2 if any(check.refused for check in self.checks) else 1

    def as_dict(self) -> dict[str, object]:
        """What ``chatbot login --check --json`` prints."""
        return {
            "sources": list(self.sources),
            "checks": [
                {
                    "network": check.network,
                    "ok": check.ok,
                    "refused": check.refused,
                    "lines": list(check.lines),
                    "problem": check.problem,
                }
                for check in self.checks
            ],
            "exit_code": self.exit_code,
        }

    def render(self) -> str:
        out = ["Read " + "; ".join(self.sources) + "."]
        for check in self.checks:
            out.append(f"{check.network}: {'ok' if check.ok else 'FAILED'}")
            out += [f"  {line}" for line in check.lines]
            if check.problem:
                out.append(f"  error: {check.problem}")
        return terminal_safe("\n".join(out))


def _origin(network: str, key: str, env: Mapping[str, str], path: Path) -> str:
    name = ENV_KEYS[network][key]
    return f"{name} (environment)" if env.get(name) else str(path)


def _failure(check: NetworkCheck, error: ChatbotError, fix: str) -> NetworkCheck:
    check.ok = False
    check.refused = isinstance(error, AuthError | UsageError)
    check.problem = f"{error}. {fix}" if check.refused else str(error)
    return check


def check_mastodon(
    found: creds.MastodonCredentials, env: Mapping[str, str], path: Path, timeout: float
) -> NetworkCheck:
    check = NetworkCheck("mastodon", True)
    check.lines += [
        f"instance:   {found.url}  (from {_origin('mastodon', 'url', env, path)})",
        f"token:      from {_origin('mastodon', 'token', env, path)}",
    ]
    try:
        account = check_token(found.url, found.token, timeout=timeout)
    except ChatbotError as error:
        fix = f"Fix: run chatbot login mastodon --instance {found.url}" + (
            f", or set {creds.ENV_MASTODON_TOKEN} to a valid token"
            if env.get(creds.ENV_MASTODON_TOKEN)
            else ""
        )
        return _failure(check, error, fix)
    check.lines.insert(0, f"account:    @{account.acct}  {account.url}".rstrip())
    if account.scopes is None:
        check.lines.append("scopes:     not reported by this server")
    else:
        check.lines.append(f"scopes:     {' '.join(account.scopes)}")
        lacking = missing_scopes(account.scopes)
        if lacking:
            check.ok = False
            check.refused = True
            check.problem = (
                f"the token lacks {', '.join(lacking)}, which the bot needs. "
                f"Fix: chatbot login mastodon --instance {found.url}"
            )
    rate = account.rate.describe() if account.rate else "no X-RateLimit headers in the answer"
    check.lines.append(f"rate limit: {rate}")
    return check


def check_bluesky(
    found: creds.BlueskyCredentials, env: Mapping[str, str], path: Path, timeout: float
) -> NetworkCheck:
    check = NetworkCheck("bluesky", True)
    check.lines += [
        f"PDS:        {found.service}  (from {_origin('bluesky', 'service', env, path)})",
        f"handle:     {found.handle}  (from {_origin('bluesky', 'handle', env, path)})",
        f"password:   from {_origin('bluesky', 'password', env, path)}",
    ]
    try:
        account = check_password(found.handle, found.password, found.service, timeout=timeout)
    except ChatbotError as error:
        fix = "Fix: run chatbot login bluesky" + (
            f", or set {creds.ENV_BLUESKY_PASSWORD} to a valid app password"
            if env.get(creds.ENV_BLUESKY_PASSWORD)
            else ""
        )
        return _failure(check, error, fix)
    check.lines.insert(0, f"account:    @{account.handle}  {account.did}".rstrip())
    if not looks_like_app_password(found.password.reveal()):
        check.lines.append("warning:    the password does not look like an app password")
    rate = account.rate.describe() if account.rate else "no RateLimit headers in the login answer"
    check.lines.append(f"rate limit: {rate}")
    return check


def check_all(
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = 30.0,
    progress: Callable[[str], None] | None = None,
) -> CheckReport:
    """Check every configured credential against its network, as ``chatbot run`` would use it."""
    env = os.environ if env is None else env
    path = creds.default_config_path(env)
    found = creds.load_credentials(env)  # a ConfigError (unsafe or broken file) stops here
    variables = [name for network in ENV_KEYS for name in overriding(network, env)]
    sources = [
        ("environment variables " + ", ".join(variables))
        if variables
        else "no CHATBOT_* credential variables"
    ]
    sources.append(f"file {path}" if path.exists() else f"no file at {path}")
    if found.mastodon is None and found.bluesky is None:
        raise UsageError(
            "no credentials configured: run chatbot login mastodon --instance URL and/or "
            "chatbot login bluesky (or set the variables in docs/credentials.md)"
        )
    checks = []
    if found.mastodon is not None:
        if progress:
            progress(f"Checking Mastodon at {found.mastodon.url}...")
        checks.append(check_mastodon(found.mastodon, env, path, timeout))
    if found.bluesky is not None:
        if progress:
            progress(f"Checking Bluesky at {found.bluesky.service}...")
        checks.append(check_bluesky(found.bluesky, env, path, timeout))
    return CheckReport(sources, checks)


__all__ = [
    "CheckReport",
    "NetworkCheck",
    "check_all",
    "overriding",
    "save_bluesky",
    "save_mastodon",
    "terminal_safe",
]
