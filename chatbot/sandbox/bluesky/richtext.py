"""What the sandbox indexes of a post's rich text: its tags and the DIDs it mentions.

Finding facets in text is :mod:`chatbot.text.bluesky`'s job, shared with the bot.
"""

from __future__ import annotations

from typing import Any

from chatbot.text.bluesky import MENTION, TAG, tag_spans


def record_tags(record: dict[str, Any]) -> set[str]:
    """Lower-cased tags of a post: tag facets, the ``tags`` field, and ``#tags`` in its text."""
    tags = {span.value.lower() for span in tag_spans(str(record.get("text", "")))}
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") == TAG and isinstance(feature.get("tag"), str):
                tags.add(feature["tag"].lower())
    tags.update(str(tag).lower() for tag in record.get("tags") or [])
    return tags


def record_mentions(record: dict[str, Any]) -> set[str]:
    """DIDs mentioned by a post's facets."""
    dids = set()
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") == MENTION and feature.get("did"):
                dids.add(str(feature["did"]))
    return dids


__all__ = ["record_mentions", "record_tags"]
