"""Second thoughts in a crowd plan: edits and deletions, and the final time-ordered ids."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from chatbot.sandbox.crowd import texts
from chatbot.sandbox.crowd.model import CrowdAction


def edits_and_deletes(
    rng: random.Random,
    actions: list[CrowdAction],
    new_id: Callable[[], str],
    coverage: bool,
    book: texts.Phrasebook = texts.BOOK_A,
) -> list[CrowdAction]:
    """Edits of some Mastodon posts, then deletions of some posts on either network.

    A deletion comes after every reply to, quote of, answer to and edit of its
    post, so nothing ever answers a post that is already gone.
    """
    genuine = [a for a in actions if a.op == "post" and a.kind not in ("spam", "optout")]
    masto = [a for a in genuine if a.network == "mastodon"]
    added: list[CrowdAction] = []
    wanted = round(0.06 * len(masto)) or (1 if coverage and masto else 0)
    edits: dict[str, datetime] = {}
    for post in sorted(rng.sample(masto, min(wanted, len(masto))), key=lambda a: a.id):
        at = post.at + timedelta(seconds=rng.randint(30, 240))
        edits[post.id] = at
        added.append(
            CrowdAction(
                id=new_id(), at=at, op="edit", author=post.author, network=post.network,
                text=texts.edit_text(rng, post.text, book), target=post.id,
            )
        )  # fmt: skip
    last_use: dict[str, datetime] = {}
    for action in actions:
        for ref in (action.parent, action.quote, action.about):
            if ref:
                last_use[ref] = max(last_use.get(ref, action.at), action.at)
    wanted = round(0.03 * len(genuine)) or (1 if coverage and genuine else 0)
    doomed = rng.sample(genuine, min(wanted, len(genuine)))
    # Bluesky has no edit: people delete an answer and post it again, corrected.
    sky = [a for a in genuine if a.network == "bluesky" and a.kind == "answer" and a not in doomed]
    wanted = round(0.02 * len(sky)) or (1 if coverage and sky else 0)
    reposted = rng.sample(sky, min(wanted, len(sky)))
    for post in sorted(doomed + reposted, key=lambda a: a.id):
        after = max(post.at, last_use.get(post.id, post.at), edits.get(post.id, post.at))
        gone = after + timedelta(seconds=rng.randint(20, 180))
        added.append(
            CrowdAction(
                id=new_id(), at=gone, op="delete", author=post.author, network=post.network,
                target=post.id,
            )
        )  # fmt: skip
        if post in reposted:
            again = gone + timedelta(seconds=rng.randint(5, 40))
            text = f"{post.text} (reposted to fix a typo)"
            added.append(replace(post, id=new_id(), at=again, text=text))
    return added


def renumbered(actions: list[CrowdAction]) -> tuple[CrowdAction, ...]:
    """Actions in time order with ids p0001 (posts), e0001 (edits), d0001 (deletes),
    l0001 (likes), r0001 (reposts)."""
    ordered = sorted(actions, key=lambda a: (a.at, int(a.id[1:])))
    names: dict[str, str] = {}
    counters = {"post": 0, "edit": 0, "delete": 0, "like": 0, "repost": 0}
    for action in ordered:
        counters[action.op] += 1
        names[action.id] = f"{action.op[0]}{counters[action.op]:04d}"

    def ref(value: str | None) -> str | None:
        return names[value] if value else None

    return tuple(
        replace(
            a,
            id=names[a.id],
            parent=ref(a.parent),
            quote=ref(a.quote),
            target=ref(a.target),
            about=ref(a.about),
        )
        for a in ordered
    )


__all__ = ["edits_and_deletes", "renumbered"]
