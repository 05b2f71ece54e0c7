"""Plain text to Mastodon HTML: the recorded markup, safe escaping, and a lossless round trip."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import nh3
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chatbot.sandbox.mastodon.render import (
    countable_length,
    escape,
    hashtags,
    is_blank,
    mentions,
    prepare_text,
    render_html,
)
from tests.realdata import REAL_FIXTURES

BASE = "http://localhost:3000"
REAL = REAL_FIXTURES / "mastodon"
ALLOWED_TAGS = {"p", "br", "a", "span"}


def _resolve(acct: str) -> tuple[str, str] | None:
    return (f"{BASE}/@{acct}", acct) if acct.lower() == "mastodonpy_test_2" else None


@pytest.mark.parametrize(
    ("recording", "text"),
    [
        ("status_post.json", "Toot!"),
        ("status_post_hashtag.json", "#hoot (hashtag toot)"),
        ("status_reply.json", "@mastodonpy_test_2 same!"),
    ],
)
def test_same_markup_as_the_recordings(recording: str, text: str):
    expected = json.loads((REAL / recording).read_text())["content"]
    assert render_html(text, base_url=BASE, resolve_mention=_resolve) == expected


def test_apostrophes_are_escaped_as_mastodon_does():
    # From the recorded stream: "it's cool guy" became <p>it&#39;s cool guy</p>.
    assert render_html("it's cool guy", base_url=BASE) == "<p>it&#39;s cool guy</p>"


def test_paragraphs_and_line_breaks():
    assert render_html("a\nb\n\n\nc\r\nd", base_url=BASE) == "<p>a<br />b</p><p>c<br />d</p>"
    assert render_html("   ", base_url=BASE) == ""


def test_links_are_shortened_like_mastodon():
    html = render_html(
        "see https://www.example.com/a/very/long/path/that/goes/on?x=1.", base_url=BASE
    )
    assert html == (
        '<p>see <a href="https://www.example.com/a/very/long/path/that/goes/on?x=1" '
        'target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">https://www.</span>'
        '<span class="ellipsis">example.com/a/very/long/path/t</span>'
        '<span class="invisible">hat/goes/on?x=1</span></a>.</p>'
    )


def test_what_counts_as_a_hashtag_or_mention():
    assert hashtags("#SM35 #sm35 #1 a#b https://x.org/#frag #café (#x_y)") == [
        "sm35",
        "café",
        "x_y",
    ]
    assert mentions("@bob hi @alice@example.org mail@example.org @Bob") == [
        "bob",
        "alice@example.org",
    ]
    unknown = render_html("@nobody@elsewhere.social hi", base_url=BASE, resolve_mention=_resolve)
    assert unknown == "<p>@nobody@elsewhere.social hi</p>"


def test_length_counts_urls_as_23_and_graphemes_once():
    assert countable_length("x https://example.com/" + "a" * 100) == 2 + 23
    assert countable_length("👍🏽é") == 2
    assert countable_length("hi @someone@far.away.example") == len("hi @someone")
    assert countable_length("body", "warning") == 11


def test_escape_covers_the_five_characters():
    assert (
        escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    )


class _Reader(HTMLParser):
    """Back to plain text the way a reader sees it: paragraphs and breaks become newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.parts: list[str] = []
        self.paragraphs = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "p":
            if self.paragraphs:
                self.parts.append("\n\n")
            self.paragraphs += 1
        elif tag == "br":
            self.parts.append("\n")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.parts.append(data)


def _as_stored(text: str) -> str:
    """What the text means after Mastodon's storing and simple_format: stripped, LF, blank runs."""
    text = text.replace("\0", "").strip(" \t\n\v\f\r")
    text = re.sub(r"\r\n?", "\n", text)
    return re.sub(r"\n\n+", "\n\n", text)


_pieces = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
    st.sampled_from(
        ["#", "@", "<", ">", "&", '"', "'", " ", "\n", "\r", "https://", "#tag", "@bob", "<script>"]
    ),
)
_text = st.lists(_pieces, max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(_text)
def test_round_trip_keeps_the_text_and_the_allow_list(text: str):
    stored = prepare_text(text)  # what the server keeps
    assume(not is_blank(stored))  # blank statuses are refused with 422
    html = render_html(stored, base_url=BASE)
    reader = _Reader()
    reader.feed(html)
    reader.close()
    assert set(reader.tags) <= ALLOWED_TAGS
    assert "".join(reader.parts) == _as_stored(text)
    # An allow-list sanitiser keeps every bit of it.
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "class", "target", "translate"}, "span": {"class", "translate"}},
        link_rel=None,
        url_schemes={"http", "https"},
    )
    back = _Reader()
    back.feed(cleaned)
    back.close()
    assert "".join(back.parts) == _as_stored(text)
