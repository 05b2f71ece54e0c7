"""Telling Mastodon-API servers apart, ordering their ids, and finding their streams (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatbot.platforms.mastodon_server import newest_id, server_info, status_id_key, stream_url

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ulids = st.text(alphabet=CROCKFORD, min_size=26, max_size=26).filter(lambda t: t[0] <= "7")


@given(st.integers(0, 2**63), st.integers(0, 2**63))
def test_numeric_ids_order_as_numbers(a: int, b: int) -> None:
    assert (status_id_key(str(a)) < status_id_key(str(b))) == (a < b)


@given(ulids, ulids)
def test_ulids_order_as_text(a: str, b: str) -> None:
    assert (status_id_key(a) < status_id_key(b)) == (a < b)


def test_newest_id_never_reads_a_time_into_an_id() -> None:
    assert newest_id(["9", "10", "2"]) == "10"
    assert newest_id(["01HZZZ0000000000000000000A", "01J0000000000000000000000A"]) == (
        "01J0000000000000000000000A"
    )
    assert newest_id([]) is None


def test_software_comes_from_nodeinfo_then_the_instance_document() -> None:
    base = "http://127.0.0.1:8080"
    gts = server_info(base, {"version": "0.20.1"}, {"software": {"name": "GoToSocial"}})
    assert (gts.software, gts.tag_omits_replies, gts.sse) == ("gotosocial", True, False)
    masto = server_info(base, {"version": "4.6.4"}, None)
    assert (masto.software, masto.tag_omits_replies, masto.sse) == ("mastodon", False, True)
    by_version = server_info(base, {"version": "0.17.0+gotosocial"}, None)
    assert by_version.software == "gotosocial"
    akkoma = server_info(base, {"version": "2.7.2 (compatible; Akkoma 3.13.2)"}, None)
    assert akkoma.software == "akkoma" and akkoma.tag_omits_replies  # not known: expand all
    assert server_info(base, {}, None).software == "unknown"


def test_stream_address_follows_the_server_when_the_advertised_one_cannot_work() -> None:
    # GoToSocial advertises wss:// even over plain http: use the server's own address.
    assert stream_url("http://127.0.0.1:8080", "wss://127.0.0.1:8080") == "ws://127.0.0.1:8080"
    assert stream_url("https://social.example", "wss://streaming.example") == (
        "wss://streaming.example"
    )  # a separate streaming host is normal on Mastodon
    assert stream_url("https://social.example", "ws://localhost:4000") == "wss://social.example"
    assert stream_url("https://social.example", "") == "wss://social.example"
    assert stream_url("https://social.example", "https://social.example/") == (
        "wss://social.example"
    )
    instance = {"urls": {"streaming_api": "wss://127.0.0.1:9"}}
    assert server_info("http://127.0.0.1:9", instance).streaming_url == "ws://127.0.0.1:9"


def test_whether_the_advertised_stream_address_can_be_used_as_given() -> None:
    gts = {"urls": {"streaming_api": "wss://127.0.0.1:9"}}
    assert not server_info("http://127.0.0.1:9", gts).advertised_ok  # Mastodon.py would fail
    masto = {"urls": {"streaming_api": "ws://127.0.0.1:9"}}
    assert server_info("http://127.0.0.1:9", masto).advertised_ok
    assert not server_info("http://127.0.0.1:9", {}).advertised_ok
