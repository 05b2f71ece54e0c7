"""The Markdown transcript renders as written: read back through a Markdown parser.

markdown-it-py (CommonMark, plus GitHub's strikethrough and tables) renders
the export; what a reader sees must be the post's text and names exactly,
whatever they hold, with no element but the transcript's own.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from chatbot.export import to_markdown
from chatbot.sandbox.crowd import HOSTILE_PAYLOADS

RENDERER = MarkdownIt("commonmark").enable(["strikethrough", "table"])
OWN = {"h1", "h2", "p", "ul", "li", "strong", "em", "a", "br"}  # the exporter's own markup
URL = "https://bsky.app/profile/a.test/post/1"


class _Page(HTMLParser):
    """Elements, links, and the text of each h1, h2 and list item (``<br>`` as a newline)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[str | None] = []
        self.blocks: list[tuple[str, list[str]]] = []
        self.strong: list[str] = []
        self._in_strong = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("h1", "h2", "li", "p"):
            self.blocks.append((tag, []))
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag == "br" and self.blocks:
            self.blocks[-1][1].append("\n")
            if self._in_strong:
                self.strong[-1] += "\n"
        elif tag == "strong":
            self._in_strong = True
            self.strong.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "strong":
            self._in_strong = False

    def handle_data(self, data: str) -> None:
        if self.blocks:
            self.blocks[-1][1].append(data)
        if self._in_strong:
            self.strong[-1] += data


def render(markdown: str) -> _Page:
    page = _Page()
    page.feed(RENDERER.render(markdown))
    page.close()
    return page


def as_shown(text: str) -> str:
    """What the export promises to show of ``text``: its lines, trimmed, blank ones left out."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def document(text: str, name: str = "A", question: str = "Why?", title: str = "T") -> dict:
    post: dict[str, Any] = {
        "uri": "at://did:plc:a/app.bsky.feed.post/1",
        "url": URL,
        "author": {"handle": "a.test", "display_name": name},
        "created_at": "2030-12-03T17:03:00Z",
        "text": text,
        "question": "Q1",
        "parent_uri": None,
        "is_question": False,
        "flags": {},
    }
    reply = post | {
        "uri": "at://did:plc:b/app.bsky.feed.post/2",
        "author": {"handle": "b_b.test", "display_name": ""},
        "text": text,
        "parent_uri": post["uri"],
    }
    event = {
        "hashtag": "sm35", "title": title, "start": "2030-12-03T17:00:00Z",
        "end": "2030-12-03T18:00:00Z", "timezone": "America/New_York", "networks": ["bluesky"],
    }  # fmt: skip
    questions = [{"label": "Q1", "text": question}]
    return {"event": event, "questions": questions, "posts": [post, reply]}


# Any text, and text made of what Markdown reads as markup, mixed with words.
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60),
    st.lists(
        st.sampled_from([*"*_`~[]()<>&#\\!-+=|.:;/ \n\t", "a", "b1", "http", "amp", "#x41"]),
        max_size=30,
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(text=TEXT, name=TEXT)
def test_post_text_and_names_render_as_written(text: str, name: str) -> None:
    page = render(to_markdown(document(text, name)))
    assert set(page.tags) <= OWN, page.tags
    assert page.links == [URL, URL]  # the two posts' times, and nothing the text made
    items = ["".join(parts).rstrip("\n") for tag, parts in page.blocks if tag == "li"]
    shown = as_shown(name)
    who = f"{shown} (@a.test)" if shown else "@a.test"
    assert items[0].startswith(f"{who} 12:03: {as_shown(text)}".rstrip())
    assert items[1] == f"@b_b.test 12:03: {as_shown(text)}".rstrip()
    assert page.strong[0] == (shown or "@a.test")


@settings(max_examples=200, deadline=None)
@given(question=TEXT, title=TEXT)
def test_question_and_title_headings_render_as_written(question: str, title: str) -> None:
    page = render(to_markdown(document("A1 yes", question=question, title=title)))
    assert set(page.tags) <= OWN, page.tags
    headings = {tag: "".join(text).rstrip("\n") for tag, text in page.blocks if tag[0] == "h"}
    assert headings["h1"] == as_shown(f"#sm35: {title}")
    assert headings["h2"] == as_shown(f"Q1: {question}")


def test_ordinary_text_keeps_its_punctuation_as_typed() -> None:
    said = "A1 Curiosity! (and hope) #sm35 - yes. Q&A: 1+1=2, C# and snake_case at 3.5% <3 {ok} | >"
    markdown = to_markdown(document(said, name="Ann (she/her)", question="What #tools? #sm35"))
    assert f": {said}\n" in markdown
    assert "**Ann (she/her)** (@a.test)" in markdown
    assert "# #sm35: T\n" in markdown and "## Q1: What #tools? #sm35\n" in markdown
    assert "\\" not in markdown


def test_markup_in_posts_is_escaped_only_where_it_is_markup() -> None:
    said = "**bold** _it_ snake_case `code` [x](javascript:alert(1)) <b>hi</b> &amp; ~~s~~ a\\"
    markdown = to_markdown(document(said))
    assert "\\*\\*bold\\*\\* \\_it\\_ snake_case \\`code\\` [x\\](javascript:alert(1))" in markdown
    assert "\\<b>hi\\</b> \\&amp; \\~\\~s\\~\\~ a\\\\\n" in markdown


def test_hostile_payloads_render_as_text() -> None:
    for payload in HOSTILE_PAYLOADS:
        page = render(to_markdown(document(f"A1 {payload}", name=payload[:30])))
        assert set(page.tags) <= OWN, (payload, page.tags)
        assert page.links == [URL, URL], payload
        items = ["".join(parts).rstrip("\n") for tag, parts in page.blocks if tag == "li"]
        assert items[1].endswith(as_shown(f"A1 {payload}")), payload
