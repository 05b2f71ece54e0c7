"""Every command has help with an example, and docs/cli.md matches the commands."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from chatbot.cli import cli
from chatbot.cli.reference import iter_commands, render_reference

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = iter_commands(cli)


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path.split()[1:], "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"{path} --help shows no example"


def test_cli_reference_is_up_to_date():
    expected = render_reference(cli)
    actual = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, (
        "docs/cli.md is stale: run python -m chatbot.cli.reference > docs/cli.md"
    )
