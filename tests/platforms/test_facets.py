"""Facets: hashtags, mentions and links over exact UTF-8 byte ranges."""

import json

from hypothesis import given
from hypothesis import strategies as st

from chatbot.platforms.facets import LINK, MENTION, TAG, build_facets, facet_slices, find_spans
from tests.realdata import REAL_FIXTURES, needs_real_fixtures

REAL = REAL_FIXTURES / "bluesky"


def _slices(text, facets):
    return [(piece, feature["$type"]) for piece, feature in facet_slices(text, facets)]


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


def test_hash_inside_a_word_or_url_is_not_a_tag():
    spans = find_spans("C# and https://x.org/#frag and a#b")
    assert [(s.kind, s.value) for s in spans] == [("link", "https://x.org/#frag")]


@needs_real_fixtures
def test_real_jetstream_post_facets_are_found_at_the_recorded_offsets():
    event = json.loads((REAL / "jetstream_post_create_tags.json").read_text())
    record = event["commit"]["record"]
    text = record["text"]
    recorded = sorted(
        (f["index"]["byteStart"], f["index"]["byteEnd"], f["features"][0]["tag"])
        for f in record["facets"]
    )
    ours = sorted((s.byte_start, s.byte_end, s.value) for s in find_spans(text) if s.kind == "tag")
    assert ours == recorded
    assert len(text.encode()) != len(text)  # multi-byte text: offsets are bytes


no_surrogates = st.characters(blacklist_categories=("Cs",))


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
    for piece, feature in facet_slices(text, facets):
        if feature["$type"] == TAG:
            assert piece == "#" + feature["tag"]


letters = st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd"))


@given(
    before=st.text(alphabet=no_surrogates, max_size=20),
    tag=st.text(alphabet=letters, min_size=1, max_size=30).filter(lambda t: not t.isdigit()),
)
def test_unicode_tags_slice_exactly(before, tag):
    text = f"{before}\n#{tag}!"
    facets = [f for f in build_facets(text) if f["features"][0]["$type"] == TAG]
    start = len(f"{before}\n".encode())
    mine = [f for f in facets if f["index"]["byteStart"] == start]
    assert len(mine) == 1
    index = mine[0]["index"]
    assert text.encode()[index["byteStart"] : index["byteEnd"]].decode() == f"#{tag}"
