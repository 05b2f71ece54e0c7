"""The crowd's likes and reposts: people react to each other's posts, as in a real chat.

Planned after everything else from a random stream of their own (seeded from
the crowd's seed), so adding them changes none of the crowd's posts, edits or
deletions. A reaction comes from another participant on the same network (on
Mastodon, the same instance: a favourite stays on the server it was given on)
a little after the post, never to spam, a post that will be deleted, a post
that is not public, or one's own post. Busier posts (answers with replies) are
no likelier: likes are spread thinly, a few per post, as in the chats
recorded.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import timedelta

from chatbot.sandbox.crowd.model import CrowdAction, Participant

LIKE_CHANCE = 0.12  # per post and other participant who could see it
REPOST_CHANCE = 0.03
MIN_DELAY = timedelta(seconds=20)
MAX_DELAY = timedelta(minutes=6)


def plan_reactions(
    seed: int,
    people: Sequence[Participant],
    actions: Sequence[CrowdAction],
    new_id: Callable[[], str],
) -> list[CrowdAction]:
    """Likes and reposts of the planned ``actions``' posts by ``people`` (spammers never react)."""
    rng = random.Random(f"reactions:{seed}")
    deleted = {a.target for a in actions if a.op == "delete"}
    by_key = {p.key: p for p in people}
    found: list[CrowdAction] = []
    for post in actions:
        author = by_key.get(post.author)
        if (
            post.op != "post"
            or post.spam
            or post.id in deleted
            or post.visibility != "public"
            or author is None
            or author.spammer
        ):
            continue
        for person in people:
            if (
                person.spammer
                or person.key == post.author
                or person.network != post.network
                or person.instance != author.instance
            ):
                continue
            for op, chance in (("like", LIKE_CHANCE), ("repost", REPOST_CHANCE)):
                if rng.random() < chance:
                    delay = MIN_DELAY + (MAX_DELAY - MIN_DELAY) * rng.random()
                    found.append(
                        CrowdAction(
                            id=new_id(),
                            at=post.at + delay,
                            op=op,  # type: ignore[arg-type]
                            author=person.key,
                            network=post.network,
                            target=post.id,
                        )
                    )
    return found


__all__ = ["plan_reactions"]
