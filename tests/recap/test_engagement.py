"""The recap's engagement figures, read back from the page's HTML; the group-of-three rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.recap import build_recap, render_recap
from chatbot.sandbox.crowd import HOSTILE_PAYLOADS

from .hostile import hostile_document, problems, sentinel
from .htmltree import Node, parse

START = datetime(2027, 12, 7, 17, 0, tzinfo=UTC)


def post(
    n: int,
    who: str,
    *,
    network: str = "bluesky",
    likes: int | None = None,
    reposts: int | None = None,
    quotes: int | None = None,
    replies: int | None = None,
    links: tuple[str, ...] = (),
    media: tuple[tuple[str, bool], ...] = (),
    lang: str | None = "en",
    mentions: tuple[str, ...] = (),
    parent: int | None = None,
    text: str = "",
) -> dict[str, Any]:
    """Post ``n`` by ``who`` as the transcript document gives it."""
    if network == "bluesky":
        uri, url = (
            f"at://did:plc:{who}/app.bsky.feed.post/{n}",
            f"https://bsky.app/profile/{who}/post/{n}",
        )
        parent_uri = f"at://did:plc:x/app.bsky.feed.post/{parent}" if parent else None
    else:
        uri, url = f"https://m.example/users/{who}/statuses/{n}", f"https://m.example/@{who}/{n}"
        parent_uri = None
    return {
        "network": network,
        "uri": uri,
        "url": url,
        "author": {"handle": f"{who}.test" if network == "bluesky" else who, "display_name": who},
        "created_at": (START + timedelta(minutes=5, seconds=n)).isoformat(),
        "text": text or f"post {n} #sm35",
        "question": "Q1",
        "parent_uri": parent_uri,
        "mentions": list(mentions),
        "lang": lang,
        "engagement": {"likes": likes, "reposts": reposts, "quotes": quotes, "replies": replies},
        "links": list(links),
        "media": [{"type": kind, "alt": alt} for kind, alt in media],
    }


def document(posts: list[dict[str, Any]]) -> dict[str, Any]:
    by_n = {p["uri"].rsplit("/", 1)[-1]: p["uri"] for p in posts}
    for p in posts:  # parents given by number
        if p["parent_uri"]:
            p["parent_uri"] = by_n[p["parent_uri"].rsplit("/", 1)[-1]]
    return {
        "event": {
            "hashtag": "sm35",
            "title": "Engagement",
            "start": START.isoformat(),
            "end": (START + timedelta(hours=1)).isoformat(),
            "timezone": "UTC",
            "networks": ["bluesky", "mastodon"],
            "moderators": ["host.test"],
        },
        "questions": [{"label": "Q1", "number": 1, "text": "What?", "posted": {}}],
        "posts": posts,
    }


def chat() -> dict[str, Any]:
    """Five people on Bluesky, three on Mastodon; known counts, links, media, languages."""
    ex = "https://www.example.org/a"
    ann = ("did:plc:ann",)
    image, undescribed = ("image", True), ("image", False)
    masto = "mastodon"
    return document(
        [
            post(1, "ann", likes=9, reposts=2, quotes=1, replies=3,
                 links=(ex, "https://example.org/b"), media=(image,)),
            post(2, "bob", likes=1, reposts=0, quotes=0, replies=0, links=(ex,),
                 media=(undescribed,), mentions=ann),
            post(3, "cat", likes=0, reposts=0, quotes=0, replies=7, links=(ex,), media=(image,),
                 mentions=ann),
            post(4, "dan", likes=2, reposts=5, quotes=0, replies=0,
                 links=("https://rare.example/x",), lang="fi", mentions=ann),
            post(5, "eve", likes=None, lang="de-AT", media=(("video", True),), parent=1),
            post(6, "fay", network=masto, likes=4, reposts=1, quotes=0, replies=0, lang="en-GB"),
            post(7, "gus", network=masto, likes=0, reposts=0, quotes=None, replies=1, lang="es"),
            post(8, "hal", network=masto, likes=3, reposts=0, quotes=0, replies=0, lang="pt"),
            post(9, "host", likes=50, reposts=50, quotes=50, replies=50),  # a host: not counted
        ]
    )  # fmt: skip


def table_rows(root: Node, caption_start: str) -> list[list[str]]:
    """The body rows of the table whose caption starts so, as cell texts."""
    for table in root.iter("table"):
        caption = table.find("caption")
        if caption is not None and caption.text().startswith(caption_start):
            body = table.find("tbody")
            assert body is not None
            return [
                [cell.text().strip() for cell in tr.iter() if cell.tag in ("th", "td")]
                for tr in body.iter("tr")
            ]
    raise AssertionError(f"no table {caption_start!r}")


def figures(root: Node) -> dict[str, str]:
    section = root.find("section", **{"aria-labelledby": "engagement"})
    assert section is not None
    return {
        div.find("dt").text(): div.find("dd").text().split()[0]  # type: ignore[union-attr]
        for div in section.iter("div")
        if div.find("dt") is not None
    }


def page(doc: dict[str, Any]) -> Node:
    root, errors = parse(render_recap(doc)["index.html"])
    assert errors == []
    return root


def test_each_engagement_figure_is_on_the_page() -> None:
    doc = chat()
    doc["posts"][0]["engagement"]["counted_at"] = "2027-12-07T19:00:00Z"
    root = page(doc)
    # Distinct people head the page, per network; the host is no participant.
    headline = next(p for p in root.iter("p") if "headline" in p.classes()).text()
    assert headline.startswith("8 people took part (5 on Bluesky, 3 on Mastodon), with 8 posts")
    # Totals: the networks' counts of the participants' posts; eve's were never read, so
    # her replies are the ones shown under her post (none).
    assert figures(root) == {"Likes": "19", "Reposts": "8", "Quotes": "1", "Replies": "11"}
    top = table_rows(root, "By engagement")
    assert [row[0].split(" at ")[0] for row in top] == ["ann", "cat", "dan", "fay", "hal"]
    assert top[0][1:] == ["9", "2", "1", "3"]
    by_replies = table_rows(root, "By replies")
    assert [row[0].split(" at ")[0] for row in by_replies] == ["cat", "ann", "gus"]
    assert table_rows(root, "Participants @mentioned") == [["ann @ann.test", "Bluesky", "3", "3"]]
    # Links by site: example.org by three people (www. dropped); rare.example by one is
    # folded away, and "other" (one person) is not shown either.
    assert table_rows(root, "Web links") == [["example.org", "4", "3", "3"]]
    links = root.find("h3", id="links")
    assert links is not None
    section_text = root.find("section", **{"aria-labelledby": "engagement"}).text()  # type: ignore[union-attr]
    assert "1 site used by fewer than 3 people is not shown." in section_text
    assert "As each network counted them when last read, 19:00 UTC, for 7 of 8 posts" in (
        section_text
    )
    assert "4 posts carried 4 attachments; 3 of them with a description (alt text)." in section_text
    assert table_rows(root, "Attachments by kind") == [["image", "3", "3", "3"]]
    assert "1 kind used by fewer than 3 people is not shown." in section_text
    # Languages: en (ann, bob, cat, fay as en-GB) shown; fi, de, es, pt folded into other (4).
    assert table_rows(root, "Posts by the language") == [["en", "4", "4"], ["other", "4", "4"]]
    assert table_rows(root, "People, posts and engagement") == [
        ["Bluesky", "5", "5", "12", "7", "1", "10"],
        ["Mastodon", "3", "3", "7", "1", "0", "1"],
    ]


def test_a_chat_without_counts_says_so_and_ranks_by_the_replies_shown() -> None:
    doc = document([post(1, "ann"), post(2, "bob", parent=1), post(3, "cat", parent=1)])
    root = page(doc)
    text = root.find("section", **{"aria-labelledby": "engagement"}).text()  # type: ignore[union-attr]
    assert "The networks' counts were not read for this chat" in text
    assert figures(root)["Replies"] == "2"
    assert [row[0].split(" at ")[0] for row in table_rows(root, "By replies")] == ["ann"]
    assert root.find("table", id="top-engagement") is None  # it would be the same list


@st.composite
def chats(draw: st.DrawFn) -> dict[str, Any]:
    people = draw(st.integers(1, 9))
    posts = []
    for n in range(draw(st.integers(1, 30))):
        who = f"p{draw(st.integers(0, people - 1))}"
        network = "mastodon" if who in ("p1", "p4") else "bluesky"
        posts.append(
            post(
                n + 1,
                who,
                network=network,
                likes=draw(st.none() | st.integers(0, 5)),
                reposts=draw(st.integers(0, 3)),
                replies=draw(st.integers(0, 3)),
                links=tuple(
                    draw(
                        st.lists(
                            st.sampled_from(
                                ["https://a.example/", "https://b.example/x", "http://c.example"]
                            ),
                            max_size=2,
                        )
                    )
                ),
                media=tuple(
                    draw(
                        st.lists(
                            st.tuples(st.sampled_from(["image", "video", "gifv"]), st.booleans()),
                            max_size=2,
                        )
                    )
                ),
                lang=draw(st.sampled_from(["en", "fi", "de", None, "pt-BR"])),
                mentions=tuple(
                    f"did:plc:p{m}" for m in draw(st.lists(st.integers(0, people - 1), max_size=2))
                ),
            )
        )
    return document(posts)


@settings(max_examples=40, deadline=None)
@given(chats())
def test_no_figure_names_a_group_of_fewer_than_three(doc: dict[str, Any]) -> None:
    recap = build_recap(doc)
    engagement = recap.engagement
    # The same people and posts as the summary's (one count everywhere).
    assert (engagement.people, engagement.posts) == (
        recap.summary.participants,
        recap.summary.posts,
    )
    for breakdown in (
        engagement.networks,
        engagement.domains,
        engagement.media,
        engagement.languages,
    ):
        assert all(row.people >= 3 for row in breakdown.rows), breakdown
    assert all(m.people >= 3 for m in engagement.mentioned)
    if engagement.people < 3:
        assert engagement.by_engagement == engagement.by_replies == ()
    # And on the page: every "People" column of the section says 3 or more.
    root = page(doc)
    section = root.find("section", **{"aria-labelledby": "engagement"})
    assert section is not None
    for table in section.iter("table"):
        heads = [th.text() for th in table.find("thead").iter("th")]  # type: ignore[union-attr]
        for column in ("People", "By people"):
            if column in heads:
                at = heads.index(column)
                for tr in table.find("tbody").iter("tr"):  # type: ignore[union-attr]
                    cells = [c for c in tr.iter() if c.tag in ("th", "td")]
                    assert int(cells[at].text()) >= 3


def test_hostile_text_links_languages_and_media_kinds_stay_escaped() -> None:
    payloads = tuple(sentinel(p) for p in HOSTILE_PAYLOADS)
    doc = hostile_document(payloads)
    for index, item in enumerate(doc["posts"]):
        payload = payloads[(index // 2) % 3]  # three people share each payload
        item["engagement"] = {"likes": 100 - index, "reposts": 1, "quotes": 1, "replies": 1}
        item["links"] = [f"https://{payload}/", payload, f"https://x.example/{payload}"]
        item["lang"] = payload
        item["media"] = [{"type": payload, "alt": True}]
    html = render_recap(doc)["index.html"]
    root, errors = parse(html)
    assert errors == [] and problems(root) == []
    section = root.find("section", **{"aria-labelledby": "engagement"})
    assert section is not None
    shown = section.text()
    assert payloads[0] in shown  # the top posts' text and the kinds, as text
    assert "window.__pwned" not in "".join(
        str(value) for node in section.iter() for value in node.attrs.values()
    )
