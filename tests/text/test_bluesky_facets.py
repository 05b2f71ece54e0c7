"""Bluesky facets: tags, mentions and links over exact UTF-8 byte ranges, by the app's rules."""

from __future__ import annotations

import pytest
from atproto import client_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.text.bluesky import (
    LINK,
    MENTION,
    TAG,
    build_facets,
    facet_slices,
    find_spans,
    tag_spans,
)

no_surrogates = st.characters(blacklist_categories=("Cs",))


def _slices(text, facets):
    return [(piece, feature["$type"]) for piece, feature in facet_slices(text, facets)]


def _found(text):
    """``(kind, covered text, value)`` of every span, as a reader would check them."""
    data = text.encode()
    return [(s.kind, data[s.byte_start : s.byte_end].decode(), s.value) for s in find_spans(text)]


def test_tag_mention_and_link_with_multibyte_text_before_them():
    text = "Q1 ☕️ café: what's your 🦋 workflow? #sm35 @alice.test https://example.org/a(b)."
    facets = build_facets(text, {"alice.test": "did:plc:alice"}.get)
    assert _slices(text, facets) == [
        ("#sm35", TAG),
        ("@alice.test", MENTION),
        ("https://example.org/a(b)", LINK),
    ]
    assert facets[0]["features"][0]["tag"] == "sm35"
    assert facets[1]["features"][0]["did"] == "did:plc:alice"
    assert facets[0]["index"]["byteStart"] == len(text[: text.index("#")].encode())


def test_unresolvable_mentions_stay_text_and_trailing_punctuation_is_not_in_a_tag():
    text = "Thanks @nobody.example! #sm35, #sm35. #123 (#x) https:// #Tag_2"
    facets = build_facets(text, lambda handle: None)
    assert _slices(text, facets) == [("#sm35", TAG), ("#sm35", TAG), ("#Tag_2", TAG)]


def test_mentions_resolve_lower_cased_and_links_stop_before_punctuation():
    text = "🦋 hi @Bob.test and @nobody.test, see https://example.com/a?b=1. #Chat!"
    asked = []

    def resolve(handle):
        asked.append(handle)
        return {"bob.test": "did:plc:bob"}.get(handle)

    facets = build_facets(text, resolve)
    assert asked == ["bob.test", "nobody.test"]
    assert _slices(text, facets) == [
        ("@Bob.test", MENTION),
        ("https://example.com/a?b=1", LINK),
        ("#Chat", TAG),
    ]


def test_hash_inside_a_word_or_url_is_not_a_tag():
    assert _found("C# and https://x.org/#frag and a#b") == [
        ("link", "https://x.org/#frag", "https://x.org/#frag")
    ]


def test_bare_domains_are_links_with_https_but_only_with_a_real_top_level_domain():
    text = "see example.com/a. or denikn.cz/2113523 (plc.directory). not node.js or e.g. this"
    assert _found(text) == [
        ("link", "example.com/a", "https://example.com/a"),
        ("link", "denikn.cz/2113523", "https://denikn.cz/2113523"),
        ("link", "plc.directory", "https://plc.directory"),
    ]


# Where the bot's detector (chatbot/platforms/facets.py) and the sandbox's
# (chatbot/sandbox/bluesky/richtext.py) disagreed before they became one, and the
# rule chosen: the official app's (@atproto/api detectFacets), unless it has a bug.
DISAGREEMENTS = [
    # name, text, what is found now (kind, covered text, value)
    ("a '#' inside a tag belongs to it (sandbox ended the tag)", "#a#b", [("tag", "#a#b", "a#b")]),
    ("so does a full-width '＃'", "#a＃b", [("tag", "#a＃b", "a＃b")]),
    ("zero-width space ends a tag (sandbox kept it)", "#a\u200bb", [("tag", "#a", "a")]),
    (
        "U+FEFF is whitespace to the app: it ends a tag and may start the next",
        "#a\ufeff#b",
        [("tag", "#a", "a"), ("tag", "#b", "b")],
    ),
    ("digits and punctuation only is no tag (both made '1.5')", "#1.5", []),
    (
        "only ASCII digits count as digits (both refused '１２')",
        "#１２",
        [("tag", "#１２", "１２")],
    ),
    ("a keycap emoji is no tag (both made one)", "#\ufe0f\u20e3", []),
    ("NEL is not whitespace to the app (both took it as a tag start)", "a\x85#tag", []),
    ("64 UTF-16 units at most: 33 emoji are too long (both counted 33)", "#" + "😀" * 33, []),
    ("a handle needs a real TLD or .test (both mentioned it)", "@alice.example", []),
    ("the app checks the TLD case-sensitively (both mentioned it)", "@Alice.TEST", []),
    (
        "one trailing punctuation mark is dropped (both dropped all)",
        "https://x.org/a!!",
        [("link", "https://x.org/a!", "https://x.org/a!")],
    ),
    (
        "a ')' is dropped only when the link has no '(' (bot balanced them, sandbox dropped it)",
        "(https://en.wikipedia.org/wiki/Foo_(bar))",
        [
            (
                "link",
                "https://en.wikipedia.org/wiki/Foo_(bar))",
                "https://en.wikipedia.org/wiki/Foo_(bar))",
            )
        ],
    ),
    ("a link after a quote or '<' is not one (bot linked it)", '"https://x.org/a"', []),
    ("a link after '[' is not one (bot linked it)", "[https://x.org]", []),
    (
        "bare domains are links (neither linked them)",
        "example.com",
        [("link", "example.com", "https://example.com")],
    ),
    (
        "an upper-case scheme links (sandbox refused; the app drops it, a bug)",
        "HTTPS://X.ORG",
        [("link", "HTTPS://X.ORG", "HTTPS://X.ORG")],
    ),
    (
        "a mention inside a link is not one (sandbox cut the link there; the app overlaps them)",
        "https://x.org/(@bob.test)",
        [("link", "https://x.org/(@bob.test)", "https://x.org/(@bob.test)")],
    ),
    ("a lone scheme is no link (the app links 'https://', a bug)", "https://.", []),
    (
        "a bare domain starting with 'http' still gets https:// (the app's bug)",
        "httpfoo.com",
        [("link", "httpfoo.com", "https://httpfoo.com")],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=name) for name, text, expected in DISAGREEMENTS],
)
def test_where_the_two_old_detectors_disagreed(text, expected):
    assert _found(text) == expected


def test_a_tag_of_64_utf16_units_is_kept_and_65_is_not():
    assert [s.value for s in tag_spans("#" + "😀" * 32)] == ["😀" * 32]
    assert [s.value for s in tag_spans("#" + "x" * 64)] == ["x" * 64]
    assert tag_spans("#" + "x" * 65) == []
    assert [s.value for s in tag_spans("#" + "é" * 64 + "!")] == ["é" * 64]


@settings(deadline=None)
@given(st.text(alphabet=no_surrogates, max_size=80))
def test_every_span_slices_back_to_its_text(text):
    data = text.encode()
    previous_end = 0
    for span in find_spans(text):
        assert previous_end <= span.byte_start < span.byte_end <= len(data)
        previous_end = span.byte_end
        piece = data[span.byte_start : span.byte_end].decode()  # never splits a character
        if span.kind == "tag":
            assert piece[1:] == span.value and piece[0] in "#＃"
        elif span.kind == "mention":
            assert piece == "@" + span.value
        else:
            assert span.value in (piece, "https://" + piece)


@settings(deadline=None)
@given(st.text(alphabet=no_surrogates, max_size=80))
def test_facets_slice_back_to_their_features(text):
    facets = build_facets(text, lambda handle: "did:plc:" + handle.replace(".", ""))
    for piece, feature in facet_slices(text, facets):
        if feature["$type"] == TAG:
            assert piece[1:] == feature["tag"]
        elif feature["$type"] == MENTION:
            assert feature["did"] == "did:plc:" + piece[1:].lower().replace(".", "")
        else:
            assert feature["uri"] in (piece, "https://" + piece)


@given(
    before=st.text(alphabet=no_surrogates, max_size=30),
    after=st.text(alphabet=no_surrogates, max_size=30),
    tag=st.from_regex(r"[A-Za-z]([A-Za-z0-9_]{0,20}[A-Za-z0-9])?", fullmatch=True),
)
def test_tag_byte_range_slices_exactly_the_tag(before, after, tag):
    text = f"{before} #{tag} {after}"
    start = len(f"{before} ".encode())
    facets = build_facets(text)
    mine = [f for f in facets if f["index"]["byteStart"] == start]
    assert len(mine) == 1
    index = mine[0]["index"]
    assert text.encode()[index["byteStart"] : index["byteEnd"]] == f"#{tag}".encode()
    assert mine[0]["features"][0] == {"$type": TAG, "tag": tag}


letters = st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd"))


@given(
    before=st.text(alphabet=no_surrogates, max_size=20),
    tag=st.text(alphabet=letters, min_size=1, max_size=30).filter(
        lambda t: not (t.isascii() and t.isdigit())
    ),
)
def test_unicode_tags_slice_exactly(before, tag):
    text = f"{before}\n#{tag}!"
    facets = [f for f in build_facets(text) if f["features"][0]["$type"] == TAG]
    start = len(f"{before}\n".encode())
    mine = [f for f in facets if f["index"]["byteStart"] == start]
    assert len(mine) == 1
    index = mine[0]["index"]
    assert text.encode()[index["byteStart"] : index["byteEnd"]].decode() == f"#{tag}"


@settings(deadline=None)
@given(
    st.text(no_surrogates, max_size=40),
    st.text(st.characters(whitelist_categories=("Ll",)), min_size=1, max_size=10),
)
def test_tag_facets_agree_with_the_atproto_clients_textbuilder(prefix, tag):
    text = prefix.replace("#", "") + " "
    builder = client_utils.TextBuilder().text(text).tag("#" + tag, tag)
    expected = builder.build_facets()[0].index
    found = [f for f in build_facets(builder.build_text()) if f["features"][0].get("tag") == tag]
    assert found and found[-1]["index"] == {
        "byteStart": expected.byte_start,
        "byteEnd": expected.byte_end,
    }
