"""Lengths counted as Bluesky (graphemes and bytes) and Mastodon (graphemes, URLs as 23) do."""

from __future__ import annotations

import pytest

from chatbot.text.length import (
    BLUESKY_MAX_BYTES,
    BLUESKY_MAX_GRAPHEMES,
    MASTODON_URL_LENGTH,
    bluesky_length,
    grapheme_count,
    mastodon_length,
)
from chatbot.text.unicode import byte_offset, utf8_length, utf16_length

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦, 25 bytes
FLAG = "\U0001f1eb\U0001f1f7"  # 🇫🇷
RAINBOW = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈
THUMB = "\U0001f44d\U0001f3fe"  # 👍🏾


@pytest.mark.parametrize(
    ("text", "graphemes", "size"),
    [
        ("", 0, 0),
        ("hello", 5, 5),
        (FAMILY, 1, 25),
        (FLAG, 1, 8),
        (FLAG * 3, 3, 24),
        (RAINBOW, 1, 14),
        (THUMB, 1, 8),
        ("e\u0301", 1, 3),  # e + combining acute
        ("a\u0308\u0323", 1, 5),  # two combining marks on one letter
        ("日本語", 3, 9),
        ("\u1100\u1161\u11a8", 1, 9),  # Hangul jamo forming one syllable
        ("한국어", 3, 9),
        ("\r\n", 1, 2),
        ("𝕏", 1, 4),
    ],
)
def test_bluesky_counts_graphemes_and_utf8_bytes(text, graphemes, size):
    assert bluesky_length(text) == (graphemes, size)
    assert grapheme_count(text) == graphemes


def test_the_bytes_limit_can_be_hit_before_the_graphemes_limit():
    text = FAMILY * 121
    graphemes, size = bluesky_length(text)
    assert graphemes == 121 < BLUESKY_MAX_GRAPHEMES
    assert size == 3025 > BLUESKY_MAX_BYTES


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        (FAMILY + FLAG + "e\u0301", 3),  # graphemes, not code points
        ("see https://example.com/a/very/long/path/that/goes/on?and=on", 4 + MASTODON_URL_LENGTH),
        ("http://x.io", MASTODON_URL_LENGTH),  # short links count as 23 too
        (
            "see https://example.com.",
            4 + MASTODON_URL_LENGTH + 1,
        ),  # the full stop is not the link's
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", 1 + MASTODON_URL_LENGTH + 1),
        ("a https://a.example b https://b.example", 5 + 2 * MASTODON_URL_LENGTH),
        ("example.com has no scheme", 25),  # only links with http(s):// are shortened
        ("end.https://example.com/a/long/path", 4 + MASTODON_URL_LENGTH),  # "." may precede
        ("xhttps://example.com/a", 22),  # a letter may not: not a link
        ("hi @alice@example.social!", len("hi @alice!")),  # only the username part counts
        ("hi @alice", len("hi @alice")),
        ("mail bob@example.com", len("mail bob@example.com")),  # an address is not a mention
    ],
)
def test_mastodon_counts_like_its_status_length_validator(text, length):
    assert mastodon_length(text) == length


@pytest.mark.parametrize(
    ("text", "utf16"),
    [("", 0), ("hello", 5), ("é", 1), ("日本", 2), ("𝕏", 2), (FAMILY, 11), (FLAG, 4)],
)
def test_utf16_length_is_javascripts_string_length(text, utf16):
    # The official app caps a tag at 64 of these, not at 64 graphemes.
    assert utf16_length(text) == utf16


def test_byte_offsets_count_utf8_bytes_before_a_character():
    text = f"{FAMILY} é #tag"
    assert byte_offset(text, text.index("#")) == 25 + 1 + 2 + 1
    assert byte_offset(text, 0) == 0 and byte_offset(text, len(text)) == utf8_length(text)
