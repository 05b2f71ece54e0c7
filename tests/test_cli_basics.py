"""The command line answers --help and --version, and reports errors cleanly."""

from click.testing import CliRunner

from chatbot import __version__
from chatbot.cli import cli


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"chatbot, version {__version__}"


def test_help_has_an_example():
    result = CliRunner().invoke(cli, ["-h"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output
