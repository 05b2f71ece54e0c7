"""Which collected post a moderator means: by URI, web address (any form) or id."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlmodel import Session, col

from chatbot.errors import UsageError
from chatbot.models import Event, Post

_BLUESKY_URL = re.compile(r"^https?://[^/]+/profile/([^/]+)/post/([^/?#]+)")
_STATUS_ID = re.compile(r"/(?:@[^/]+|statuses|notice|web/statuses)/([0-9A-Za-z]+)/?$")


def find_post(session: Session, event: Event, target: str, *, shown: str) -> Post:
    """The event's post that ``target`` names: its URI, its web URL (any form) or its id.

    ``shown`` says where the user sees the address, for the error message
    (e.g. "shown in the transcript"). Nothing found, or more than one post,
    is a usage error.
    """
    wanted = target.strip()
    if not wanted:
        raise UsageError(f"give the post's URL or URI, as {shown}")
    mine = col(Post.event_id) == event.id
    matches = [
        col(Post.url) == wanted,
        col(Post.uri) == wanted,
        col(Post.remote_id) == wanted,
        col(Post.url) == wanted.rstrip("/"),
    ]
    found = list(session.execute(select(Post).where(mine, or_(*matches))).scalars())
    if not found:
        found = _by_web_address(session, event, wanted)
    if not found:
        raise UsageError(
            f"no post {wanted!r} collected for #{event.hashtag}; give its URL or URI as "
            f"{shown} (run `chatbot collect EVENT` first if it is new)"
        )
    if len(found) > 1:
        raise UsageError(f"{wanted!r} matches {len(found)} posts; give its full URI")
    return found[0]


def _by_web_address(session: Session, event: Event, url: str) -> list[Post]:
    # A Bluesky address may name the author by handle or DID; a Mastodon
    # address may be the author's server's or the collecting server's.
    mine = col(Post.event_id) == event.id
    bluesky = _BLUESKY_URL.match(url)
    if bluesky:
        actor, rkey = bluesky.groups()
        tail = f"/app.bsky.feed.post/{rkey}"
        rows = session.execute(
            select(Post).where(
                mine, col(Post.network) == "bluesky", col(Post.uri).endswith(tail, autoescape=True)
            )
        ).scalars()
        return [r for r in rows if actor.lower() in (r.author_id.lower(), r.author_handle.lower())]
    status = _STATUS_ID.search(url)
    if status:
        query = select(Post).where(
            mine, col(Post.network) == "mastodon", col(Post.remote_id) == status.group(1)
        )
        return list(session.execute(query).scalars())
    return []


__all__ = ["find_post"]
