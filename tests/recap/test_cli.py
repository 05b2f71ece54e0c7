"""``chatbot recap`` and ``chatbot archive`` against a real database: extras, consent, series."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.cli import cli
from chatbot.models import CollectionCursor, Event, Participant, Post

from .htmltree import parse

NOW = datetime(2027, 12, 7, 17, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def _event(hashtag: str, start: datetime, title: str) -> Event:
    return Event(
        hashtag=hashtag,
        hashtag_key=hashtag.lower(),
        title=title,
        timezone="America/New_York",
        start_at=start,
        end_at=start + timedelta(minutes=40),
        networks=["bluesky", "mastodon"],
        moderators=["@host.example"],
        accounts={"bluesky": "bot.example", "mastodon": "bot@bots.example"},
        source_path=f"questions/{hashtag}.md",
        collect_from=start,
        collect_until=start + timedelta(hours=1),
        state="finished",
    )


def _post(event: Event, network: str, handle: str, n: int, **extra: Any) -> Post:
    uri = (
        f"at://did:plc:{handle}/app.bsky.feed.post/{n}"
        if network == "bluesky"
        else f"https://m.example/users/{handle}/statuses/{n}"
    )
    return Post(
        network=network,
        uri=uri,
        remote_id=str(n),
        url=f"https://{network}.example/{handle}/{n}",
        event_id=event.id,
        author_id=f"id-{handle}",
        author_handle=handle,
        created_at=event.start_at + timedelta(minutes=n),
        text=f"A1 post {n} by {handle}",
        **extra,
    )


@pytest.fixture
def stored(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        earlier = _event("sm35", NOW - WEEK, "Last week")
        current = _event("sm35", NOW, "This week")
        other = _event("other", NOW - 2 * WEEK, "Another series")
        session.add_all([earlier, current, other])
        session.flush()
        session.add_all(
            [
                _post(earlier, "bluesky", "alice.example", 1),
                _post(earlier, "mastodon", "bob", 2),
                _post(other, "bluesky", "zed.example", 3),
                alice := _post(
                    current,
                    "bluesky",
                    "alice.example",
                    4,
                    raw={
                        "record": {
                            "facets": [
                                {
                                    "index": {"byteStart": 0, "byteEnd": 2},
                                    "features": [
                                        {
                                            "$type": "app.bsky.richtext.facet#link",
                                            "uri": "https://a.example/",
                                        }
                                    ],
                                }
                            ]
                        }
                    },
                    indexed_at=NOW + timedelta(minutes=4, seconds=20),
                ),
                carol := _post(
                    current,
                    "mastodon",
                    "carol",
                    5,
                    html='<p>A1 <a href="javascript:x()">hi</a></p>',
                ),
                _post(current, "bluesky", "dave.example", 6, deleted_at=NOW),
                _post(current, "bluesky", "fay.example", 7, hidden_reason="off topic"),
                _post(current, "mastodon", "erin", 8, opted_out=True),
                _post(current, "mastodon", "gus", 9, visibility="unlisted"),
                _post(current, "bluesky", "spam.example", 10, spam_reason="links"),
                Participant(
                    network="bluesky",
                    account_id="id-alice.example",
                    handle="alice.example",
                    followers_count=120,
                ),
                Participant(
                    network="mastodon", account_id="id-carol", handle="carol", followers_count=30
                ),
                Participant(
                    network="mastodon", account_id="id-erin", handle="erin", opted_out=True
                ),
            ]
        )
        session.add(
            CollectionCursor(
                event_id=current.id,
                network="bluesky",
                source="search",
                updated_at=NOW + timedelta(minutes=50),
            )
        )
        session.commit()
        document = {
            "event": {
                "hashtag": "sm35",
                "title": "This week",
                "start": NOW.isoformat(),
                "end": (NOW + timedelta(minutes=40)).isoformat(),
                "timezone": "America/New_York",
                "networks": ["bluesky", "mastodon"],
            },
            "questions": [{"label": "Q1", "number": 1, "text": "First?"}],
            "posts": [
                {
                    "network": post.network,
                    "uri": post.uri,
                    "url": post.url,
                    "author": {"handle": post.author_handle, "display_name": ""},
                    "created_at": post.created_at.isoformat(),
                    "text": post.text,
                    "question": "Q1",
                }
                for post in (alice, carol)
            ],
        }
    return document


def test_recap_uses_the_database_extras(
    stored: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    transcript = tmp_path / "sm35.json"
    transcript.write_text(json.dumps(stored), encoding="utf-8")
    out = tmp_path / "site"
    result = CliRunner().invoke(
        cli,
        [
            "recap",
            "sm35@2027-12-07",  # both chats are ahead of the real clock: name this one
            "--transcript",
            str(transcript),
            "--out",
            str(out),
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Wrote {out / 'index.html'}: 2 participants, 2 posts, 3 per hour, conversation ratio 0%\n"
    )
    html = (out / "index.html").read_text(encoding="utf-8")
    root, errors = parse(html)
    assert errors == []
    figures = {
        " ".join(div.find("dt").text().split()): " ".join(div.find("dd").text().split())  # type: ignore[union-attr]
        for div in root.find("dl").iter("div")  # type: ignore[union-attr]
    }
    assert figures["New / returning"].startswith("1 / 1 against 1 earlier chat of #sm35")
    assert figures["Potential reach"].startswith("150 theoretical maximum")
    coverage = " ".join(root.find("section", **{"aria-labelledby": "coverage"}).text().split())  # type: ignore[union-attr]
    assert (
        "Left out: 1 post deleted by its author, 1 post by people who opted out, "
        "1 post hidden by a moderator, 1 post that was not public." in coverage
    )
    assert "1 post marked as spam is left out." in coverage
    assert "federate with bots.example" in coverage
    assert "collection stopped at 12:50" in coverage
    assert "about 20 s here" in coverage
    # Mastodon HTML from the database, sanitised; the Bluesky facet made a link.
    assert '<p>A1 <a rel="nofollow ugc noopener">hi</a></p>' in html
    assert '<a href="https://a.example/" rel="nofollow ugc noopener">A1</a>' in html


def test_link_previews_use_the_recap_address_the_run_was_given(
    stored: dict[str, Any], engine: Engine, database_url: str, tmp_path: Path
) -> None:
    with Session(engine) as session:
        event = session.exec(select(Event).where(Event.title == "This week")).one()
        event.settings = {"recap_url": "https://chats.example.org/sm35/index.html"}
        session.add(event)
        session.commit()
    out = tmp_path / "site"
    args = ["recap", "sm35@2027-12-07", "--out", str(out), "--database-url", database_url]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    html = (out / "index.html").read_text(encoding="utf-8")
    assert '<meta property="og:image" content="https://chats.example.org/sm35/share.png">' in html
    # --url wins over the stored address.
    result = CliRunner().invoke(cli, [*args, "--url", "https://other.example.org/x/"])
    assert result.exit_code == 0, result.output
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'content="https://other.example.org/x/share.png"' in html


def test_recap_needs_an_event_or_a_transcript() -> None:
    result = CliRunner().invoke(cli, ["recap"])
    assert result.exit_code == 2
    assert result.output == "Error: name an EVENT, or give a transcript with --transcript FILE\n"


def test_recap_of_a_transcript_file_alone(
    tmp_path: Path, stored: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    transcript = tmp_path / "t.json"
    transcript.write_text(json.dumps(stored), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["recap", "--transcript", str(transcript), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["path"] == "transcripts/sm35-2027-12-07/index.html"
    assert (tmp_path / report["path"]).exists()
    assert (report["participants"], report["posts"]) == (2, 2)


def test_a_bad_transcript_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    result = CliRunner().invoke(cli, ["recap", "--transcript", str(bad)])
    assert result.exit_code == 2
    assert result.output == f"Error: {bad}: not a transcript document (no 'event' object)\n"


def test_archive_groups_series_and_links_recaps(
    stored: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "sm35-2027-12-07").mkdir()
    (tmp_path / "sm35-2027-12-07" / "index.html").write_text("recap", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["archive", "--out", str(tmp_path), "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {tmp_path / 'index.html'}: 3 chats in 2 series\n"
    root, errors = parse((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert errors == []
    assert [h.text() for h in root.iter("h2")] == ["#sm35", "#other"]
    sm35 = root.find("section", **{"aria-labelledby": "series-1"})
    assert sm35 is not None
    figures = [" ".join(dd.text().split()) for dd in sm35.iter("dd")]
    # alice came twice; bob, carol once; dave (deleted), fay (hidden), erin (opted out) don't count
    assert figures[:3] == ["2", "3 unique across the series", "1 took part in more than one chat"]
    rows = [
        [" ".join(cell.text().split()) for cell in tr.iter() if cell.tag in ("td", "th")]
        for tr in sm35.find("tbody").iter("tr")
    ]  # type: ignore[union-attr]
    assert rows == [
        ["2027-12-07 12:00 EST", "This week", "2", "2", "1", "1"],
        ["2027-11-30 12:00 EST", "Last week (no recap yet)", "2", "2", "2", "0"],
    ]
    link = sm35.find("a")
    assert link is not None and link.attrs["href"] == "sm35-2027-12-07/index.html"
