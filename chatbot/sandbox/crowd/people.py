"""The crowd's cast: participants on each network, how some opt out, and spam accounts."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace

from chatbot.sandbox.crowd import texts
from chatbot.sandbox.crowd.model import CrowdConfig, Participant

# Opt-outs handed out first (with a network they need), so a medium crowd has each kind.
_OPT_OUT_ORDER: tuple[tuple[str, str | None], ...] = (
    ("optout_post", None),
    ("self_label", "bluesky"),
    ("noindex", "mastodon"),
    ("nobot_bio", "bluesky"),
    ("not_indexable", "mastodon"),
    ("nobot_bio", "mastodon"),
)


def handle_for(slug: str, network: str, config: CrowdConfig) -> str:
    """A Bluesky handle under the crowd's domain, or a Mastodon username."""
    if network == "bluesky":
        return f"{slug}.{config.bluesky_domain}"
    return slug.replace("-", "_")


def make_people(
    rng: random.Random, config: CrowdConfig, networks: list[str]
) -> tuple[list[Participant], list[Participant]]:
    """The genuine participants (some opted out) and the spam accounts."""
    pairs = [(f, s) for f in texts.NAMES for s in texts.SURNAMES]
    rng.shuffle(pairs)
    nets = [networks[i % len(networks)] for i in range(config.participants)]
    rng.shuffle(nets)
    people: list[Participant] = []
    for i, network in enumerate(nets):
        first, last = pairs[i % len(pairs)]
        slug = f"{first}-{last}".lower() + (str(i) if i >= len(pairs) else "")
        display = f"{first} {last}"
        roll = rng.random()
        if roll < 0.15:
            display += " " + rng.choice(texts.EMOJI)
        elif roll < 0.22:
            display = rng.choice(texts.RTL_NAMES)
        people.append(
            Participant(
                key=f"u{i + 1:02d}",
                network=network,
                handle=handle_for(slug, network, config),
                display_name=display,
                bio=f"{rng.choice(texts.ROLES).capitalize()} in {rng.choice(texts.PLACES)}.",
                activity=rng.choice((0.3, 0.6, 1.0, 1.0, 1.5, 2.5)),
                followers=followers_for(config.seed, f"u{i + 1:02d}"),
            )
        )
    _assign_opt_outs(rng, config, networks, people)
    if config.coverage and not config.showcase and people:
        # Profiles are untrusted too: markup in a display name (within Mastodon's
        # 30 characters) and a script in a bio.
        hostile = people[-1]
        first_name = hostile.display_name.split()[0][:8]
        people[-1] = replace(
            hostile,
            display_name=f"<b onclick=alert(1)>{first_name}</b>",
            bio=f"{hostile.bio} <script>alert('bio')</script>",
            hostile_profile=True,
        )
    spammers = [
        Participant(
            key=f"s{i + 1:02d}",
            network=networks[i % len(networks)],
            handle=handle_for(f"growth-deals-{i + 1}", networks[i % len(networks)], config),
            display_name=f"Growth Deals {i + 1}",
            bio="Followers, likes, promo. DM us!",
            spammer=True,
            followers=followers_for(config.seed, f"s{i + 1:02d}") // 50,
        )
        for i in range(config.spammers)
    ]
    return people, spammers


def _assign_opt_outs(
    rng: random.Random, config: CrowdConfig, networks: list[str], people: list[Participant]
) -> None:
    order = list(range(len(people)))
    rng.shuffle(order)
    if config.coverage:
        cap = min(len(_OPT_OUT_ORDER), max(1, len(people) // 3))
        wanted = [k for k in _OPT_OUT_ORDER if k[1] is None or k[1] in networks][:cap]
    else:
        count = sum(rng.random() < 0.08 for _ in people)
        wanted = [(rng.choice(("optout_post", "nobot_bio")), None) for _ in range(count)]
    for kind, network in wanted:
        for index in order:
            person = people[index]
            if person.opt_out is None and network in (None, person.network):
                bio = f"{person.bio} #nobot" if kind == "nobot_bio" else person.bio
                people[index] = replace(person, opt_out=kind, bio=bio)
                break


def spread_over_instances(
    config: CrowdConfig, people: list[Participant], spammers: list[Participant]
) -> None:
    """Put the Mastodon accounts on the sandbox's instances, and have some post unlisted.

    Round robin in cast order, so every instance has people; about one person in
    eight (from a hash of the seed, drawing nothing from the plan's generator) posts
    unlisted, as people do who keep a server's default (GoToSocial's, say); with
    ``coverage`` at least one does. One instance changes nothing.
    """
    count = config.mastodon_instances
    if count < 2:
        return
    for cast in (people, spammers):
        on_mastodon = [i for i, p in enumerate(cast) if p.network == "mastodon"]
        for turn, index in enumerate(on_mastodon):
            person = cast[index]
            quiet = cast is people and _share(config.seed, person.key, "unlisted") < 0.12
            cast[index] = replace(person, instance=turn % count, posts_unlisted=quiet)
    quiet_ones = [p for p in people if p.posts_unlisted]
    candidates = [i for i, p in enumerate(people) if p.network == "mastodon" and not p.opt_out]
    if config.coverage and not quiet_ones and candidates:
        people[candidates[-1]] = replace(people[candidates[-1]], posts_unlisted=True)


def _share(seed: int, key: str, what: str) -> float:
    digest = hashlib.sha256(f"{seed}:{key}:{what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


__all__ = ["handle_for", "make_people", "spread_over_instances"]


def followers_for(seed: int, key: str) -> int:
    """A follower count with the long tail real ones have (most small, a few large).

    Derived from a hash, not from the plan's random generator, so adding it
    changed no other draw of an existing seed.
    """
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    return int(10 ** (1 + 3.5 * fraction**2))  # 10 .. about 30,000
