"""The conversation graph: who replied to, mentioned or quoted whom, drawn the same every run."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from chatbot.recap import build_recap, render_recap
from chatbot.recap.graph import graph_svg

from .chats import crowd_chat
from .hostile import problems
from .htmltree import parse

ROOT = Path(__file__).resolve().parents[2]


def _post(n: int, handle: str, network: str = "bluesky", **extra: Any) -> dict[str, Any]:
    did = f"did:plc:{handle.split('.')[0]}"
    uri = (
        f"at://{did}/app.bsky.feed.post/{n}"
        if network == "bluesky"
        else f"https://social.example/users/{handle}/statuses/{n}"
    )
    url = (
        f"https://bsky.app/profile/{handle}/post/{n}"
        if network == "bluesky"
        else f"https://social.example/@{handle}/{n}"
    )
    return {
        "network": network,
        "uri": uri,
        "url": url,
        "author": {"handle": handle, "display_name": handle.split(".")[0].title()},
        "created_at": f"2027-12-07T17:{n:02d}:00Z",
        "text": f"A1 post {n}",
        "question": "Q1",
    } | extra


def _document(posts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "event": {
            "hashtag": "g",
            "title": "Graph",
            "start": "2027-12-07T17:00:00Z",
            "timezone": "UTC",
            "moderators": ["host.example"],
        },
        "questions": [{"label": "Q1", "number": 1, "text": "?", "posted": {"bluesky": "q1"}}],
        "posts": posts,
    }


def test_replies_mentions_and_quotes_become_links() -> None:
    ann = _post(1, "ann.example")
    bob = _post(2, "bob.example", parent_uri=ann["uri"], mentions=["did:plc:cat"])
    cat = _post(3, "cat.example", quotes=[ann["uri"]])
    own = _post(4, "cat.example", parent_uri=cat["uri"])  # a reply to oneself: no link
    host = _post(5, "host.example", parent_uri=cat["uri"])  # the host: left out
    to_host = _post(6, "ann.example", parent_uri=host["uri"])
    dan = _post(7, "dan", "mastodon")
    eve = _post(
        8, "eve", "mastodon", parent_uri=dan["uri"], mentions=["dan", "@fay@social.example"]
    )
    fay = _post(9, "fay", "mastodon")
    talk = build_recap(_document([ann, bob, cat, own, host, to_host, dan, eve, fay])).talk
    found = {
        (link.source, link.target): (link.replies, link.mentions, link.quotes)
        for link in talk.links
    }
    assert found == {
        ("bluesky:bob.example", "bluesky:ann.example"): (1, 0, 0),
        ("bluesky:bob.example", "bluesky:cat.example"): (0, 1, 0),
        ("bluesky:cat.example", "bluesky:ann.example"): (0, 0, 1),
        # Mastodon's reply mentions dan by itself: counted once, as the reply.
        ("mastodon:eve", "mastodon:dan"): (1, 0, 0),
        ("mastodon:eve", "mastodon:fay"): (0, 1, 0),
    }
    assert "bluesky:host.example" not in talk.people


def test_the_page_draws_the_whole_chat_and_each_question() -> None:
    chat = crowd_chat(seed=4, participants=40, hostile=0)
    html = render_recap(chat.document)["index.html"]
    root, errors = parse(html)
    assert errors == [] and problems(root) == []
    graphs = [svg for svg in root.iter("svg") if "graph" in svg.classes()]
    titles = [svg.find("title").text() for svg in graphs]  # type: ignore[union-attr]
    assert titles[-1] == "Who replied to, mentioned or quoted whom"
    recap = build_recap(chat.document)
    # A question gets its own graph when at least three people talked under it.
    drawn = [label for label, talk in recap.talk_by_question.items() if len(talk.people) >= 3]
    assert drawn == ["Q1", "Q2", "Q3"]  # this chat: every question
    assert titles[:-1] == [f"Who replied to, mentioned or quoted whom in {q}" for q in drawn]
    whole = graphs[-1]
    circles = list(whole.iter("circle"))
    assert len(circles) == len(recap.talk.people) >= 20
    # Each circle names its person for screen readers and on hover.
    handles = {p.handle for p in recap.talk.people.values()}
    named = {c.find("title").text().split(" ")[0].lstrip("@") for c in circles}  # type: ignore[union-attr]
    assert named == handles
    # The table beside it lists the links with their counts.
    table = [t for t in root.iter("table") if "Who talked with whom" in t.text()][-1]
    rows = [[td.text() for td in tr.iter("td")] for tr in table.iter("tr")][1:]
    first = recap.talk.links[0]
    assert rows[0] == [
        "@" + recap.talk.people[first.source].handle,
        "@" + recap.talk.people[first.target].handle,
        str(first.replies),
        str(first.mentions),
        str(first.quotes),
    ]


def test_no_graph_names_fewer_than_three_people() -> None:
    ann = _post(1, "ann.example")
    bob = _post(2, "bob.example", parent_uri=ann["uri"])
    html = render_recap(_document([ann, bob]))["index.html"]
    assert 'class="graph"' not in html
    assert "Fewer than three participants replied to, mentioned or quoted each other." in html
    cat = _post(3, "cat.example", parent_uri=bob["uri"])
    html = render_recap(_document([ann, bob, cat]))["index.html"]
    assert html.count('class="graph"') == 2  # the whole chat's and Q1's


def test_hostile_names_stay_text_in_the_graph() -> None:
    names = ['"><script>window.__pwned=1</script>', "<svg onload=alert(1)>", "&amp; ]]>"]
    posts = [_post(1, "ann.example")]
    for n, name in enumerate(names, start=2):
        post = _post(n, f"x{n}.example", parent_uri=posts[-1]["uri"])
        post["author"] = {"handle": f"{name}.example", "display_name": name}
        posts.append(post)
    html = render_recap(_document(posts))["index.html"]
    root, errors = parse(html)
    assert errors == [] and problems(root) == []
    whole = [svg for svg in root.iter("svg") if "graph" in svg.classes()][-1]
    titles = [c.find("title").text() for c in whole.iter("circle")]  # type: ignore[union-attr]
    for name in names:
        assert f"@{name}.example ({name}): " in " ".join(titles)


def test_three_hundred_people_stay_readable() -> None:
    chat = crowd_chat(seed=11, participants=300, hostile=0, coverage=False, rate=30)
    recap = build_recap(chat.document)
    assert len(recap.talk.people) > 150
    figure = graph_svg(recap.talk, "g", "Graph", max_people=150)
    assert figure.people_drawn == 150 < figure.people_total
    assert 0 < len(figure.labelled) <= 15
    assert len(figure.svg) < 200_000
    # Names are for the busiest: everyone named is among the 15 most connected.
    degree = recap.talk.degree()
    busiest = sorted(degree, key=lambda key: (-degree[key], key))[:15]
    assert {recap.talk.people[key].handle for key in busiest} >= set(figure.labelled)
    names = re.findall(r"<text [^>]*>@([^<]*)</text>", figure.svg)
    assert tuple(names) == figure.labelled  # the browser test checks they do not overlap


SCRIPT = """
import hashlib
from chatbot.recap import render_recap
from tests.recap.chats import crowd_chat
chat = crowd_chat(seed=11, participants=120, hostile=0, coverage=False, rate=12)
print(hashlib.sha256(render_recap(chat.document)["index.html"].encode()).hexdigest())
"""


def test_reruns_draw_the_same_bytes() -> None:
    digests = set()
    for seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        digests.add(done.stdout.strip())
    chat = crowd_chat(seed=11, participants=120, hostile=0, coverage=False, rate=12)
    html = render_recap(chat.document)["index.html"]
    digests.add(hashlib.sha256(html.encode()).hexdigest())
    assert len(digests) == 1
