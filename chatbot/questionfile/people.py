"""Who runs the chat besides the bot: handle shapes and the `cohosts` setting."""

from __future__ import annotations

import re

from yaml.nodes import Node, SequenceNode

from chatbot.questionfile.reader import Reader

BLUESKY_HANDLE = re.compile(r"^@?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$", re.I)
MASTODON_HANDLE = re.compile(
    r"^@?[a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?@[a-z0-9.-]+\.[a-z]{2,}$", re.I
)
_EXAMPLE = 'cohosts: ["@ann.bsky.social", "@bob@example.social"]'


def cohosts(reader: Reader, node: Node) -> None:
    """Co-hosts: full Bluesky or Mastodon handles, one or a list, each once."""
    items = node.value if isinstance(node, SequenceNode) else [node]
    if isinstance(node, SequenceNode) and not items:
        return
    handles: list[str] = []
    for item in items:
        text = reader.text("each cohost", item)
        if text is None:
            continue
        if not (BLUESKY_HANDLE.match(text) or MASTODON_HANDLE.match(text)):
            reader.error(
                item,
                f'cohost "{text}" is not a Bluesky handle (ann.bsky.social) '
                "or a Mastodon handle (@ann@example.social)",
                f"write each co-host's full handle, e.g. {_EXAMPLE}",
            )
            continue
        key = text.lstrip("@").lower()
        if key in {h.lstrip("@").lower() for h in handles}:
            reader.error(item, f'cohost "{text}" is listed twice', "list each co-host once")
            continue
        handles.append(text)
    reader.settings.cohosts = tuple(handles)


_SERVER = re.compile(r"^(?:https?://)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?/?$", re.I)
_SERVERS_EXAMPLE = 'mastodon_instances: ["mastodon.social", "https://fosstodon.org"]'


def mastodon_instances(reader: Reader, node: Node) -> None:
    """Other Mastodon servers whose hashtag timelines to read: names or base URLs, each once."""
    items = node.value if isinstance(node, SequenceNode) else [node]
    servers: list[str] = []
    for item in items:
        text = reader.text("each Mastodon server", item)
        if text is None:
            continue
        if not _SERVER.match(text) or ("." not in text and ":" not in text.split("//")[-1]):
            reader.error(
                item,
                f'"{text}" is not a Mastodon server name or address',
                f"write each server's name or base URL, e.g. {_SERVERS_EXAMPLE}",
            )
            continue
        base = text.rstrip("/").lower()
        base = base if "://" in base else f"https://{base}"
        if base in servers:
            reader.error(item, f'server "{text}" is listed twice', "list each server once")
            continue
        servers.append(base)
    reader.settings.mastodon_instances = tuple(servers)


__all__ = ["BLUESKY_HANDLE", "MASTODON_HANDLE", "cohosts", "mastodon_instances"]
