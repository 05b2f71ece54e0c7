"""Exactly once under faults: retrying every failure still leaves one post per key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatbot.errors import RateLimitedError, TransientError
from chatbot.platforms.bluesky import POST
from chatbot.platforms.keys import post_key

START = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
WEIGHTS = {"rate_limit": 1, "server_error": 1, "bad_gateway": 1, "unavailable": 1, "drop": 1}


def post_all(platform, count: int) -> tuple[list, int]:
    """Post ``count`` questions, retrying each until it goes through; return refs and failures."""
    refs, failures = [], 0
    for i in range(count):
        key = post_key("soak", f"q{i}", START + timedelta(minutes=5 * i))
        for _attempt in range(200):
            try:
                refs.append(platform.post(f"Q{i} #soak", key=key))
                break
            except (TransientError, RateLimitedError):
                failures += 1
        else:
            pytest.fail(f"q{i} never went through")
    # A second pass (a restarted scheduler re-running everything) changes nothing.
    for i, ref in enumerate(refs):
        key = post_key("soak", f"q{i}", START + timedelta(minutes=5 * i))
        for _attempt in range(200):
            try:
                assert platform.post(f"Q{i} #soak", key=key) == ref
                break
            except (TransientError, RateLimitedError):
                failures += 1
    return refs, failures


def test_bluesky_one_record_per_key_under_faults(bsky):
    bot = bsky.platform()
    bot.account()
    bsky.app.faults.settings.update({"rate": 0.4, "weights": WEIGHTS})
    refs, failures = post_all(bot, 12)
    bsky.app.faults.settings.update({"rate": 0.0})
    assert failures > 5  # the faults really struck
    assert len({r.uri for r in refs}) == 12
    assert len(bsky.store.list_records(bot.did, POST)) == 12


def test_mastodon_one_status_per_key_under_faults(masto):
    bot = masto.platform()
    bot.limits()
    masto.app.faults.settings.update({"rate": 0.4, "weights": WEIGHTS})
    refs, failures = post_all(bot, 12)
    masto.app.faults.settings.update({"rate": 0.0})
    assert failures > 5
    assert len({r.id for r in refs}) == 12
    assert len(masto.store.find_statuses(tag="soak")) == 12
