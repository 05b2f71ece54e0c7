"""Times the spam rules on 100k synthetic posts with copy waves, and their growth with size."""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta

from chatbot.collect.copies import copy_groups, normalise
from chatbot.collect.spam import SpamInput, classify, own_words

POSTS = 100_000
START = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
VOCABULARY = 20_000  # Zipf-distributed words, as in real text: a few common, most rare
WAVES = 40  # spam templates, each posted by 20-200 accounts, some with a word or number changed


def _word(number: int) -> str:
    """A word of letters only (the normaliser folds digits), distinct per number."""
    letters = ""
    while True:
        number, rest = divmod(number, 26)
        letters += "bcdfghjklmnprstvwxyzaeiou"[rest % 25] if rest < 25 else "q"
        if number == 0:
            return letters + "e"


def make_chat(count: int, seed: int = 11) -> list[SpamInput]:
    """Answers, replies and chatter from 5,000 accounts, plus copy waves (about 5% of posts)."""
    rng = random.Random(seed)
    words = [_word(n) for n in range(VOCABULARY)]
    weights = [1 / (rank + 1) for rank in range(VOCABULARY)]

    def sentence(low: int, high: int) -> list[str]:
        return rng.choices(words, weights, k=rng.randint(low, high))

    templates = [sentence(10, 25) for _ in range(WAVES)]
    posts: list[SpamInput] = []
    for index in range(count):
        when = START + timedelta(seconds=rng.random() * 3600)
        roll = rng.random()
        if roll < 0.05:
            text = list(rng.choice(templates))
            if rng.random() < 0.3:
                text[rng.randrange(len(text))] = rng.choice(words)  # a word swapped
            author = f"spam{rng.randrange(3_000)}"
            body = " ".join(text) + f" {rng.randint(10, 99)} https://x.example/{index} #sm35"
        else:
            author = f"user{rng.randrange(5_000)}"
            prefix = f"A{rng.randint(1, 8)} " if roll < 0.4 else ""
            body = prefix + " ".join(sentence(1, 30)) + " #sm35"
        posts.append(
            SpamInput(
                uri=f"at://did:plc:{author}/app.bsky.feed.post/{index}",
                author=f"bluesky:{author}",
                handle=f"{author}.bsky.social",
                created_at=when,
                text=body,
                tags=("sm35",),
                has_link="https://" in body,
                answers=bool(prefix) if roll >= 0.05 else False,
            )
        )
    return posts


def baseline(posts: list[SpamInput]) -> float:
    """A floor: lower-case every text and count it in a dict by its hash (CPU seconds)."""
    cpu = time.process_time()
    seen: dict[int, int] = {}
    for post in posts:
        key = hash(post.text.lower())
        seen[key] = seen.get(key, 0) + 1
    return time.process_time() - cpu


def cpu_of(step: object, *args: object) -> float:
    cpu = time.process_time()
    step(*args)  # type: ignore[operator]
    return time.process_time() - cpu


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else POSTS
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    posts = make_chat(count)
    floor = min(baseline(posts) for _ in range(runs))
    texts = [post.text for post in posts]
    words = min(cpu_of(lambda: [own_words(t) for t in texts]) for _ in range(runs))
    norm = min(cpu_of(lambda: [normalise(t) for t in texts]) for _ in range(runs))
    keys = [normalise(t) for t in texts]
    group = min(cpu_of(copy_groups, keys) for _ in range(runs))
    whole = min(cpu_of(classify, posts, "sm35") for _ in range(runs))
    reasons = classify(posts, "sm35")
    print(f"posts: {count:,}  python {sys.version.split()[0]}  best of {runs}, CPU seconds")
    for label, seconds in [
        ("baseline (lower + dict)", floor),
        ("own_words (older rules)", words),
        ("normalise", norm),
        ("copy groups", group),
        ("classify (every rule)", whole),
    ]:
        print(f"{label:26}{seconds:8.3f}{count / seconds:12,.0f} posts/s")
    print(f"ratio to baseline: classify {whole / floor:.1f}x")
    several = sum("accounts (first by" in reason for reason in reasons.values())
    waves = [post.uri for post in posts if post.author.startswith("bluesky:spam")]
    caught = sum(uri in reasons for uri in waves)
    others = len(reasons) - caught
    print(f"wave posts flagged: {caught:,} of {len(waves):,} ({several:,} by the new rule);")
    print(f"other posts flagged: {others:,} of {count - len(waves):,}")
    print("growth (classify CPU s):", end="")
    for size in (count // 4, count // 2, count):
        print(f"  {size:,}: {cpu_of(classify, posts[:size], 'sm35'):.3f}", end="")
    print()


if __name__ == "__main__":
    main()
