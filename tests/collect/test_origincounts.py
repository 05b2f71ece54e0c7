"""Where a Mastodon post's counts are read: the server it was made on, by its id there."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatbot.collect.origincounts import home_id_of, home_servers
from chatbot.platforms.base import RemoteRef


def ref(remote_id: str, uri: str) -> RemoteRef:
    return RemoteRef("mastodon", remote_id, uri)


def test_each_post_is_read_on_its_home_server_by_its_id_there() -> None:
    refs = [
        ref("900", "https://bots.example/users/chatbot/statuses/900"),  # the bot's own server
        ref("901", "https://mastodon.social/users/ann/statuses/113501"),  # Mastodon
        ref("902", "https://gts.example/users/ben/statuses/01HZX3Q9V6KJ8M2A"),  # GoToSocial
        ref("113777@mastodon.social", "https://mastodon.social/users/cyd/statuses/113777"),
        ref("903", "https://pleroma.example/objects/6f1c2b0a-0d1e"),  # other ids: not guessed
        ref("904", "https://Mastodon.Social:443/users/dee/statuses/113999/"),
    ]
    homes = home_servers(refs, "https://bots.example")
    assert homes == {
        "https://mastodon.social": [
            ref("113501", refs[1].uri), ref("113777", refs[3].uri), ref("113999", refs[5].uri),
        ],
        "https://gts.example": [ref("01HZX3Q9V6KJ8M2A", refs[2].uri)],
    }  # fmt: skip


def test_an_id_stored_as_a_third_server_gave_it_is_not_taken_for_the_home_servers() -> None:
    # Stored from gts.example's copy of a mastodon.social post: the id is gts.example's.
    stored = ref("01HZX3@gts.example", "https://mastodon.social/users/ann/statuses/113501")
    assert home_id_of(stored, "https://mastodon.social") == "113501"


@given(st.text(max_size=80), st.text(max_size=30))
def test_any_address_gives_a_plain_id_or_none(uri: str, remote_id: str) -> None:
    homes = home_servers([ref(remote_id, uri)], "https://bots.example")
    for base, refs in homes.items():
        assert base.startswith(("http://", "https://")) and base != "https://bots.example"
        for found in refs:
            assert found.id and "/" not in found.id and found.uri == uri
