"""Favourites and boosts through the unmodified Mastodon.py client: counts that move."""

from __future__ import annotations

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError, MastodonNotFoundError

from .conftest import Sandbox


def test_favourites_and_boosts_move_the_counts_everyone_sees(
    sandbox: Sandbox, alice: Mastodon, bob: Mastodon
) -> None:
    posted = alice.status_post("A1 tea, always #sm35", visibility="public")
    assert (posted.favourites_count, posted.reblogs_count) == (0, 0)

    liked = bob.status_favourite(posted.id)
    assert liked.favourited is True and liked.favourites_count == 1
    bob.status_favourite(posted.id)  # twice counts once
    carol = sandbox.register("carol")
    carol.status_favourite(posted.id)
    boosted = carol.status_reblog(posted.id)
    assert boosted.reblogged is True

    seen = alice.status(posted.id)  # the author sees the counts, not the others' flags
    assert (seen.favourites_count, seen.reblogs_count) == (2, 1)
    assert (seen.favourited, seen.reblogged) == (False, False)
    anonymous = sandbox.client().statuses([posted.id])[0]
    assert (anonymous.favourites_count, anonymous.reblogs_count) == (2, 1)

    bob.status_unfavourite(posted.id)
    carol.status_unreblog(posted.id)
    seen = alice.status(posted.id)
    assert (seen.favourites_count, seen.reblogs_count) == (1, 0)


def test_a_status_nobody_may_see_cannot_be_favourited_nor_a_private_one_boosted(
    sandbox: Sandbox, alice: Mastodon, bob: Mastodon
) -> None:
    with pytest.raises(MastodonNotFoundError):
        bob.status_favourite("999999")
    private = alice.status_post("only for @bob", visibility="direct")
    bob.status_favourite(private.id)  # mentioned: may see it, may favourite it
    with pytest.raises(MastodonAPIError):
        bob.status_reblog(private.id)
