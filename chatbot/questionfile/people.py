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


__all__ = ["BLUESKY_HANDLE", "MASTODON_HANDLE", "cohosts"]
