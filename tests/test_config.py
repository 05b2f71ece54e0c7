"""The settings table: defaults, environment variables, validation."""

from __future__ import annotations

import pytest

from chatbot.config import SETTINGS, get_setting, resolve_settings
from chatbot.errors import ConfigError


def test_defaults():
    settings = resolve_settings(env={})
    assert settings["database_url"] == "sqlite:///chatbot.db"
    assert settings["collect_before_minutes"] == 15
    assert set(settings) == {s.name for s in SETTINGS}


def test_every_setting_has_help_and_an_env_name():
    for setting in SETTINGS:
        assert setting.help.endswith(".")
        assert setting.env == "CHATBOT_" + setting.name.upper()
    assert not any(w in s.name for s in SETTINGS for w in ("password", "token", "secret"))


def test_values_beat_env_and_env_beats_defaults():
    env = {
        "CHATBOT_MAX_ATTEMPTS": "7",
        "CHATBOT_POLL_INTERVAL_SECONDS": "2.5",
        "CHATBOT_COLLECT_AFTER_MINUTES": "",
    }
    settings = resolve_settings({"max_attempts": 3}, env=env)
    assert settings["max_attempts"] == 3
    assert settings["poll_interval_seconds"] == 2.5
    assert settings["collect_after_minutes"] == 60


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"max_attempts": "many"},
            "setting max_attempts is 'many'; it must be an integer (default 5)",
        ),
        ({"max_attempts": 0}, "setting max_attempts is 0; it must be at least 1 (default 5)"),
        ({"max_atempts": 3}, "unknown setting 'max_atempts'; did you mean max_attempts?"),
        (
            {"poll_interval_seconds": True},
            "setting poll_interval_seconds is True; it must be a number",
        ),
    ],
)
def test_bad_values_are_config_errors(values, message):
    with pytest.raises(ConfigError) as caught:
        resolve_settings(values, env={})
    assert str(caught.value) == message or str(caught.value).startswith(message)


def test_a_bad_env_value_names_the_setting():
    with pytest.raises(
        ConfigError, match="setting late_after_seconds is '-3'; it must be at least 0"
    ):
        resolve_settings(env={"CHATBOT_LATE_AFTER_SECONDS": "-3"})


def test_get_setting():
    assert get_setting("transcripts_dir").default == "transcripts"
