"""``chatbot import``: the real #DocNowCommunity chat as CSV, and twarc JSONL (API v1.1 and v2)."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.cli import cli
from chatbot.imports import import_file
from chatbot.models import Event, Post, ScheduledPost, utcnow
from tests.realdata import REAL_FIXTURES

RAW = REAL_FIXTURES / "tweetchats" / "docnowcommunity" / "docnowcommunity_raw.json"
PREFIX = re.compile(r"^(?:[@#]\w+\s+)*A(\d)\b")
FOLLOWER_SPAM = re.compile(r"FOLLOWERS", re.IGNORECASE)


def docnow_csv(path: Path) -> Path:
    """The DocNow chat as the plain CSV import format (ids as text)."""
    items = json.loads(RAW.read_text(encoding="utf-8"))["items"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "author", "created_at", "text", "in_reply_to_id"])
        for item in items:
            text = html.unescape(item["text"] or "")
            writer.writerow([item["tweet_id"], item["username"], item["posted_at"], text, ""])
    return path


def test_docnow_csv_imports_with_questions_answers_and_spam(engine: Engine, tmp_path: Path) -> None:
    path = docnow_csv(tmp_path / "docnow.csv")
    report = import_file(engine, path, hashtag="DocNowCommunity", host="documentnow")
    assert report.questions == tuple(f"Q{n}" for n in range(1, 9))
    assert report.posts == 319 and report.new == 319

    from chatbot.eventref import resolve_event
    from chatbot.export import build_document

    with Session(engine) as session:
        event = resolve_event(session, "DocNowCommunity", purpose="record", now=utcnow())
        assert event.networks == ["twitter"]
        labels = session.execute(
            select(ScheduledPost.label).where(ScheduledPost.event_id == event.id)
        ).scalars()
        assert sorted(labels) == [f"Q{n}" for n in range(1, 9)]
        document = build_document(session, event)
        rows = {r.uri: r for r in session.execute(select(Post)).scalars()}
    posts = {p["uri"]: p for p in document["posts"]}
    answered = 0
    for uri, row in rows.items():
        match = PREFIX.match(row.text)
        if match is None or row.author_handle == "documentnow":
            continue
        answered += 1
        assert row.spam_reason is None, row.text
        assert (posts[uri]["question"], posts[uri]["method"]) == (f"Q{match.group(1)}", "prefix")
        assert row.id is not None and isinstance(row.remote_id, str) and row.remote_id.isdigit()
    assert answered == 54
    spam = [r for r in rows.values() if r.spam_reason]
    sellers = [r for r in rows.values() if FOLLOWER_SPAM.search(r.text)]
    assert sellers and all(r.spam_reason for r in sellers), [
        r.text for r in sellers if not r.spam_reason
    ]
    assert not any(r.author_handle == "documentnow" for r in spam)
    stuffing = [r for r in spam if r.spam_reason.startswith("hashtag stuffing")]
    assert stuffing, "the Korean bar ads carry seven hashtags"
    assert all(p["flags"]["spam"] is False for p in document["posts"])  # left out, not shown

    again = import_file(engine, path, hashtag="DocNowCommunity", host="documentnow")
    assert (again.event_id, again.new) == (report.event_id, 0)


def v1_tweet(tweet_id: str, user: str, text: str, reply_to: str | None = None) -> dict:
    return {
        "id_str": tweet_id,
        "id": int(tweet_id),
        "created_at": f"Thu Jul 14 19:0{tweet_id[-1]}:00 +0000 2016",
        "full_text": text,
        "user": {
            "id_str": f"9{tweet_id}",
            "screen_name": user,
            "name": user.title(),
            "followers_count": 12,
        },
        "in_reply_to_status_id_str": reply_to,
        "entities": {"hashtags": [{"text": "tc"}], "user_mentions": []},
    }


def test_twarc_v1_lines_and_v2_pages(engine: Engine, tmp_path: Path) -> None:
    big = "1225850000000000001"
    lines = [
        json.dumps(v1_tweet(big, "host", "Q1 What brings you here? #tc")),
        json.dumps([v1_tweet("1225850000000000002", "ann", "A1 Curiosity &amp; friends #tc")]),
        json.dumps(
            {"retweeted_status": {"id_str": "1"}, **v1_tweet("1225850000000000003", "bob", "RT x")}
        ),
        json.dumps(
            {
                "data": [
                    {
                        "id": "1225850000000000004",
                        "author_id": "77",
                        "created_at": "2016-07-14T19:05:00.000Z",
                        "text": "Same here",
                        "referenced_tweets": [{"type": "replied_to", "id": "1225850000000000002"}],
                    },
                    {
                        "id": "1225850000000000005",
                        "author_id": "1",
                        "created_at": "2016-07-14T19:06:00.000Z",
                        "text": "Q2 And next? #tc",
                    },
                ],
                "includes": {
                    "users": [{"id": "77", "username": "cy"}, {"id": "1", "username": "host"}]
                },
            }
        ),
    ]
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "import",
            str(path),
            "--hashtag",
            "tc",
            "--host",
            "@host",
            "--database-url",
            engine.url.render_as_string(hide_password=False),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Imported #tc (event 1): 4 posts (4 new, 1 retweets skipped), 2 questions, "
        "0 flagged as spam\n"
    )
    with Session(engine) as session:
        rows = {r.remote_id: r for r in session.execute(select(Post)).scalars()}
        event = session.execute(select(Event)).scalars().one()
    assert set(rows) == {big, "1225850000000000002", "1225850000000000004", "1225850000000000005"}
    assert rows["1225850000000000002"].text == "A1 Curiosity & friends #tc"
    assert rows["1225850000000000004"].parent_uri == rows["1225850000000000002"].uri
    assert rows["1225850000000000004"].author_handle == "cy"
    assert event.hashtag == "tc" and event.accounts == {"twitter": "host"}


def test_import_errors_name_the_file_and_line(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"nope": 1}\n', encoding="utf-8")
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        cli, ["import", str(bad), "--hashtag", "x", "--host", "h", "--database-url", url]
    )
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {bad}:1: not twarc JSON")
    csv_file = tmp_path / "chat.csv"
    csv_file.write_text("id,author,text\n1,a,hi\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["import", str(csv_file), "--hashtag", "x", "--host", "h", "--database-url", url]
    )
    assert result.exit_code == 2 and "lacks column(s) created_at" in result.output


def test_an_open_format_chat_imports_with_the_questions_named(
    engine: Engine, tmp_path: Path
) -> None:
    # The host asks in plain words: --question names the posts that ask.
    chat = tmp_path / "open.csv"
    rows = [
        ("101", "host", "2022-02-04T18:00:00Z", "What has everyone been up to? #tc"),
        ("102", "ann", "2022-02-04T18:03:00Z", "Writing a book #tc"),
        ("103", "host", "2022-02-04T18:20:00Z", "Any user group meeting news? #tc"),
        ("104", "bob", "2022-02-04T18:22:00Z", "Our meeting restarts next week #tc"),
        ("105", "host", "2022-02-04T18:40:00Z", "Thanks for joining, see you next month #tc"),
    ]
    with chat.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "author", "created_at", "text", "in_reply_to_id"])
        writer.writerows([(*row, "") for row in rows])
    url = engine.url.render_as_string(hide_password=False)
    base = ["import", str(chat), "--hashtag", "tc", "--host", "host", "--database-url", url]

    refused = CliRunner().invoke(cli, base)  # no "Q1" and no --question: nothing to import
    assert refused.exit_code == 2 and "check --host" in refused.output
    wrong = CliRunner().invoke(cli, [*base, "--question", "101", "--question", "999"])
    assert wrong.exit_code == 2
    assert "--question '999' is not a tweet of this file" in wrong.output
    with Session(engine) as session:
        assert session.execute(select(Event)).first() is None  # nothing stored

    address = "https://x.com/host/status/103?s=20"
    result = CliRunner().invoke(cli, [*base, "--question", address, "--question", "101"])
    assert result.exit_code == 0, result.output
    assert "2 questions" in result.output

    from chatbot.eventref import resolve_event
    from chatbot.export import build_document

    with Session(engine) as session:
        event = resolve_event(session, "tc", purpose="record", now=utcnow())
        document = build_document(session, event)
    assert [q["text"] for q in document["questions"]] == [rows[0][3], rows[2][3]]
    placed = {p["text"]: p["question"] for p in document["posts"]}
    assert placed["Writing a book #tc"] == "Q1"
    assert placed["Our meeting restarts next week #tc"] == "Q2"
    assert placed[rows[4][3]] is None  # the wrap-up


def test_a_file_longer_than_a_batch_imports_whole_or_not_at_all(
    engine: Engine, tmp_path: Path
) -> None:
    # Posts are stored in batches as the file is read; a bad line past the
    # first batches still leaves the database as it was.
    from chatbot.imports.load import BATCH

    count = BATCH * 2 + 7
    tweets = [v1_tweet("1300000000000000000", "host", "Q1 Longest chat ever? #tc")]
    tweets += [
        v1_tweet(str(1300000000000000001 + n), f"p{n % 50}", f"A1 answer number {n} #tc")
        for n in range(count - 1)
    ]
    lines = [json.dumps(tweet) for tweet in tweets]
    path = tmp_path / "long.jsonl"
    path.write_text("\n".join([*lines, "{broken"]) + "\n", encoding="utf-8")
    url = engine.url.render_as_string(hide_password=False)
    base = ["import", str(path), "--hashtag", "tc", "--host", "host", "--database-url", url]
    refused = CliRunner().invoke(cli, base)
    assert refused.exit_code == 2
    assert refused.output.startswith(f"Error: {path}:{count + 1}: not twarc JSON")
    with Session(engine) as session:
        assert session.execute(select(Event)).first() is None
        assert session.execute(select(Post)).first() is None

    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, base)
    assert result.exit_code == 0, result.output
    assert f": {count} posts ({count} new, 0 retweets skipped), 1 questions" in result.output
    with Session(engine) as session:
        stored = session.execute(select(Post.remote_id)).scalars().all()
    assert sorted(stored) == sorted(t["id_str"] for t in tweets)
    again = CliRunner().invoke(cli, base)
    assert f"({count} new" not in again.output and "(0 new" in again.output
