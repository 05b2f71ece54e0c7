"""GET /api/v1/tags/:name through the unmodified Mastodon.py: the server's daily tag counts.

No real recording of this endpoint exists in the fixtures; the shape checked
here is the documented one (Mastodon's Tag entity).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastodon import MastodonNotFoundError

from chatbot.clock import ManualClock
from chatbot.platforms.mastodon import tag_days
from tests.sandbox.mastodon.conftest import Sandbox, start

NOON = datetime(2027, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def clocked() -> Iterator[tuple[Sandbox, ManualClock]]:
    clock = ManualClock(NOON - timedelta(days=2))
    running = start(clock=clock)
    try:
        yield running, clock
    finally:
        running.server.stop()


def test_a_tag_shows_seven_days_of_public_uses_and_accounts(
    clocked: tuple[Sandbox, ManualClock],
) -> None:
    sandbox, clock = clocked
    ann, ben = sandbox.register("ann"), sandbox.register("ben")
    ann.status_post("two days ago #Cover")
    clock.advance(days=2)
    gone = ann.status_post("today #cover")
    ann.status_post("again today #COVER")
    ben.status_post("me too #cover")
    ben.status_post("quietly #cover", visibility="unlisted")  # not counted: not public
    ann.status_delete(gone["id"])  # counted: the server's counter never goes down
    tag: Any = sandbox.client().tag("cover")  # no token: the endpoint is public
    assert (tag["name"], tag["url"]) == ("cover", f"{sandbox.url}/tags/cover")
    assert "following" not in tag or tag["following"] is None
    days = tag_days(tag["history"])
    assert days is not None and len(days) == 7
    assert [d["day"] for d in days] == [
        (NOON - timedelta(days=n)).date().isoformat() for n in range(7)
    ]
    counts = [(d["uses"], d["accounts"]) for d in days]
    assert counts == [(3, 2), (0, 0), (1, 1), (0, 0), (0, 0), (0, 0), (0, 0)]
    assert ann.tag("cover")["following"] is False  # a logged-in caller is told


def test_gotosocial_knows_no_tag_before_it_is_used() -> None:
    sandbox = start(profile="gotosocial")
    try:
        with pytest.raises(MastodonNotFoundError):
            sandbox.client().tag("unused")
    finally:
        sandbox.server.stop()


entries = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.dictionaries(
        st.sampled_from(["day", "uses", "accounts", "other"]),
        st.one_of(st.none(), st.integers(-5, 2**40), st.text(max_size=12)),
    ),
)


@given(st.one_of(st.none(), st.text(max_size=5), st.lists(entries, max_size=8)))
def test_any_history_reads_as_whole_days_or_is_left_out(history: Any) -> None:
    days = tag_days(history)
    if not isinstance(history, list):
        assert days is None
        return
    assert days is not None and len(days) <= len(history)
    for day in days:
        assert datetime.fromisoformat(day["day"]).date().isoformat() == day["day"]
        assert isinstance(day["uses"], int) and isinstance(day["accounts"], int)
