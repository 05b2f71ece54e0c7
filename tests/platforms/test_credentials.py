"""Credentials: env beats file, unsafe files refused, secrets never in logs or reprs."""

import logging
import os
import traceback

import pytest

from chatbot.errors import ConfigError
from chatbot.platforms.credentials import (
    RedactingFilter,
    Secret,
    install_redaction,
    load_credentials,
)

FILE = """
[bluesky]
handle = "bot.example.social"
password = "file-app-password"
service = "https://pds.example"

[mastodon]
url = "https://masto.example/"
token = "file-token-123"
"""


def write(tmp_path, text=FILE, mode=0o600):
    path = tmp_path / "credentials.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_env_only():
    env = {
        "CHATBOT_BLUESKY_HANDLE": "@bot.bsky.social",
        "CHATBOT_BLUESKY_PASSWORD": "abcd-efgh-ijkl-mnop",
        "CHATBOT_MASTODON_URL": "https://m.example",
        "CHATBOT_MASTODON_TOKEN": "tok",
        "XDG_CONFIG_HOME": "/nonexistent",
    }
    creds = load_credentials(env)
    assert creds.bluesky.handle == "bot.bsky.social"
    assert creds.bluesky.service == "https://bsky.social"
    assert creds.bluesky.web == "https://bsky.app"
    assert creds.bluesky.password.reveal() == "abcd-efgh-ijkl-mnop"
    assert creds.mastodon.token.reveal() == "tok"


def test_file_is_read_and_env_wins_field_by_field(tmp_path):
    path = write(tmp_path)
    creds = load_credentials({"CHATBOT_BLUESKY_PASSWORD": "env-password"}, path)
    assert creds.bluesky.handle == "bot.example.social"
    assert creds.bluesky.password.reveal() == "env-password"
    assert creds.bluesky.service == "https://pds.example"
    assert creds.mastodon.url == "https://masto.example"
    assert creds.mastodon.token.reveal() == "file-token-123"


def test_bluesky_web_base_from_env_or_file(tmp_path):
    path = write(
        tmp_path, FILE.replace('service = "https://pds.example"', 'web = "https://w.example/"')
    )
    assert load_credentials({}, path).bluesky.web == "https://w.example"
    env = {"CHATBOT_BLUESKY_WEB": "http://127.0.0.1:8080"}
    assert load_credentials(env, path).bluesky.web == "http://127.0.0.1:8080"
    with pytest.raises(ConfigError, match=r"CHATBOT_BLUESKY_WEB.*must start with https://"):
        load_credentials({"CHATBOT_BLUESKY_WEB": "bsky.app"}, path)


def test_config_env_var_names_the_file(tmp_path):
    path = write(tmp_path)
    assert load_credentials({"CHATBOT_CONFIG": str(path)}).mastodon.url == "https://masto.example"
    with pytest.raises(ConfigError, match="cannot read"):
        load_credentials({"CHATBOT_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_can_read_is_refused_with_the_fix(tmp_path, mode):
    path = write(tmp_path, mode=mode)
    with pytest.raises(ConfigError) as caught:
        load_credentials({}, path)
    message = str(caught.value)
    assert str(path) in message and f"{mode:04o}" in message
    assert f"chmod 600 {path}" in message
    assert "file-app-password" not in message


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_credentials({}, write(tmp_path, "[bluesky\n"))
    with pytest.raises(ConfigError, match="CHATBOT_BLUESKY_PASSWORD"):
        load_credentials({}, write(tmp_path, '[bluesky]\nhandle = "a.b"\n'))
    with pytest.raises(ConfigError, match="unknown table"):
        load_credentials({}, write(tmp_path, "[twitter]\n"))


def test_missing_network_is_a_config_error_naming_the_env_vars():
    creds = load_credentials({"XDG_CONFIG_HOME": "/nonexistent"})
    with pytest.raises(ConfigError, match="CHATBOT_MASTODON_TOKEN"):
        creds.require_mastodon()
    with pytest.raises(ConfigError, match="CHATBOT_BLUESKY_PASSWORD"):
        creds.require_bluesky()


def test_secret_hides_in_str_repr_format_and_containers():
    secret = Secret("hunter2-hunter2")
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert "hunter2" not in shown
    assert secret.reveal() == "hunter2-hunter2" and secret == Secret("hunter2-hunter2")
    creds = load_credentials(
        {"CHATBOT_MASTODON_URL": "https://m.example", "CHATBOT_MASTODON_TOKEN": "tok-SECRET-1"}
    )
    assert "tok-SECRET-1" not in repr(creds)


def test_logged_output_never_shows_a_secret(caplog):
    secret = Secret("pw-abc-very-secret")
    other = "session-string-xyz"
    logger = logging.getLogger("chatbot.test.redaction")
    redactor = RedactingFilter(extra=[other])
    caplog.handler.addFilter(redactor)
    try:
        with caplog.at_level(logging.DEBUG, logger=logger.name):
            logger.info("login with %s", secret.reveal())
            logger.warning("session %s", {"s": other})
            logger.error("as object %r / %s", secret, secret)
            try:
                raise RuntimeError(f"server said no to {secret.reveal()}")
            except RuntimeError:
                logger.exception("failed")
    finally:
        caplog.handler.removeFilter(redactor)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "pw-abc-very-secret" not in text and other not in text
    assert text.count("***") >= 4
    assert "RuntimeError" in caplog.text  # the traceback is kept, scrubbed


def test_install_redaction_covers_records_from_child_loggers():
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    parent = logging.getLogger("chatbot.test.parent")
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)
    try:
        install_redaction(parent)
        install_redaction(parent)  # idempotent
        secret = Secret("child-secret-value")
        logging.getLogger("chatbot.test.parent.child").info("token=%s", secret.reveal())
    finally:
        parent.removeHandler(handler)
    assert stream.getvalue().strip() == "token=***"
    assert len(handler.filters) == 1


def test_secret_never_in_a_traceback_of_a_config_error(tmp_path):
    path = write(tmp_path, mode=0o644)
    with pytest.raises(ConfigError) as caught:
        load_credentials({}, path)
    shown = "".join(traceback.format_exception(caught.value))
    assert "chmod 600" in shown  # the traceback is the refusal's
    assert "file-app-password" not in shown


def test_connect_builds_adapters_from_credentials(tmp_path):
    from chatbot.platforms import connect
    from chatbot.platforms.bluesky import BlueskyPlatform
    from chatbot.platforms.mastodon import MastodonPlatform

    env = {
        "CHATBOT_BLUESKY_HANDLE": "bot.test",
        "CHATBOT_BLUESKY_PASSWORD": "app-password-xyz",
        "CHATBOT_BLUESKY_SERVICE": "http://127.0.0.1:9/",
        "CHATBOT_BLUESKY_WEB": "http://127.0.0.1:9/",
        "CHATBOT_MASTODON_URL": "http://127.0.0.1:9",
        "CHATBOT_MASTODON_TOKEN": "token-abcdefgh",
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    creds = load_credentials(env)
    blue = connect("bluesky", creds)
    assert isinstance(blue, BlueskyPlatform) and blue.service == "http://127.0.0.1:9"
    assert blue.web == "http://127.0.0.1:9"
    assert blue.sessions.path is None
    assert isinstance(connect("mastodon", creds), MastodonPlatform)
    with pytest.raises(ValueError, match="unknown network"):
        connect("twitter", creds)
