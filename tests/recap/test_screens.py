"""What the recap shows beyond its threads: skipped questions, reminders, links, previews."""

from __future__ import annotations

import io
import ipaddress
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from chatbot.cli import cli
from chatbot.recap import build_recap, render_recap, write_recap
from chatbot.recap.render import render_files
from chatbot.recap.sanitise import public_url

from .chats import crowd_chat
from .htmltree import parse


def _chat_with_a_skipped_question() -> dict[str, Any]:
    document = crowd_chat(seed=4, participants=12, questions=3, hostile=0).document
    document["questions"].append(
        {"label": "Q4", "number": 4, "text": "Never asked?", "posted": {}, "skipped": True}
    )
    return document


def test_a_skipped_question_says_skipped_and_shows_no_counts() -> None:
    html = render_recap(_chat_with_a_skipped_question())["index.html"]
    root, errors = parse(html)
    assert errors == []
    heading = root.find("h3", id="q4")
    assert heading is not None and " ".join(heading.text().split()) == "Q4 skipped"
    section = root.find("section", **{"aria-labelledby": "q4"})
    assert section is not None
    text = " ".join(section.text().split())
    assert "not posted during the chat" in text
    assert "0 posts" not in text and "thread" not in text
    answers = next(t for t in root.iter("table") if "Posts attributed" in t.text())
    row = next(tr for tr in answers.iter("tr") if tr.text().startswith("Q4"))
    assert "skipped" in row.text()


def test_a_question_nobody_saw_posted_nor_answered_counts_as_skipped() -> None:
    document = _chat_with_a_skipped_question()
    del document["questions"][-1]["skipped"]
    recap = build_recap(document)
    assert [s.label for s in recap.sections if s.skipped] == ["Q4"]
    # The same question posted, though unanswered, is not skipped.
    document["questions"][-1]["posted"] = {"bluesky": {"uri": "at://x/q4", "at": None}}
    assert not any(s.skipped for s in build_recap(document).sections)


def test_a_skipped_question_gets_no_page_of_its_own() -> None:
    pages = render_recap(_chat_with_a_skipped_question(), split_at=10)
    assert "question-4.html" not in pages and "question-1.html" in pages


def test_reminders_count_under_their_own_question() -> None:
    chat = crowd_chat(seed=4, participants=12, questions=3, hostile=0)
    document = chat.document
    host = document["event"]["accounts"]["bluesky"]
    for n in (2, 3):
        document["posts"].append(
            {
                "network": "bluesky",
                "uri": f"at://did:plc:host/app.bsky.feed.post/reminder{n}",
                "url": f"https://bsky.app/profile/{host}/post/reminder{n}",
                "author": {"handle": host, "display_name": "sm35 chat"},
                "created_at": f"2027-12-07T17:{10 * n + 2:02d}:00Z",
                "text": f'Reminder: answer Q{n} with "A{n} ..." and #sm35',
                "question": "Q1",  # where the clock put it
                "method": "moderator",
            }
        )
    recap = build_recap(document)
    placed = {
        item.post.uri.rsplit("/", 1)[1]: section.label
        for section in recap.sections
        for item in section.items
        if item.post is not None and item.post.is_host
    }
    assert placed["reminder2"] == "Q2" and placed["reminder3"] == "Q3"


def test_sandbox_links_never_reach_a_published_page() -> None:
    chat = crowd_chat(seed=4, participants=12, questions=2, hostile=0)
    document = chat.document
    post = next(p for p in document["posts"] if p["url"] in chat.shown)
    post["url"] = "http://127.0.0.1:34199/profile/someone.crowd.test/post/1"
    post["text"] = "see http://localhost:8080/x"
    html = render_recap(document)["index.html"]
    assert "127.0.0.1" not in html
    assert 'href="http://localhost' not in html
    root, _ = parse(html)
    hrefs = [a.attrs["href"] for a in root.iter("a") if a.attrs.get("href", "").startswith("http")]
    assert hrefs and all(public_url(href) == href for href in hrefs)


def test_public_url_keeps_the_web_and_drops_local_hosts() -> None:
    for url in (
        "https://bsky.app/profile/a/post/1",
        "https://social.example/@a/1",
        "http://93.184.215.14/x",
    ):
        assert public_url(url) == url
    for url in (
        "http://127.0.0.1:34199/x",
        "http://localhost/x",
        "http://LOCALHOST./x",
        "http://chatbot.sandbox.test/x",
        "http://10.0.0.2/",
        "http://192.168.1.1/",
        "http://[::1]:8080/",
        "http://[fe80::1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://[::1/",
        "javascript:alert(1)",
        "ftp://example.com/",
    ):
        assert public_url(url) is None, url


@given(st.ip_addresses())
def test_public_url_follows_the_address_registry(address: Any) -> None:
    host = f"[{address}]" if address.version == 6 else str(address)
    kept = public_url(f"http://{host}/")
    assert (kept is not None) == ipaddress.ip_address(address).is_global


def test_link_previews_have_their_meta_and_image(tmp_path: Path) -> None:
    chat = crowd_chat(seed=4, participants=12, questions=3, hostile=0)
    files = render_files(chat.document, site_url="https://chats.example.org/sm35/")
    assert set(files) == {"index.html", "share.png"}
    root, errors = parse(files["index.html"].decode())
    assert errors == []
    meta = {
        node.attrs.get("property") or node.attrs.get("name"): node.attrs.get("content")
        for node in root.iter("meta")
    }
    assert meta["og:image"] == "https://chats.example.org/sm35/share.png"
    assert meta["og:url"] == "https://chats.example.org/sm35/"
    assert meta["twitter:image"] == meta["og:image"]
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:title"] == "Conversations, not campaigns · #sm35"
    recap = build_recap(chat.document)
    assert f"{recap.summary.participants} people" in (meta["og:description"] or "")
    assert "3 questions" in (meta["og:description"] or "")
    image = Image.open(io.BytesIO(files["share.png"]))
    assert image.format == "PNG" and image.size == (1200, 630)
    assert len(image.getcolors(maxcolors=100_000) or []) > 10  # something is drawn
    # Without a site address the image is found next to the page.
    path = write_recap(chat.document, tmp_path)
    assert (tmp_path / "share.png").read_bytes() == files["share.png"]
    assert 'content="share.png"' in path.read_text(encoding="utf-8")


def test_a_recap_address_that_is_not_public_is_refused(tmp_path: Path) -> None:
    transcript = tmp_path / "t.json"
    transcript.write_text(json.dumps(crowd_chat(seed=4, participants=5).document))
    out = tmp_path / "out"
    for url in ("http://127.0.0.1:8000/", "site/sm35"):
        args = ["recap", "--transcript", str(transcript), "--out", str(out), "--url", url]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert "give the public http(s) address the recap goes to" in result.output
        assert "Traceback" not in result.output
        assert not out.exists()
    args = ["recap", "--transcript", str(transcript), "--out", str(out), "--url", "https://x.org/a"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert 'content="https://x.org/a/share.png"' in (out / "index.html").read_text()
    assert (out / "share.png").exists()


def test_question_pages_name_their_own_address() -> None:
    chat = crowd_chat(seed=4, participants=12, questions=2, hostile=0)
    files = render_files(chat.document, split_at=10, site_url="https://x.org/sm35")
    page = files["question-2.html"].decode()
    assert '<meta property="og:url" content="https://x.org/sm35/question-2.html">' in page
    assert '<meta property="og:image" content="https://x.org/sm35/share.png">' in page
