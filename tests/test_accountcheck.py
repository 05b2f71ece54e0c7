"""The bot's logged-in account against the one a question file names."""

from __future__ import annotations

import pytest

from chatbot.bot.accountcheck import account_mismatch, account_warnings
from chatbot.platforms.base import Identity

BOT = Identity("bluesky", "did:plc:bot", "sm35chat.bsky.social")
MASTODON = Identity("mastodon", "109", "sm35chat")


@pytest.mark.parametrize(
    ("network", "expected", "identity"),
    [
        ("bluesky", "sm35chat.bsky.social", BOT),
        ("bluesky", "@SM35Chat.bsky.social", BOT),  # case and "@" don't matter
        ("bluesky", "did:plc:bot", BOT),
        ("mastodon", "@sm35chat@example.social", MASTODON),
        ("mastodon", "sm35chat", MASTODON),
        ("mastodon", "@SM35CHAT@other.web.domain", MASTODON),  # the domain isn't compared
    ],
)
def test_the_same_account_gives_no_warning(network, expected, identity):
    assert account_mismatch(network, expected, identity) is None


@pytest.mark.parametrize(
    ("network", "expected", "identity"),
    [
        ("bluesky", "sm35host.bsky.social", BOT),
        ("bluesky", "sm35chat.bsky.social.evil", BOT),
        ("mastodon", "@sm35host@example.social", MASTODON),
    ],
)
def test_another_account_is_named_with_the_fix(network, expected, identity):
    why = account_mismatch(network, expected, identity)
    assert why is not None
    assert f"@{expected.lstrip('@')}" in why and f"@{identity.handle}" in why
    assert f"accounts.{network}" in why


def test_each_network_is_asked_once_and_each_event_warned_about():
    asked = []

    def identity_of(network: str) -> Identity:
        asked.append(network)
        return BOT if network == "bluesky" else MASTODON

    warnings = account_warnings(
        [
            ("sm35", {"bluesky": "sm35chat.bsky.social", "mastodon": "@host@example.social"}),
            ("sm36", {"bluesky": "other.bsky.social"}),
        ],
        identity_of,
    )
    assert sorted(asked) == ["bluesky", "mastodon"]
    assert [w.split(":")[1].strip() for w in warnings] == ["#sm35", "#sm36"]
    assert "@host@example.social as the mastodon account" in warnings[0]
