"""The typed shape of a Jetstream event: only the fields the chat filter reads.

Decoding a line into :class:`Event` with msgspec checks the whole line as JSON
but builds only these fields; everything else (embeds, langs, a facet's byte
index, an identity event's body) is skipped. Each field takes what the filter
accepts there and nothing else: a string where the filter wants one, ``object``
where any JSON value is read as the general path reads it, a missing field as
its default. A line with a field of another JSON type fails the decode and goes
the general way (the whole line as a dict), so the decision never depends on
which way a line went.
"""

from __future__ import annotations

import re

import msgspec

from chatbot.platforms.chatfilter import is_tag, tagged_otherwise
from chatbot.text.bluesky import TAG


class Feature(msgspec.Struct, gc=False):
    type: object = msgspec.field(default=None, name="$type")
    tag: object = None


class Facet(msgspec.Struct, gc=False):
    features: list[Feature] | None = None


class Ref(msgspec.Struct, gc=False):
    uri: str = ""  # missing, or empty: no target either way


class Reply(msgspec.Struct, gc=False):
    parent: Ref | None = None
    root: Ref | None = None


class Record(msgspec.Struct, gc=False):
    text: str = ""  # missing, or empty: no tag in the text either way
    reply: Reply | None = None
    facets: list[Facet] | None = None
    tags: object = None


class Commit(msgspec.Struct, gc=False):
    rev: str | None = None
    operation: str = ""
    collection: str = ""
    rkey: str = ""
    record: Record | None = None


class Event(msgspec.Struct, gc=False):
    did: str = ""
    time_us: object = None
    kind: str = ""
    commit: Commit | None = None


decode_event = msgspec.json.Decoder(Event).decode


def carries_tag(record: Record, tag: str, pattern: re.Pattern[str]) -> bool:
    """:func:`chatbot.platforms.chatfilter.carries_tag` on the typed record."""
    facets = record.facets
    if facets:
        for facet in facets:
            features = facet.features
            if features:
                for feature in features:
                    if feature.type == TAG and is_tag(feature.tag, tag):
                        return True
    return tagged_otherwise(record.tags, record.text, tag, pattern)


__all__ = [
    "Commit",
    "Event",
    "Facet",
    "Feature",
    "Record",
    "Ref",
    "Reply",
    "carries_tag",
    "decode_event",
]
