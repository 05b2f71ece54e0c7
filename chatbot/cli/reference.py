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


CONVENTIONS = """\
## Conventions every command keeps

**`--json`.** Every command takes `--json` and then prints exactly one JSON
document on standard output, with the same keys from one run to the next;
notes, progress and the running lines of long commands (`run`, `demo`,
`rehearse`, `login`) go to standard error. `chatbot live --json` prints
`{"event_id": ..., "url": ...}` once the page is up and `chatbot sandbox
serve` prints its JSON line with or without `--json`. An error is a document
too, with the exit code the command exits with (2 for bad input, 1 for a
network or database failure), and the text message still goes to standard
error:

```json
{"error": {"kind": "usage", "message": "...", "exit_code": 2, "problems": []}}
```

`kind` is `usage`, `storage`, `network` or `error`; `problems` lists a
question file's problems located (`path`, `line`, `column`, `severity`,
`message`, `hint`), else it is empty (`chatbot check --json` rather lists
every file with its problems, and exits 2 if one has an error). Without `--json` an error is one
`Error: ...` line on standard error and nothing on standard output. Text in
the JSON is UTF-8; characters that could steer a terminal (C1 controls,
bidirectional overrides) are written as `\\u` escapes.

**`-` for standard input and output.** Wherever a command reads a file, `-`
reads standard input instead, once, named `<stdin>` in messages: question
files (`check`, `preview`, `load`, `demo`, `rehearse`, `sandbox serve
--questions`, `sandbox crowd`), `import` (the format from `--format`, else
guessed from the first character), `recap --transcript` and `assign --from`.
Loading or importing standard input again updates the event it made, whose
source is `<stdin>`. Wherever a command writes a file, `-` writes it on
standard output instead: `transcript --out -` (with one `--format`),
`sandbox crowd --output -`, and the variables of `sandbox serve --env-file -`
and `rehearse --env-file -`. That file is then all there is on standard
output: the lines the command would print there go to standard error (the
sandbox's JSON line too), and `--json`, which wants standard output as well,
is refused with exit code 2. Folders (`recap --out`, `archive --out`) and the
sandbox's `--truth` file, rewritten while the crowd runs, take a path only.

```sh
chatbot transcript sm35 --format json --out - | chatbot recap --transcript - --out site
generate-questions | chatbot check -
```

**Progress.** `import`, `collect` (a backfill: a bar over the collection
window) and `recap` draw a progress bar on standard error when it is a
terminal. Piped or redirected they draw none (`collect` then prints one line
per complete pass); `--json` and `collect --quiet` switch the bar off too.
"""


def render_reference(group: click.Group) -> str:
    lines = [
        "# Command reference",
        "",
        "Generated from each command's `--help` by `python -m chatbot.cli.reference`;",
        "do not edit by hand.",
        "",
        CONVENTIONS,
    ]
    for path, _command in [("chatbot", group), *iter_commands(group)]:
        lines += [f"## {path}", "", "```text", help_text(group, path).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    from chatbot.cli.group import cli

    click.echo(render_reference(cli), nl=False)
