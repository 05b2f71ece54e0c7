"""The reader of front-matter values, and the settings it fills in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from chatbot.questionfile import frontmatter
from chatbot.questionfile.frontmatter import Split
from chatbot.questionfile.model import NETWORKS
from chatbot.questionfile.report import Report

DEFAULT_INTERVAL = timedelta(minutes=10)


@dataclass
class Settings:
    """What the front matter says, with defaults filled in; None where it was wrong."""

    hashtag: str | None = None
    title: str | None = None
    moderators: tuple[str, ...] = ()
    cohosts: tuple[str, ...] = ()  # never spam; kept in the event's settings
    # Other Mastodon servers to read besides the bot's own (base URLs), kept in the settings.
    mastodon_instances: tuple[str, ...] = ()
    start_local: datetime | None = None
    zone: ZoneInfo | None = None
    interval: timedelta = DEFAULT_INTERVAL
    networks: tuple[str, ...] = NETWORKS
    accounts: dict[str, str] = field(default_factory=dict)
    reminder: timedelta | None = None
    templates: dict[str, str] = field(default_factory=dict)
    mastodon_limit: int | None = None
    mastodon_image_limit: int | None = None  # bytes; None: Mastodon's default 16 MiB
    language: str | None = None
    late_joiners: bool = True  # answer "@bot Q3?" during the chat (bot.asking)
    # Where each setting's value stands, so later checks can point at it.
    where: dict[str, tuple[int, int]] = field(default_factory=dict)


class Reader:
    """Walks the YAML nodes; each field checker reports against node positions."""

    def __init__(self, part: Split, loader: yaml.SafeLoader, report: Report):
        self.part, self.loader, self.report = part, loader, report
        self.settings = Settings()

    def at(self, node: Node) -> tuple[int, int]:
        return frontmatter.node_position(self.part, node)

    def error(self, node: Node, message: str, hint: str = "") -> None:
        self.report.error(*self.at(node), message, hint)

    def value(self, node: Node) -> object:
        try:
            return frontmatter.construct(self.loader, node)
        except (yaml.YAMLError, ValueError, RecursionError, OverflowError) as error:
            self.error(node, f"cannot read this value: {error}", "write plain text or a number")
            return INVALID

    def text(self, name: str, node: Node, limit: int | None = None) -> str | None:
        """A non-empty single-line text value of at most ``limit`` characters, or None after
        reporting (default :data:`MAX_TEXT`: names, handles, codes and addresses are short)."""
        value = self.value(node)
        if value is INVALID:
            return None
        if not isinstance(node, ScalarNode) or value is None or isinstance(value, bool):
            self.error(
                node, f"{name} should be text, not {describe(node, value)}", quote_hint(name)
            )
            return None
        text = str(value).strip()
        if not text:
            self.error(node, f"{name} is empty", f"write a value after `{name}:`")
            return None
        limit = MAX_TEXT if limit is None else limit
        if len(text) > limit:
            self.error(
                node,
                f"{name} is {len(text):,} characters long; at most {limit:,} are allowed",
                "shorten it",
            )
            return None
        return text


INVALID = object()
# Characters of one front-matter value (a template may be longer: see fields.MAX_TEMPLATE).
MAX_TEXT = 1000


def describe(node: Node, value: object) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a group of `name: value` settings"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return f'text ("{value}")' if isinstance(value, str) else f"{type(value).__name__}"


def quote_hint(name: str) -> str:
    return f'write it as text, in quotes if needed: {name}: "..."'
