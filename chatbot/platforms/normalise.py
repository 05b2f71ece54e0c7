"""Pure functions turning Bluesky and Mastodon JSON into one NormalisedPost shape.

The public face of the normalisers, re-exported from where each one lives:
``postfields`` (the shared core), ``bluesky_uris`` (at:// URIs and web links),
``bluesky_json`` and ``mastodon_json`` (each network's JSON).
"""

from __future__ import annotations

from chatbot.platforms.bluesky_json import (
    bluesky_profile,
    bluesky_thread,
    from_bluesky_get_record,
    from_bluesky_post_view,
    from_bluesky_record,
    from_jetstream,
)
from chatbot.platforms.bluesky_uris import (
    BLUESKY_WEB,
    bluesky_profile_url,
    bluesky_web_url,
    did_of,
    rkey_of,
)
from chatbot.platforms.mastodon_json import from_mastodon_status, mastodon_thread
from chatbot.platforms.postfields import parse_time, plain, tombstone

__all__ = [
    "BLUESKY_WEB",
    "bluesky_profile",
    "bluesky_profile_url",
    "bluesky_thread",
    "bluesky_web_url",
    "did_of",
    "from_bluesky_get_record",
    "from_bluesky_post_view",
    "from_bluesky_record",
    "from_jetstream",
    "from_mastodon_status",
    "mastodon_thread",
    "parse_time",
    "plain",
    "rkey_of",
    "tombstone",
]
