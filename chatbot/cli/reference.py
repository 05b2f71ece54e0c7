"""The command reference in docs/cli.md, generated from every command's --help.

Run ``python -m chatbot.cli.reference > docs/cli.md`` after changing a
command; a test fails while the file and the commands disagree.
"""

from __future__ import annotations

import click


def iter_commands(group: click.Group, prefix: str = "chatbot") -> list[tuple[str, click.Command]]:
    """Every command below ``group`` (groups included), in name order."""
    found: list[tuple[str, click.Command]] = []
    context = click.Context(group, info_name=prefix)
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(iter_commands(command, path))
    return found


def help_text(group: click.Group, path: str) -> str:
    """What ``PATH --help`` prints, run as a user would, at click's default width."""
    from click.testing import CliRunner

    result = CliRunner().invoke(
        group, [*path.split()[1:], "--help"], prog_name="chatbot", terminal_width=80
    )
    return result.output


def render_reference(group: click.Group) -> str:
    lines = [
        "# Command reference",
        "",
        "Generated from each command's `--help` by `python -m chatbot.cli.reference`;",
        "do not edit by hand.",
        "",
    ]
    for path, _command in [("chatbot", group), *iter_commands(group)]:
        lines += [f"## {path}", "", "```text", help_text(group, path).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    from chatbot.cli.group import cli

    click.echo(render_reference(cli), nl=False)
