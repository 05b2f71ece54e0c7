"""The front-matter settings: one checker per field, every mistake reported."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import timedelta

import regex
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from chatbot.questionfile import frontmatter
from chatbot.questionfile.frontmatter import Split
from chatbot.questionfile.model import NETWORKS
from chatbot.questionfile.people import (
    BLUESKY_HANDLE,
    MASTODON_HANDLE,
    cohosts,
    mastodon_instances,
)
from chatbot.questionfile.reader import (
    DEFAULT_INTERVAL,
    INVALID,
    Reader,
    Settings,
    describe,
)
from chatbot.questionfile.report import Report, did_you_mean
from chatbot.questionfile.timing import (
    MAX_DURATION,
    find_zone,
    fixed_zone_note,
    parse_duration,
    parse_local,
)

TEMPLATE_KINDS = ("welcome", "question", "reminder", "wrapup")
MAX_HASHTAG_LENGTH = 64  # Bluesky's tag facet allows 64 graphemes
_HASHTAG = regex.compile(r"^[\p{L}\p{M}\p{Nd}_]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


def _hashtag(reader: Reader, node: Node) -> None:
    raw = _raw_value(reader, node)
    value = reader.value(node)
    if value is None and raw.startswith("#"):
        reader.error(
            node,
            "hashtag is empty: in YAML a # starts a comment, so `hashtag: #...` reads as nothing",
            f"leave out the #, `hashtag: {raw[1:].split()[0] if raw[1:].split() else 'sm35'}`,"
            ' or quote it: hashtag: "#sm35"',
        )
        return
    text = reader.text("hashtag", node)
    if text is None:
        return
    tag = text[1:] if text.startswith("#") else text
    if " " in tag.strip() or "\t" in tag:
        word = tag.split()[0]
        reader.error(
            node,
            f'hashtag "{text}" contains a space; a hashtag ends at the first space, so it '
            f"would be #{word}",
            f"remove the spaces: {tag.replace(' ', '')}",
        )
    elif not tag:
        reader.error(node, "hashtag is only a #", "write the tag after it, e.g. sm35")
    elif not _HASHTAG.match(tag):
        bad = next(ch for ch in tag if not _HASHTAG.match(ch))
        reader.error(
            node,
            f'hashtag "{text}" contains "{bad}"; only letters, digits and _ stay part of a hashtag',
            f"remove it: {''.join(ch for ch in tag if _HASHTAG.match(ch)) or 'sm35'}",
        )
    elif tag.isdigit():
        reader.error(
            node,
            f'hashtag "{text}" is only digits; the networks do not link #{tag}',
            f"add a letter, e.g. chat{tag}",
        )
    elif len(tag) > MAX_HASHTAG_LENGTH:
        reader.error(
            node,
            f"hashtag is {len(tag)} characters; Bluesky links at most {MAX_HASHTAG_LENGTH}",
            "use a shorter hashtag",
        )
    else:
        reader.settings.hashtag = tag


def _raw_value(reader: Reader, node: Node) -> str:
    # The text after `name:` on the key's line, before YAML drops a comment.
    lines = (reader.part.yaml_text or "").split("\n")
    line = node.start_mark.line
    if not 0 <= line < len(lines):
        return ""
    _, _, after = lines[line].partition(":")
    return after.strip()


MAX_TITLE = 300  # characters: a title is a line on a page, not a document
MAX_TEMPLATE = 100_000  # characters: the largest max_characters (each post is checked too)


def _title(reader: Reader, node: Node) -> None:
    title = reader.text("title", node, limit=10**9)  # checked with its own fix below
    if title is not None and len(title) > MAX_TITLE:
        reader.error(
            node,
            f"title is {len(title):,} characters long; at most {MAX_TITLE} are allowed",
            "shorten it; put longer text in the Welcome",
        )
        return
    reader.settings.title = title


def _moderators(reader: Reader, node: Node) -> None:
    items = node.value if isinstance(node, SequenceNode) else [node]
    handles = []
    for item in items:
        text = reader.text("each moderator", item)
        if text is not None:
            handles.append(text)
    reader.settings.moderators = tuple(handles)


def _start(reader: Reader, node: Node) -> None:
    text = reader.text("start", node)
    if text is None:
        return
    local, why = parse_local(text)
    if local is None:
        reader.error(
            node,
            f'start "{text}" is {why}',
            "write the local date and time as YYYY-MM-DD HH:MM, e.g. start: 2026-12-01 12:00 "
            "(24-hour clock; the time zone goes in `timezone:`)",
        )
    reader.settings.start_local = local


def _timezone(reader: Reader, node: Node) -> None:
    text = reader.text("timezone", node)
    if text is None:
        return
    zone, suggestion = find_zone(text)
    if zone is None:
        reader.error(
            node,
            f'unknown time zone "{text}"{suggestion}',
            "use an IANA name such as America/New_York, Europe/Berlin or UTC",
        )
    elif fixed_zone_note(text):
        reader.report.note(*reader.at(node), fixed_zone_note(text), "write a place-based name")
    reader.settings.zone = zone


def duration(reader: Reader, name: str, node: Node) -> timedelta | None:
    value = reader.value(node)
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = int(value) if isinstance(value, int) or math.isfinite(value) else value
        reader.error(node, f"{name} needs a unit", f"write e.g. {name}: {shown}m (minutes)")
        return None
    text = reader.text(name, node)
    if text is None:
        return None
    delta = parse_duration(text)
    if delta is None:
        reader.error(
            node, f'{name} "{text}" is not a duration', f"write e.g. {name}: 5m, 90s or 1h"
        )
    elif not timedelta(0) < delta <= MAX_DURATION:
        reader.error(node, f"{name} must be more than 0 and at most 7 days", f"e.g. {name}: 10m")
        return None
    return delta


def _interval(reader: Reader, node: Node) -> None:
    reader.settings.interval = duration(reader, "interval", node) or DEFAULT_INTERVAL


def _reminder(reader: Reader, node: Node) -> None:
    value = reader.value(node)
    if value is False or value is None:
        return
    if value is True:
        reader.error(node, "reminder needs a delay after each question", "write e.g. reminder: 5m")
        return
    reader.settings.reminder = duration(reader, "reminder", node)


def _network_name(reader: Reader, node: Node, what: str) -> str | None:
    text = reader.text(what, node)
    if text is None:
        return None
    name = text.lower()
    if name in ("bsky", "bsky.app", "bsky.social"):
        name = "bluesky"
    if name not in NETWORKS:
        reader.error(
            node,
            f'unknown network "{text}"{did_you_mean(text, NETWORKS)}',
            "the networks are " + " and ".join(NETWORKS),
        )
        return None
    return name


def _networks(reader: Reader, node: Node) -> None:
    items = node.value if isinstance(node, SequenceNode) else [node]
    names: list[str] = []
    for item in items:
        name = _network_name(reader, item, "networks")
        if name in names:
            reader.error(item, f"{name} is listed twice in networks", "list each network once")
        elif name:
            names.append(name)
    if names or not items:
        reader.settings.networks = tuple(n for n in NETWORKS if n in names)
    if not items:
        reader.error(node, "networks is empty", "write e.g. networks: [bluesky, mastodon]")


def _mapping(reader: Reader, name: str, node: Node, example: str) -> list[tuple[Node, Node]]:
    if not isinstance(node, MappingNode):
        value = reader.value(node)
        reader.error(
            node,
            f"{name} should be `name: value` lines, not {describe(node, value)}",
            f"write it as {example}",
        )
        return []
    return frontmatter.mapping_items(node)


def _accounts(reader: Reader, node: Node) -> None:
    for key, value in _mapping(reader, "accounts", node, "accounts: {bluesky: chat.bsky.social}"):
        network = _network_name(reader, key, "accounts")
        handle = reader.text(f"accounts.{network}", value)
        if network is None or handle is None:
            continue
        pattern = BLUESKY_HANDLE if network == "bluesky" else MASTODON_HANDLE
        if not pattern.match(handle):
            example = "chatbot.bsky.social" if network == "bluesky" else "@chatbot@example.social"
            reader.error(value, f'"{handle}" is not a {network} handle', f"write e.g. {example}")
            continue
        reader.settings.accounts[network] = handle
        reader.settings.where[f"accounts.{network}"] = reader.at(key)


def _templates(reader: Reader, node: Node) -> None:
    for key, value in _mapping(reader, "templates", node, 'templates: {question: "..."}'):
        kind = reader.text("template name", key)
        if kind is None:
            continue
        kind = kind.lower().replace("-", "").replace("_", "")
        if kind not in TEMPLATE_KINDS:
            reader.error(
                key,
                f'unknown template "{kind}"{did_you_mean(kind, TEMPLATE_KINDS)}',
                "the templates are " + ", ".join(TEMPLATE_KINDS),
            )
            continue
        text = reader.text(f"the {kind} template", value, limit=MAX_TEMPLATE)
        if text is not None:
            reader.settings.templates[kind] = text
            reader.settings.where[f"templates.{kind}"] = reader.at(value)


def _max_characters(reader: Reader, node: Node) -> None:
    pairs: Sequence[tuple[Node | None, Node]]
    if isinstance(node, ScalarNode):
        pairs = [(None, node)]  # a bare number is Mastodon's limit
    else:
        pairs = _mapping(reader, "max_characters", node, "max_characters: {mastodon: 1000}")
    for key, value_node in pairs:
        network = _network_name(reader, key, "max_characters") if key is not None else "mastodon"
        if key is not None and network != "mastodon":
            if network == "bluesky":
                reader.error(
                    key,
                    "Bluesky's limit is fixed (300 graphemes, 3000 bytes)",
                    "only mastodon can be set here",
                )
            continue
        value = reader.value(value_node)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
            shown = describe(value_node, value)
            reader.error(
                value_node,
                f"max_characters should be a whole number from 1 to 100000, not {shown}",
                "write your instance's limit, e.g. mastodon: 1000",
            )
            continue
        reader.settings.mastodon_limit = value


MAX_IMAGE_BYTES = 1_000_000_000


def _max_image_bytes(reader: Reader, node: Node) -> None:
    # The bot's Mastodon server's image_size_limit, when it is not the default 16 MiB.
    pairs: Sequence[tuple[Node | None, Node]]
    if isinstance(node, ScalarNode):
        pairs = [(None, node)]  # a bare number is Mastodon's limit
    else:
        pairs = _mapping(reader, "max_image_bytes", node, "max_image_bytes: {mastodon: 8388608}")
    for key, value_node in pairs:
        network = _network_name(reader, key, "max_image_bytes") if key is not None else "mastodon"
        if network == "bluesky" and key is not None:
            reader.error(
                key,
                "Bluesky's image limit is fixed (1,000,000 bytes)",
                "only mastodon can be set here",
            )
        if network != "mastodon":
            continue
        value = reader.value(value_node)
        if not isinstance(value, int) or isinstance(value, bool):
            value = 0
        if not 1 <= value <= MAX_IMAGE_BYTES:
            reader.error(
                value_node,
                "max_image_bytes should be a whole number of bytes from 1 to "
                f"{MAX_IMAGE_BYTES}, not {describe(value_node, reader.value(value_node))}",
                "write your server's image_size_limit (see /api/v2/instance), "
                "e.g. mastodon: 8388608",
            )
            continue
        reader.settings.mastodon_image_limit = value


def _language(reader: Reader, node: Node) -> None:
    # Our YAML reads `no` (Norwegian) as text, not as false.
    text = reader.text("language", node)
    if text is None:
        return
    if not _LANGUAGE.match(text):
        reader.error(
            node,
            f'language "{text}" is not a language code',
            "write a two-letter code such as en, fr or pt-BR",
        )
        return
    reader.settings.language = text


_SWITCH = {"on": True, "off": False, "yes": True, "no": False, "true": True, "false": False}


def _late_joiners(reader: Reader, node: Node) -> None:
    # Replies to "@bot Q3?" during the chat (bot.asking); on unless switched off.
    value = reader.value(node)
    if isinstance(value, bool):
        reader.settings.late_joiners = value
        return
    word = value.strip().lower() if isinstance(value, str) else None
    if isinstance(node, ScalarNode) and word in _SWITCH:
        reader.settings.late_joiners = _SWITCH[word]
        return
    if value is not INVALID:
        reader.error(
            node,
            f"late_joiners should be on or off, not {describe(node, value)}",
            'write `late_joiners: off` to stop the bot answering "Q3?" requests, '
            "or leave the line out (on)",
        )


FIELDS: dict[str, Callable[[Reader, Node], None]] = {
    "hashtag": _hashtag,
    "title": _title,
    "moderators": _moderators,
    "cohosts": cohosts,
    "mastodon_instances": mastodon_instances,
    "start": _start,
    "timezone": _timezone,
    "interval": _interval,
    "reminder": _reminder,
    "networks": _networks,
    "accounts": _accounts,
    "templates": _templates,
    "max_characters": _max_characters,
    "max_image_bytes": _max_image_bytes,
    "language": _language,
    "late_joiners": _late_joiners,
}
REQUIRED = ("hashtag", "title", "start", "timezone")
_ALIASES = {
    "tz": "timezone",
    "time_zone": "timezone",
    "moderator": "moderators",
    "cohost": "cohosts",
    "co_hosts": "cohosts",
    "co-hosts": "cohosts",
    "hosts": "cohosts",
    "mastodon_servers": "mastodon_instances",
    "instances": "mastodon_instances",
    "tag": "hashtag",
    "reminders": "reminder",
    "network": "networks",
    "lang": "language",
    "late_joiner": "late_joiners",
    "latejoiners": "late_joiners",
}


def read_settings(
    part: Split, root: Node | None, loader: yaml.SafeLoader | None, report: Report
) -> Settings:
    """Check every front-matter field; return what could be understood."""
    fence = part.yaml_first_line - 1
    if root is None or loader is None:  # load_yaml gives a root only with its loader
        if loader is not None:  # an empty front matter: say what is missing
            for name in REQUIRED:
                report.error(
                    fence, 1, f"{name} is missing", f"add `{name}: ...` to the front matter"
                )
        return Settings()
    reader = Reader(part, loader, report)
    if not isinstance(root, MappingNode):
        reader.error(
            root,
            "the front matter should be `name: value` lines, not "
            f"{describe(root, None if root.value == '' else root.value)}",
            "write e.g. `hashtag: sm35` on its own line",
        )
        return reader.settings
    seen: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = reader.value(key_node)
        if not isinstance(key, str) or not isinstance(key_node, ScalarNode):
            reader.error(
                key_node,
                "a setting name should be a word like `hashtag`",
                "write one setting per line as `name: value`",
            )
            continue
        name = key.strip()
        reader.settings.where.setdefault(name, reader.at(value_node))
        if name in seen:
            reader.error(
                key_node, f"{name} is set twice (also on line {seen[name]})", "keep one of them"
            )
            continue
        seen[name] = reader.at(key_node)[0]
        checker = FIELDS.get(name)
        if checker is None:
            guess = _ALIASES.get(name.lower())
            hint = f' (did you mean "{guess}"?)' if guess else did_you_mean(name, FIELDS)
            reader.error(
                key_node, f'unknown setting "{name}"{hint}', "the settings are " + ", ".join(FIELDS)
            )
            continue
        checker(reader, value_node)
    for network in reader.settings.accounts:
        if network not in reader.settings.networks:
            line, column = reader.settings.where[f"accounts.{network}"]
            report.error(
                line,
                column,
                f"accounts names a {network} account, but {network} is not in networks",
                f"add {network} to networks, or remove accounts.{network}",
            )
    for name in REQUIRED:
        if name not in seen:
            report.error(fence, 1, f"{name} is missing", f"add `{name}: ...` to the front matter")
    return reader.settings
