"""Reading whom a post talks to: its leading @names, on every network's form of them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatbot.transcript.conversation import account_key, leading_mentions


def test_leading_names_in_each_networks_form() -> None:
    assert leading_mentions("@JeffHicks @PSHChatt is starting up") == ("jeffhicks", "pshchatt")
    assert leading_mentions("@alice.bsky.social, @bob.bsky.social: yes") == (
        "alice.bsky.social",
        "bob.bsky.social",
    )
    assert leading_mentions("@dan@mastodon.example @erin yes") == ("dan", "erin")
    assert leading_mentions("  @Alice thanks @bob") == ("alice",)  # only the leading ones
    assert leading_mentions("thanks @bob") == ()
    assert leading_mentions("@alice @Alice hi") == ("alice",)
    assert leading_mentions("email me at x@y.org") == ()


def test_account_keys_drop_the_server_and_the_at() -> None:
    assert account_key("@Dan@mastodon.example") == "dan"
    assert account_key("alice.bsky.social") == "alice.bsky.social"
    assert account_key("JeffHicks") == "jeffhicks"


@given(st.text())
def test_any_text_reads_without_error(text: str) -> None:
    names = leading_mentions(text)
    assert len(names) == len(set(names))
    lowered = text.lower()
    for name in names:
        assert name and name in lowered


@given(
    st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,14}", fullmatch=True), min_size=1, max_size=5),
    st.text(),
)
def test_names_before_the_words_are_read_in_order(names: list[str], rest: str) -> None:
    text = " ".join(f"@{name}" for name in names) + " hello " + rest
    assert leading_mentions(text) == tuple(dict.fromkeys(name.lower() for name in names))
