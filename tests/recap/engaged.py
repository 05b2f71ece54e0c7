"""Engagement for a recap test's document: counts, links, media and languages, seeded."""

from __future__ import annotations

import random
from typing import Any

SITES = (
    "https://www.example.org/guide",
    "https://blog.example.net/notes",
    "https://docs.example.com/start",
)


def with_engagement(document: dict[str, Any], seed: int = 1) -> dict[str, Any]:
    """``document`` with each post's counts, some links and images, and a language.

    About one author in five writes in Spanish, and a few in Finnish: a group
    that may be too small to show.
    """
    rng = random.Random(seed)
    for post in document["posts"]:
        author = str(post.get("author", {}).get("handle", ""))
        voice = random.Random(f"{seed}:{author}").random()
        post["lang"] = "es" if voice < 0.2 else "fi" if voice < 0.27 else "en"
        post["engagement"] = {
            "likes": rng.choice((0, 0, 1, 1, 2, 3, 5, 8, 13)),
            "reposts": rng.choice((0, 0, 0, 1, 2)),
            "quotes": rng.choice((0, 0, 0, 0, 1)),
            "replies": rng.choice((0, 0, 1, 2)),
        }
        post["links"] = [rng.choice(SITES)] if rng.random() < 0.2 else []
        post["media"] = (
            [{"type": "image", "alt": rng.random() < 0.7}] if rng.random() < 0.12 else []
        )
    return document
