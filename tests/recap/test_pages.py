"""Pages that stay small: a big chat's threads spread over pages under 1 MB each."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import chatbot.recap
from chatbot.recap import build_recap, render_recap
from chatbot.recap.layout import Item
from chatbot.recap.pages import PAGE_LIMIT, cut

from .htmltree import parse

START = datetime(2027, 12, 7, 17, 0, tzinfo=UTC)
# Every character here grows when escaped: the heaviest text a post can hold.
HEAVY = "<&>\"' " * 60


def big_chat(posts: int, seed: int = 5) -> dict[str, Any]:
    """Four questions; long, markup-heavy posts; a 1,500-deep chain and a 1,500-reply star."""
    rng = random.Random(seed)
    doc_posts: list[dict[str, Any]] = []
    questions = []
    for n in range(1, 5):
        uri = f"at://did:plc:host/app.bsky.feed.post/q{n}"
        questions.append(
            {"label": f"Q{n}", "number": n, "text": f"Q{n}?", "posted": {"bluesky": uri}}
        )
        doc_posts.append(_post(len(doc_posts), "host.example", f"Q{n}. Question {n}?", f"Q{n}"))
        doc_posts[-1] |= {"uri": uri, "method": "moderator", "is_question": True}
    people = [f"p{i}.example" for i in range(400)]
    uris: list[str] = []
    label_of: dict[str, str] = {}
    for index in range(posts):
        label = f"Q{1 + index * 4 // posts}"
        text = f"A{label[1:]} " + HEAVY[: rng.randrange(60, len(HEAVY))]
        post = _post(len(doc_posts), people[rng.randrange(len(people))], text, label)
        if index < 1_500 and index:  # one chain, 1,500 deep
            post["parent_uri"] = uris[index - 1]
        elif 1_500 < index < 3_000:  # one post with 1,500 replies
            post["parent_uri"] = uris[1_500]
        elif uris and rng.random() < 0.5:
            post["parent_uri"] = uris[rng.randrange(max(0, len(uris) - 50), len(uris))]
            post["question"] = label_of[post["parent_uri"]]
        if index % 3 == 0:  # Mastodon, with its HTML
            post["network"] = "mastodon"
            post["html"] = "<p>" + text.replace("&", "&amp;").replace("<", "&lt;") + "</p>" * 4
        doc_posts.append(post)
        uris.append(post["uri"])
        label_of[post["uri"]] = post["question"]
    return {
        "event": {"hashtag": "big", "title": "Big", "start": START.isoformat(), "timezone": "UTC"},
        "questions": questions,
        "posts": doc_posts,
    }


def _post(n: int, handle: str, text: str, label: str) -> dict[str, Any]:
    return {
        "network": "bluesky",
        "uri": f"at://did:plc:{handle.split('.')[0]}/app.bsky.feed.post/{n}",
        "url": f"https://bsky.app/profile/{handle}/post/{n}",
        "author": {"handle": handle, "display_name": handle.split(".")[0].upper() + " <&>"},
        "created_at": (START + timedelta(milliseconds=400 * n)).isoformat(),
        "text": text,
        "question": label,
        "method": "prefix",
    }


@pytest.fixture(scope="module")
def big_pages() -> dict[str, str]:
    return render_recap(big_chat(8_000))


def test_no_page_passes_one_megabyte(big_pages: dict[str, str]) -> None:
    sizes = {name: len(html.encode()) for name, html in big_pages.items()}
    assert sum(sizes.values()) > 8 * PAGE_LIMIT  # a chat far too big for one page
    assert max(sizes.values()) < PAGE_LIMIT, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
    assert len([name for name in sizes if name.startswith("question-1")]) > 3


def test_every_post_is_on_exactly_one_page(big_pages: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for name, html in big_pages.items():
        root, errors = parse(html)
        assert errors == [], name  # every list a page opens, it closes
        for li in root.iter("li"):
            anchor = li.attrs.get("id")
            if anchor:
                assert anchor not in seen, (anchor, name, seen.get(anchor))
                seen[anchor] = name
    assert len(seen) == 8_000 + 4 - 4  # the question posts are headings, not entries
    # The longest threads link to the pages their first posts are on.
    index, _ = parse(big_pages["index.html"])
    longest = index.find("h3", id="longest")
    assert longest is not None
    links = [
        a.attrs["href"]
        for a in index.iter("a")
        if re.fullmatch(r"question-[\w-]+\.html#p\d+", a.attrs.get("href") or "")
    ]
    assert links
    for href in links:
        page, anchor = href.split("#")
        assert seen[anchor] == page


def test_a_thread_cut_between_pages_says_so(big_pages: dict[str, str]) -> None:
    second = big_pages["question-1-2.html"]
    assert "continued from the page before" in second
    root, _ = parse(second)
    nav = [n for n in root.iter("nav") if "pager" in n.classes()]
    assert len(nav) == 2  # above and below the answers
    hrefs = [a.attrs["href"] for a in nav[0].iter("a")]
    assert "question-1.html" in hrefs and "question-1-3.html" in hrefs
    current = nav[0].find("span", **{"aria-current": "page"})
    assert current is not None and current.text() == "2"


def test_the_main_page_stays_the_same_size(big_pages: dict[str, str]) -> None:
    # Its figures have caps (200 people in the graph, 100 in the table, ...): twice
    # the posts, about the same page (measured: 104 kB at 4,000 posts, 122 kB at
    # 8,000, 126 kB at 16,000).
    small = render_recap(big_chat(4_000))["index.html"]
    big = big_pages["index.html"]
    assert len(big) < 200_000
    assert len(big) < 1.2 * len(small)


def test_cut_keeps_every_page_well_formed() -> None:
    recap = build_recap(big_chat(400, seed=9), split_at=10)
    section = recap.sections[0]
    for budget in (1, 5_000, 50_000):
        pages = cut(section.items, budget)
        assert [i for page in pages for i in page if i.kind == "open"] == [
            i for i in section.items if i.kind == "open"
        ]
        for page in pages:
            depth = 0
            for item in page:
                depth += 1 if item.kind == "resume" or (item.kind == "open" and item.replies) else 0
                depth -= item.kind == "close"
                assert depth >= 0
            assert depth == 0
    assert cut([], 10) == []
    assert cut([Item("open", section.items[0].post)], 1) == [[Item("open", section.items[0].post)]]


def test_pages_stay_small_with_heavier_templates_than_ours(tmp_path: Path) -> None:
    # An organizer's macros.html that adds 4 kB to every post: the estimate
    # falls short, so the pages are measured and cut again.
    ours = (Path(chatbot.recap.__file__).parent / "templates" / "macros.html").read_text()
    padded = ours.replace(
        '<div class="c">', '<p class="note">' + "padding " * 500 + '</p><div class="c">'
    )
    assert padded != ours
    (tmp_path / "macros.html").write_text(padded, encoding="utf-8")
    document = big_chat(1_200)
    for post in document["posts"]:
        post["text"], post["html"] = "A1 a short answer", None
    default = render_recap(document, split_at=100_000)
    assert list(default) == ["index.html"]  # our own templates keep it on one page
    pages = render_recap(document, templates=tmp_path, split_at=100_000)
    assert len(pages) > 6
    sizes = {name: len(html.encode()) for name, html in pages.items()}
    assert max(sizes.values()) < PAGE_LIMIT, sizes
    anchors = [m for html in pages.values() for m in re.findall(r'<li id="(p\d+)"', html)]
    assert len(anchors) == len(set(anchors)) == 1_200
