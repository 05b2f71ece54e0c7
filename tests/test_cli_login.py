"""``chatbot login``: end to end through the command line against the sandbox servers over HTTP.

The Mastodon login runs as a real subprocess, because a person has to open
the printed address and paste the code back while the command waits; the
other cases use click's runner. Every test checks that no secret is printed.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from chatbot.cli import cli
from chatbot.platforms import connect
from chatbot.platforms.credentials import load_credentials
from chatbot.platforms.credfile import write_table
from chatbot.platforms.logins import terminal_safe
from chatbot.sandbox.bluesky import BlueskyApp
from chatbot.sandbox.mastodon import MastodonApp
from chatbot.sandbox.server import SandboxHTTPServer
from tests.oauth_browser import authorise

ROOT = Path(__file__).resolve().parent.parent
BOT_PASSWORD = "bot-password-for-the-sandbox"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
CREDENTIAL_VARIABLES = (
    "CHATBOT_CONFIG",
    "CHATBOT_MASTODON_URL",
    "CHATBOT_MASTODON_TOKEN",
    "CHATBOT_BLUESKY_HANDLE",
    "CHATBOT_BLUESKY_PASSWORD",
    "CHATBOT_BLUESKY_SERVICE",
    "CHATBOT_BLUESKY_WEB",
)
OTHER_TABLE = '# kept as it was\n[bluesky]\nhandle = "someone.test"  # a comment\npassword = "p"\n'


@pytest.fixture
def masto() -> Iterator[Any]:
    app = MastodonApp()
    server = SandboxHTTPServer(app).start()
    app.store.base_url = server.url
    app.store.create_account("bot", bot=True, email="bot@example.org", password=BOT_PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def bsky() -> Iterator[Any]:
    app = BlueskyApp()
    server = SandboxHTTPServer(app).start()
    app.store.create_account("bot.test", APP_PASSWORD, display_name="Bot")
    yield server
    server.stop()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config" / "chatbot" / "credentials.toml"


def _env(config: Path, **extra: str) -> dict[str, str | None]:
    env: dict[str, str | None] = dict.fromkeys(CREDENTIAL_VARIABLES)
    env["CHATBOT_CONFIG"] = str(config)
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str | None], given: str = "") -> Result:
    return CliRunner().invoke(cli, args, input=given, env=env, prog_name="chatbot")


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _store_token(server: Any, scopes: str) -> str:
    store = server.app.store
    account = store.account_by_login("bot")
    return str(store.issue_token(account.id, scopes=scopes).token)


# -- Mastodon ------------------------------------------------------------------------------


def test_mastodon_login_writes_a_private_file_the_bot_then_uses(masto: Any, config: Path):
    config.parent.mkdir(parents=True)
    config.write_text(OTHER_TABLE)
    config.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
    env |= {"CHATBOT_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "login", "mastodon", "--instance", masto.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,  # no terminal: the prompt reads the pipe
    )
    assert process.stdout is not None and process.stdin is not None
    seen = []
    for line in process.stdout:  # the person reads until the address appears
        seen.append(line)
        if "/oauth/authorize?" in line:
            break
    address = seen[-1].strip()
    assert address.startswith(f"{masto.url}/oauth/authorize?"), "".join(seen)
    code = authorise(address, "bot@example.org", BOT_PASSWORD)
    out, err = process.communicate(code + "\n", timeout=60)
    output = "".join(seen) + out + err
    assert process.returncode == 0, output
    assert "Logged in as @bot" in out and str(config) in out

    assert _private(config)
    stored = tomllib.loads(config.read_text())
    assert config.read_text().startswith(OTHER_TABLE)  # the other table, byte for byte
    assert stored["mastodon"]["url"] == masto.url
    token = stored["mastodon"]["token"]
    assert token not in output and code not in out + err
    issued = masto.app.store.token(token)
    scopes = sorted(issued.scopes.split())
    assert scopes == [
        "profile",
        "read:notifications",
        "read:search",
        "read:statuses",
        "write:statuses",
    ]

    # What `chatbot run` loads and connects with.
    credentials = load_credentials({"CHATBOT_CONFIG": str(config)})
    platform = connect("mastodon", credentials)
    assert platform.account().handle == "bot"
    ref = platform.post("Q1 Logged in through OAuth #sm35", key="login-test")
    assert masto.app.store.status(ref.id).account_id == issued.account_id


def test_a_wrong_code_changes_nothing(masto: Any, config: Path):
    config.parent.mkdir(parents=True)
    config.write_text(OTHER_TABLE)
    config.chmod(0o600)
    result = _run(
        ["login", "mastodon", "--instance", masto.url], _env(config), given="not-the-code\n"
    )
    assert result.exit_code == 2, result.output
    assert "did not accept that code" in result.output
    assert "Traceback" not in result.output
    assert config.read_text() == OTHER_TABLE and _private(config)


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        ("ftp://example.org", "is not a server address"),
        ("https://example.org/web/home", "without a path"),
        ("", "is empty"),
    ],
)
def test_bad_instance_addresses_are_usage_errors(config: Path, instance: str, message: str):
    result = _run(["login", "mastodon", "--instance", instance], _env(config))
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output
    assert not config.exists()


def test_an_unreachable_instance_is_a_clear_error(config: Path):
    address = f"http://127.0.0.1:{_closed_port()}"
    result = _run(["login", "mastodon", "--instance", address], _env(config))
    assert result.exit_code == 2 and f"cannot reach {address}" in result.output
    assert "Traceback" not in result.output
    assert not config.exists()


def test_a_server_without_the_mastodon_api_is_named(bsky: Any, config: Path):
    result = _run(["login", "mastodon", "--instance", bsky.url], _env(config))
    assert result.exit_code == 2, result.output
    assert "Mastodon or GoToSocial" in result.output
    assert not config.exists()


class _WebSite(BaseHTTPRequestHandler):
    """An ordinary web site: every path is an HTML page."""

    def do_GET(self) -> None:
        self._page()

    def do_POST(self) -> None:
        self._page()

    def _page(self) -> None:
        body = b"<!DOCTYPE html><html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_plain_web_site_is_named_as_no_mastodon_server(config: Path):
    site = ThreadingHTTPServer(("127.0.0.1", 0), _WebSite)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        address = f"http://127.0.0.1:{site.server_address[1]}"
        result = _run(["login", "mastodon", "--instance", address], _env(config))
    finally:
        site.shutdown()
        site.server_close()
    assert result.exit_code == 2, result.output
    assert "did not answer as a Mastodon API server" in result.output
    assert not config.exists()


def test_server_text_cannot_drive_the_terminal():
    assert terminal_safe("4.3.0\x1b]0;owned\x07 ok\nnext") == "4.3.0?]0;owned? ok\nnext"


def test_a_world_readable_file_is_refused_and_left_alone(masto: Any, config: Path):
    config.parent.mkdir(parents=True)
    config.write_text(OTHER_TABLE)
    config.chmod(0o644)
    apps_before = len(masto.app.store.apps)
    result = _run(["login", "mastodon", "--instance", masto.url], _env(config))
    assert result.exit_code == 2 and f"Fix: chmod 600 {config}" in result.output
    assert len(masto.app.store.apps) == apps_before  # refused before registering anything
    config_text = config.read_text()
    assert config_text == OTHER_TABLE and stat.S_IMODE(config.stat().st_mode) == 0o644


# -- Bluesky -------------------------------------------------------------------------------


def test_bluesky_login_checks_and_stores_the_app_password(bsky: Any, config: Path):
    result = _run(
        ["login", "bluesky", "--pds", bsky.url], _env(config), given=f"bot.test\n{APP_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Logged in as @bot.test" in result.output and "warning" not in result.output
    assert APP_PASSWORD not in result.output
    assert _private(config)
    stored = tomllib.loads(config.read_text())["bluesky"]
    assert stored == {"handle": "bot.test", "password": APP_PASSWORD, "service": bsky.url}
    credentials = load_credentials({"CHATBOT_CONFIG": str(config)})
    assert connect("bluesky", credentials).account().handle == "bot.test"


def test_bluesky_warns_about_a_password_that_is_no_app_password(bsky: Any, config: Path):
    bsky.app.store.create_account("main.test", "my-main-password")
    result = _run(
        ["login", "bluesky", "--pds", bsky.url, "--handle", "@main.test"],
        _env(config),
        given="my-main-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "does not look like an app password" in result.output
    assert "my-main-password" not in result.output
    assert tomllib.loads(config.read_text())["bluesky"]["handle"] == "main.test"


def test_a_refused_bluesky_password_changes_nothing(bsky: Any, config: Path):
    result = _run(
        ["login", "bluesky", "--pds", bsky.url, "--handle", "bot.test"],
        _env(config),
        given="wxyz-wxyz-wxyz-wxyz\n",
    )
    assert result.exit_code == 2, result.output
    assert "refused the handle 'bot.test'" in result.output and "App passwords" in result.output
    assert "wxyz-wxyz-wxyz-wxyz" not in result.output and "Traceback" not in result.output
    assert not config.exists()


# -- --check -------------------------------------------------------------------------------


def test_check_prints_account_scopes_and_rate_limits(masto: Any, bsky: Any, config: Path):
    token = _store_token(masto, "read:statuses write:statuses profile")
    write_table(config, "mastodon", {"url": masto.url, "token": token})
    write_table(
        config, "bluesky", {"handle": "bot.test", "password": APP_PASSWORD, "service": bsky.url}
    )
    result = _run(["login", "--check"], _env(config))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "mastodon: ok" in out and "account:    @bot" in out and masto.url in out
    assert "scopes:     read:statuses write:statuses profile" in out
    assert "of 300 requests left" in out
    assert "bluesky: ok" in out and "@bot.test" in out and "of 30 logins left" in out
    assert f"file {config}" in out and "no CHATBOT_* credential variables" in out
    assert token not in out and APP_PASSWORD not in out


def test_check_fails_clearly_on_a_revoked_token(masto: Any, config: Path):
    token = _store_token(masto, "read:statuses write:statuses profile")
    write_table(config, "mastodon", {"url": masto.url, "token": token})
    requests.post(f"{masto.url}/oauth/revoke", data={"token": token}, timeout=10)
    result = _run(["login", "--check"], _env(config))
    assert result.exit_code == 2, result.output
    assert "mastodon: FAILED" in result.output
    assert "refused the access token (401)" in result.output
    assert f"Fix: run chatbot login mastodon --instance {masto.url}" in result.output
    assert token not in result.output and "Traceback" not in result.output


def test_check_names_a_missing_scope(masto: Any, config: Path):
    token = _store_token(masto, "read:statuses profile")
    write_table(config, "mastodon", {"url": masto.url, "token": token})
    result = _run(["login", "--check"], _env(config))
    assert result.exit_code == 2
    assert "the token lacks write:statuses" in result.output


def test_check_follows_the_environment_over_the_file(masto: Any, config: Path):
    write_table(config, "mastodon", {"url": masto.url, "token": "revoked-long-ago-0000"})
    token = _store_token(masto, "read write")
    result = _run(["login", "--check"], _env(config, CHATBOT_MASTODON_TOKEN=token))
    assert result.exit_code == 0, result.output
    assert "token:      from CHATBOT_MASTODON_TOKEN (environment)" in result.output
    assert f"(from {config})" in result.output  # the URL still comes from the file
    assert "environment variables CHATBOT_MASTODON_TOKEN" in result.output
    assert token not in result.output


def test_check_with_a_refused_bluesky_password(bsky: Any, config: Path):
    write_table(
        config,
        "bluesky",
        {"handle": "bot.test", "password": "zzzz-zzzz-zzzz-zzzz", "service": bsky.url},
    )
    result = _run(["login", "--check"], _env(config))
    assert result.exit_code == 2
    assert "bluesky: FAILED" in result.output and "Fix: run chatbot login bluesky" in result.output
    assert "zzzz-zzzz-zzzz-zzzz" not in result.output


def test_check_an_unreachable_network_exits_2_and_names_it(config: Path):
    address = f"http://127.0.0.1:{_closed_port()}"
    write_table(config, "mastodon", {"url": address, "token": "some-token-value"})
    result = _run(["login", "--check"], _env(config))
    assert result.exit_code == 2 and f"cannot reach {address}" in result.output
    assert "some-token-value" not in result.output


def test_check_without_credentials(tmp_path: Path):
    env = dict.fromkeys(CREDENTIAL_VARIABLES) | {"XDG_CONFIG_HOME": str(tmp_path)}
    result = _run(["login", "--check"], env)
    assert result.exit_code == 2 and "no credentials configured" in result.output


def test_login_alone_or_check_with_a_network_is_a_usage_error(config: Path):
    assert _run(["login"], _env(config)).exit_code == 2
    result = _run(["login", "--check", "mastodon", "--instance", "x.org"], _env(config))
    assert result.exit_code == 2 and "use it without mastodon" in result.output
