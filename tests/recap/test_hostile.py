"""Hostile post content never yields a script, handler, javascript: URL or external resource."""

from __future__ import annotations

import pytest

from chatbot.recap import bluesky_html, mastodon_html, render_recap
from chatbot.sandbox.crowd import HOSTILE_PAYLOADS

from .chats import crowd_chat
from .hostile import hostile_document, problems, sentinel
from .htmltree import parse


@pytest.mark.parametrize("split_at", [10_000, 10])
def test_no_payload_survives_in_any_page(split_at: int) -> None:
    pages = render_recap(hostile_document(), split_at=split_at)
    assert len(pages) == (1 if split_at > 1000 else 4)
    for name, html in pages.items():
        root, errors = parse(html)
        assert errors == [], name
        assert problems(root) == [], name


def test_payloads_with_sentinels_survive_as_text_only() -> None:
    payloads = tuple(sentinel(p) for p in HOSTILE_PAYLOADS)
    html = render_recap(hostile_document(payloads))["index.html"]
    root, _ = parse(html)
    assert problems(root) == []
    # Bluesky text is shown, escaped, exactly as written.
    contents = [node.text() for node in root.iter("div") if "c" in node.classes()]
    for payload in payloads:
        assert payload in contents


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS)
def test_each_payload_alone(payload: str) -> None:
    for fragment in (mastodon_html(payload), bluesky_html(payload)):
        root, _ = parse(f"<div>{fragment}</div>")
        bad = [
            f"<{node.tag}>"
            for node in root.iter()
            if node.tag
            not in {
                "",
                "div",
                "p",
                "a",
                "span",
                "b",
                "i",
                "u",
                "s",
                "em",
                "strong",
                "del",
                "code",
                "pre",
                "blockquote",
                "ul",
                "ol",
                "li",
                "br",
            }
        ]
        for node in root.iter():
            for name, value in node.attrs.items():
                if name not in ("href", "rel", "class"):
                    bad.append(f"{node.tag} {name}")
                if name == "href" and not (value or "").startswith(("https://", "http://")):
                    bad.append(f"href={value!r}")
        assert bad == []


def test_mastodon_links_keep_only_web_hrefs_with_rel() -> None:
    html = mastodon_html(
        '<p><a href="https://example.org/x" target="_blank" class="u-url mention">x</a>'
        '<a href="/relative">r</a> <span class="invisible">https://</span>'
        '<img src="https://tracker.example/p.gif"></p>'
    )
    assert html == (
        '<p><a href="https://example.org/x" rel="nofollow ugc noopener">x</a>'
        '<a rel="nofollow ugc noopener">r</a> <span class="invisible">https://</span></p>'
    )


def test_bluesky_facets_link_only_web_urls_on_utf8_byte_ranges() -> None:
    text = "café 🎉 see example.org/a and this"
    data = text.encode()
    start = data.index(b"example")
    end = start + len(b"example.org/a")
    facets = [
        {
            "index": {"byteStart": start, "byteEnd": end},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/a"}],
        },
        {
            "index": {"byteStart": data.index(b"this"), "byteEnd": len(data)},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "javascript:alert(1)"}],
        },
        {
            "index": {"byteStart": 0, "byteEnd": 999},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://out.of/range"}],
        },
    ]
    assert bluesky_html(text + "\n<b>", facets) == (
        'café 🎉 see <a href="https://example.org/a" rel="nofollow ugc noopener">example.org/a</a>'
        " and this<br>&lt;b&gt;"
    )


def test_a_crowd_posting_raw_markup_on_mastodon_stays_inert() -> None:
    chat = crowd_chat(seed=9, participants=16, hostile=30, raw_html=True)
    for name, html in render_recap(chat.document, split_at=40).items():
        root, errors = parse(html)
        assert errors == [], name
        assert problems(root) == [], name
