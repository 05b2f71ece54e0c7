"""Splits a question file into its YAML front matter and body, and reads the YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from chatbot.questionfile.report import Report

_FENCE = "---"


class _Loader(yaml.SafeLoader):
    """SafeLoader that guesses fewer types than YAML 1.1 does.

    YAML 1.1 reads ``no`` as false (Norway's ``language: no``), ``12:30`` as
    750 and ``2026-12-01 12:00:00`` as a datetime. A moderator means text in
    all those cases, so only true/false, plain decimals and null are typed.
    """

    # first character -> (tag, pattern) pairs
    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012 - replaces SafeLoader's table


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


@dataclass
class Split:
    """The file cut in two: YAML text (with its first line) and body lines."""

    yaml_text: str | None
    yaml_first_line: int  # file line of the YAML's first line (1-based)
    body: list[tuple[int, str]]  # (file line, text) after the closing fence
    fence_line: int  # line of the closing fence, or of the last line


def split(text: str, report: Report) -> Split:
    """Cut ``text`` at its ``---`` fences; report a missing or unclosed fence."""
    # Only real line ends count, as in editors: str.splitlines() would also
    # break at form feeds and U+2028 and put line numbers out of step.
    lines = re.split(r"\r\n|\r|\n", text)
    if not text.strip():
        report.error(1, 1, "the file is empty", _EXAMPLE_HINT)
        return Split(None, 2, [], 1)
    if lines[0].rstrip() != _FENCE:
        report.error(
            1,
            1,
            "the file does not start with front matter (a line `---`)",
            "start the file with `---`, then settings such as `hashtag: sm35`, then `---`; "
            + _EXAMPLE_HINT,
        )
        return Split(None, 2, [], 1)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in (_FENCE, "..."):
            body = [(n + 1, lines[n]) for n in range(index + 1, len(lines))]
            return Split("\n".join(lines[1:index]), 2, body, index + 1)
    report.error(
        1,
        1,
        "the front matter opened on line 1 is never closed",
        "add a line `---` after the last setting, before the welcome and the questions",
    )
    return Split(None, 2, [], len(lines))


_EXAMPLE_HINT = "see docs/question-files.md for a complete example"

# Friendlier explanations for the YAML errors moderators actually hit.
_YAML_HINTS = (
    ("'@'", 'put the value in quotes: moderators: "@alice.bsky.social"'),
    ("'`'", "put the value in quotes"),
    ("'\\t'", "indent with spaces, not tabs"),
    ("mapping values are not allowed", 'a value containing ": " must be put in quotes'),
    ("could not find expected ':'", "each setting is `name: value` on its own line"),
    ("found duplicate anchor", "give each anchor (&name) a different name"),
    ("found undefined alias", "remove the `*` or quote the value"),
    ("unacceptable character", "remove the control character or binary data"),
    ("could not determine a constructor", "remove the `!tag`; write plain values"),
)


def load_yaml(part: Split, report: Report) -> tuple[Node | None, _Loader | None]:
    """Compose the front matter into a node tree, reporting syntax errors precisely."""
    assert part.yaml_text is not None
    loader = None
    try:
        # The reader rejects control characters as soon as it is built.
        loader = _Loader(part.yaml_text)
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = part.yaml_first_line + (mark.line if mark else 0)
        column = (mark.column + 1) if mark else 1
        problem = (error.problem or error.context or "invalid YAML").strip()
        report.error(
            line, column, f"YAML syntax error in the front matter: {problem}", _hint(str(error))
        )
        return None, None
    except yaml.reader.ReaderError as error:
        line, column = _position(part.yaml_text, error.position)
        report.error(
            part.yaml_first_line + line,
            column,
            f"the front matter contains a character YAML does not allow (code {error.character!r})",
            "remove control characters; save the file as UTF-8 text",
        )
        return None, None
    except (yaml.YAMLError, RecursionError, ValueError) as error:
        report.error(
            part.yaml_first_line, 1, f"cannot read the front matter: {error}", _EXAMPLE_HINT
        )
        return None, None
    finally:
        if loader is not None:
            loader.dispose()
    return node, loader


def construct(loader: yaml.SafeLoader, node: Node) -> object:
    """Build the Python value of one node; raises yaml.YAMLError on bad tags."""
    return loader.construct_object(node, deep=True)


def node_position(part: Split, node: Node) -> tuple[int, int]:
    """File line and column (1-based) where ``node`` starts."""
    return part.yaml_first_line + node.start_mark.line, node.start_mark.column + 1


def mapping_items(node: Node) -> list[tuple[Node, Node]]:
    return list(node.value) if isinstance(node, MappingNode) else []


def is_scalar(node: Node) -> bool:
    return isinstance(node, ScalarNode)


def _hint(message: str) -> str:
    for needle, hint in _YAML_HINTS:
        if needle in message:
            return hint
    return 'check the YAML near here; put values containing ": ", "#", "@" or quotes in quotes'


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n")
    return line, offset - (before.rfind("\n") + 1) + 1
