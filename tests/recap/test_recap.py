"""The recap page, checked by parsing its HTML: sections, headings, threads, counts, consent."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from chatbot.recap import RecapExtras, build_recap, render_recap, write_recap
from chatbot.recap.document import Coverage

from .chats import crowd_chat
from .htmltree import Node, parse


@pytest.fixture(scope="module")
def chat():
    return crowd_chat(seed=3, participants=24)


@pytest.fixture(scope="module")
def page(chat) -> Node:
    html = render_recap(chat.document)["index.html"]
    root, errors = parse(html)
    assert errors == []
    return root


def post_items(root: Node) -> dict[str, Node]:
    """Each post's <li>, keyed by the URL its time links to."""
    found: dict[str, Node] = {}
    for li in root.iter("li"):
        meta = next((c for c in li.children if isinstance(c, Node) and c.tag == "p"), None)
        if meta is None or "meta" not in meta.classes():
            continue
        link = meta.find("a")
        assert link is not None
        url = link.attrs["href"]
        assert url not in found, f"{url} shown twice"
        found[url] = li
    return found


def section_label(li: Node) -> str:
    section = next(node for node in li.ancestors() if node.tag == "section")
    heading = next(node for node in section.iter() if node.tag in ("h2", "h3"))
    return "" if heading.attrs["id"] == "other" else heading.text()


def test_every_shown_post_is_under_its_question_and_parent(chat, page) -> None:
    items = post_items(page)
    crowd = {url: li for url, li in items.items() if "host" not in li.classes()}
    assert set(crowd) == set(chat.shown)
    for url, label in chat.shown.items():
        li = crowd[url]
        assert section_label(li) == label, url
        parent_li = li.closest("li")
        expected = chat.parent[url]
        if expected is None:
            assert parent_li is None
            assert li.parent is not None and "thread" in li.parent.classes()
        else:
            assert parent_li is items[expected], url
            # nested in the parent's collapsible replies
            assert li.parent is not None and "replies" in li.parent.classes()
            assert li.parent.parent is not None and li.parent.parent.tag == "details"


def test_left_out_posts_appear_nowhere(chat) -> None:
    html = render_recap(chat.document)["index.html"]
    assert chat.left_out
    for url in chat.left_out:
        assert url not in html


def test_headings_are_ordered_without_skipping(page) -> None:
    levels = [int(node.tag[1]) for node in page.iter() if re.fullmatch(r"h[1-6]", node.tag)]
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in pairwise(levels):
        assert after <= before + 1
    h2 = [node.text() for node in page.iter("h2")]
    assert h2 == [
        "Summary",
        "What this recap could not see",
        "Timeline",
        "Questions and answers",
        "Engagement",
        "Participants",
        "Conversations",
    ]
    h3 = [node.text() for node in page.iter("h3")]
    assert h3[1:5] == ["Q1", "Q2", "Q3", "Other posts"]


def test_details_count_the_replies_they_hold(page) -> None:
    details = list(page.iter("details"))
    assert details
    for node in details:
        summary = node.find("summary")
        assert summary is not None
        count = int(summary.text().split()[0])
        nested = [li for li in node.iter("li") if li.find("p") is not None]
        assert count == len(nested)
        assert "open" in node.attrs


def test_landmarks_language_and_csp(chat) -> None:
    html = render_recap(chat.document)["index.html"]
    root, _ = parse(html)
    assert root.find("html", lang="en") is not None
    for tag in ("header", "main", "footer", "nav"):
        assert root.find(tag) is not None, tag
    styles = list(root.iter("style"))
    assert len(styles) == 1
    css = styles[0].text()
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = root.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert csp is not None
    policy = csp.attrs["content"] or ""
    assert policy.startswith("default-src 'none'")
    assert f"'sha256-{digest}'" in policy
    assert "script-src" not in policy and "unsafe-inline" not in policy
    for table in root.iter("table"):
        assert table.find("caption") is not None
        assert all(th.attrs.get("scope") for th in table.iter("th"))


def test_timeline_is_accessible_svg(page) -> None:
    svg = page.find("svg", **{"class": "timeline"})
    assert svg is not None and svg.attrs["role"] == "img"
    labelled = (svg.attrs["aria-labelledby"] or "").split()
    assert [node.tag for node in svg.children[:2] if isinstance(node, Node)] == ["title", "desc"]
    assert labelled == [svg.children[0].attrs["id"], svg.children[1].attrs["id"]]  # type: ignore[union-attr]
    marks = [node.text() for node in svg.iter("text") if "mark-label" in node.classes()]
    assert marks == ["Q1", "Q2", "Q3"]
    assert len(list(svg.iter("rect"))) > 10


def test_summary_figures(chat) -> None:
    recap = build_recap(chat.document)
    authors = {
        (post["network"], post["author"]["handle"])
        for post in chat.document["posts"]
        if post["url"] in chat.shown
    }
    assert recap.summary.posts == len(chat.shown)
    assert recap.summary.participants == len(authors)
    assert recap.summary.host_posts == 6
    assert sum(count for _, count in recap.summary.answers) == sum(
        1 for label in chat.shown.values() if label
    )
    assert 0 < recap.summary.conversation_ratio < 1
    assert recap.summary.median_first_reply is not None


def test_published_figures_come_out_as_hosts_know_them() -> None:
    # #DPTStudent (Symplur): 66 participants, 486 tweets over 75 minutes gave
    # 389 tweets per hour and 7.36 tweets per participant.
    posts = [
        {
            "network": "bluesky",
            "uri": f"at://did:plc:u{i % 66}/app.bsky.feed.post/{i}",
            "url": f"https://bsky.app/profile/u{i % 66}/post/{i}",
            "author": {"handle": f"u{i % 66}.example", "display_name": ""},
            "created_at": f"2012-11-29T02:{i % 60:02d}:00Z",
            "text": "A1 yes",
            "question": "Q1",
        }
        for i in range(486)
    ]
    document = {
        "event": {
            "hashtag": "DPTStudent",
            "start": "2012-11-29T02:00:00Z",
            "end": "2012-11-29T03:15:00Z",
            "timezone": "America/New_York",
        },
        "questions": [{"label": "Q1", "number": 1, "text": "Why PT?"}],
        "posts": posts,
    }
    summary = build_recap(document).summary
    assert summary.participants == 66
    assert summary.posts == 486
    assert round(summary.posts_per_hour) == 389
    assert round(summary.posts_per_participant, 2) == 7.36


def test_series_reach_and_coverage_figures(chat) -> None:
    recap = build_recap(chat.document)
    handles = sorted({post.key for post in _shown_posts(recap)})
    extras = RecapExtras(
        followers={key: 100 for key in handles[:-1]},
        previous=set(handles[:3]) | {"bluesky:someone.else"},
        earlier_chats=2,
        coverage=Coverage(deleted=4, opted_out=7, hidden=1, mastodon_instance="bots.example"),
    )
    html = render_recap(chat.document, extras)["index.html"]
    summary = build_recap(chat.document, extras).summary
    assert summary.reach == 100 * (len(handles) - 1) and summary.reach_unknown == 1
    assert (summary.new, summary.returning) == (len(handles) - 3, 3)
    root, _ = parse(html)
    coverage = root.find("section", **{"aria-labelledby": "coverage"})
    assert coverage is not None
    text = " ".join(coverage.text().split())
    assert "Left out: 4 posts deleted by their authors, 7 posts by people who opted out, " in text
    assert "1 post hidden by a moderator." in text and "bots.example" in text
    assert "theoretical maximum" in html


def _shown_posts(recap):
    return [
        item.post for s in recap.sections for item in s.items if item.post and not item.post.is_host
    ]


def test_large_chats_put_answers_on_pages_of_their_own(chat) -> None:
    pages = render_recap(chat.document, split_at=20)
    assert set(pages) == {
        "index.html",
        "question-1.html",
        "question-2.html",
        "question-3.html",
        "question-other.html",
    }
    index, _ = parse(pages["index.html"])
    assert post_items(index) == {}
    links = {node.attrs["href"] for node in index.iter("a")}
    assert {"question-1.html", "question-other.html"} <= links
    seen: dict[str, str] = {}
    for name, html in pages.items():
        if name == "index.html":
            continue
        root, errors = parse(html)
        assert errors == []
        assert [h.text() for h in root.iter("h1")] == ["Conversations, not campaigns"]
        label = root.find("h2").text()  # type: ignore[union-attr]
        for url, li in post_items(root).items():
            if "host" not in li.classes():
                seen[url] = "" if label == "Other posts" else label
    assert seen == chat.shown


def test_hidden_posts_and_spam_are_left_out() -> None:
    chat = crowd_chat(seed=5, participants=10)
    document = chat.document
    shown = [p for p in document["posts"] if p["url"] in chat.shown]
    shown[0]["flags"]["hidden"] = True
    html = render_recap(document)["index.html"]
    assert shown[0]["url"] not in html
    assert shown[1]["url"] in html


def test_organizers_override_templates(chat, tmp_path: Path) -> None:
    (tmp_path / "recap.css").write_text("body { color: #123456; }", encoding="utf-8")
    html = render_recap(chat.document, templates=tmp_path)["index.html"]
    assert "body { color: #123456; }" in html
    digest = base64.b64encode(hashlib.sha256(b"body { color: #123456; }").digest()).decode()
    assert digest in html


def test_write_recap_writes_the_pages(chat, tmp_path: Path) -> None:
    path = write_recap(chat.document, tmp_path / "out")
    assert path == tmp_path / "out" / "index.html"
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_an_empty_document_still_renders() -> None:
    pages = render_recap({"event": {"hashtag": "quiet", "title": "Nobody came"}})
    root, errors = parse(pages["index.html"])
    assert errors == []
    assert root.find("h1").text() == "Nobody came"  # type: ignore[union-attr]


def test_threads_are_listed_in_the_order_they_began(chat, page) -> None:
    url_of = {id(li): url for url, li in post_items(page).items()}
    threads = [ol for ol in page.iter("ol") if "thread" in ol.classes()]
    sections = [ol.parent.attrs.get("aria-labelledby") for ol in threads if ol.parent]
    assert sections == ["q1", "q2", "q3", "other"]  # one list of threads per section
    listed: set[str] = set()
    for thread in threads:
        starts = [li for li in thread.children if isinstance(li, Node)]
        assert len(starts) >= 2, sections  # an order to check
        times = [
            datetime.fromisoformat(li.find("time").attrs["datetime"])  # type: ignore[union-attr,arg-type]
            for li in starts
        ]
        assert times == sorted(times)
        listed |= {url_of[id(li)] for li in starts}
    # Every post that starts a thread (no parent shown) is in one of the lists.
    assert listed == {url for url in chat.shown if chat.parent[url] is None}


def test_left_out_posts_are_counted_from_the_document_flags(chat) -> None:
    coverage = build_recap(chat.document).coverage
    flagged = [post["flags"] for post in chat.document["posts"] if "deleted" in post["flags"]]
    assert coverage.deleted == sum(1 for flags in flagged if flags["deleted"])
    assert coverage.opted_out == sum(
        1 for flags in flagged if flags["opted_out"] and not flags["deleted"]
    )
    assert coverage.deleted > 0 and coverage.opted_out > 0


def test_a_very_deep_chain_renders_with_capped_nesting() -> None:
    posts = [
        {
            "network": "bluesky",
            "uri": f"at://did:plc:u{i % 2}/app.bsky.feed.post/{i}",
            "url": f"https://bsky.app/profile/u{i % 2}/post/{i}",
            "author": {"handle": f"u{i % 2}.example", "display_name": ""},
            "created_at": f"2027-12-07T17:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "text": f"reply {i}",
            "question": "Q1",
            "parent_uri": f"at://did:plc:u{(i - 1) % 2}/app.bsky.feed.post/{i - 1}" if i else None,
        }
        for i in range(2_000)
    ]
    document = {"event": {"hashtag": "deep"}, "questions": [{"label": "Q1"}], "posts": posts}
    html = render_recap(document, split_at=10_000)["index.html"]
    root, errors = parse(html)
    assert errors == []
    assert len(post_items(root)) == 2_000
    deepest = max(len([a for a in li.ancestors() if a.tag == "details"]) for li in root.iter("li"))
    assert deepest == 8
    assert "replying to @u1.example" in html
