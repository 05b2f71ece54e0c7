"""The coverage report: where each post was found, what each source did, what can't be seen.

Driven through ``chatbot collect`` and ``chatbot status`` with the unmodified
atproto and Mastodon.py clients against the sandbox over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from chatbot import db
from chatbot.bot.loading import load_event
from chatbot.cli import cli
from chatbot.clock import ManualClock
from chatbot.collect import Collector
from chatbot.demo import bot_platforms
from chatbot.export import build_document
from chatbot.models import Event, Post, PostSighting, SchemaVersion
from chatbot.platforms.mastodon_server import closed_feed
from chatbot.sandbox.mastodon.federation import FederationSettings
from chatbot.sandbox.runner import Sandbox
from tests.factories import make_plan
from tests.recap.htmltree import parse

TAG = "cover"


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    # No credentials file or stored session of the machine's own: only the sandbox's.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("CHATBOT_CONFIG", raising=False)
    with Sandbox(seed=21) as box:
        yield box


def env_of(sandbox: Sandbox) -> dict[str, str]:
    creds = sandbox.credentials()
    return {
        "CHATBOT_CLOCK": sandbox.clock_string,
        "CHATBOT_BLUESKY_HANDLE": creds["bluesky"]["handle"],
        "CHATBOT_BLUESKY_PASSWORD": creds["bluesky"]["password"],
        "CHATBOT_BLUESKY_SERVICE": creds["bluesky"]["url"],
        "CHATBOT_MASTODON_URL": creds["mastodon"]["url"],
        "CHATBOT_MASTODON_TOKEN": creds["mastodon"]["token"],
    }


def run(engine: Engine, sandbox: Sandbox, *args: str) -> tuple[int, str]:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner(env=env_of(sandbox)).invoke(cli, [*args, "--database-url", url])
    return result.exit_code, result.output


def live_event(engine: Engine, sandbox: Sandbox) -> int:
    """An event on both networks whose collection window is open now, nothing posted yet."""
    start = sandbox.clock.now() - timedelta(minutes=5)
    plan = make_plan(hashtag=TAG, start=start, networks=("bluesky", "mastodon"))
    return load_event(engine, plan, source_path=f"questions/{TAG}.md").event_id


def rows_of(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["network"], row["source"]): row for row in report["sources"]}


def test_collect_and_status_say_where_each_post_was_found(
    engine: Engine, sandbox: Sandbox, tmp_path: Path
) -> None:
    event_id = live_event(engine, sandbox)
    sky, masto = sandbox.bluesky, sandbox.mastodon
    ada = sky.create_account("ada.sandbox.test", "pw").did
    bob = sky.create_account("bob.sandbox.test", "pw").did
    answer = sky.create_post(ada, f"A1 pencils #{TAG}")
    sky.create_post(bob, f"A1 SHOUTING #{TAG.upper()}")  # the tag in another case
    sky.create_post(bob, "same here", reply_to=answer["uri"])  # no tag: only its thread
    ann = str(masto.create_account("ann", default_visibility="public")["id"])
    ben = str(masto.create_account("ben", default_visibility="unlisted")["id"])
    toot = masto.create_status(ann, f"A1 paper #{TAG}")
    hidden = masto.create_status(
        ben, f"A1 agreed #{TAG}", in_reply_to_id=toot["id"], visibility=None
    )  # unlisted, as the account posts by default

    code, output = run(engine, sandbox, "collect", str(event_id), "--once", "--json")
    assert code == 0, output
    report = json.loads(output)["coverage"]
    rows = rows_of(report)
    service = sandbox.credentials()["bluesky"]["url"].rstrip("/")
    instance = sandbox.credentials()["mastodon"]["url"].rstrip("/")
    assert {key: (row["posts"], row["only"]) for key, row in rows.items() if row["posts"]} == {
        ("bluesky", "search"): (2, 2),  # both tagged posts, whatever the case of the tag
        ("bluesky", "thread"): (1, 1),  # the untagged reply: the thread read found it
        ("mastodon", "timeline"): (1, 1),
        ("mastodon", "thread"): (1, 1),  # the unlisted reply: only its context shows it
    }
    assert rows[("bluesky", "search")]["instance"] == service
    assert rows[("mastodon", "timeline")]["instance"] == instance
    assert rows[("bluesky", "search")]["pages"] >= 1 and rows[("bluesky", "search")]["requests"]
    assert rows[("mastodon", "timeline")]["feed"] == "open"
    assert not any(row["errors"] or row["closed"] for row in rows.values())
    assert (report["posts"], report["unknown"], report["not_public"]) == (5, 0, 1)
    assert report["not_public_urls"] == [hidden["url"]]
    # The server's own daily counts of the tag (public posts only) beside what was collected.
    (server,) = report["tag_days"]
    assert server["instance"] == instance
    today = sandbox.clock.now().date().isoformat()
    assert server["days"][0] == {
        "day": today,
        "server_uses": 1,
        "server_accounts": 1,
        "collected": 1,
        "collected_accounts": 1,
    }
    assert len(server["days"]) == 7 and all(d["server_uses"] == 0 for d in server["days"][1:])
    assert any("followers-only" in line for line in report["unseen"])

    # Collecting again finds the same posts from the same sources: nothing new to record.
    def sightings() -> list[tuple[int, str, str, datetime]]:
        with Session(engine) as session:
            rows = session.exec(select(PostSighting)).all()
            return sorted((r.post_id, r.source, r.instance, r.first_seen_at) for r in rows)

    before = sightings()
    assert run(engine, sandbox, "collect", str(event_id), "--once")[0] == 0
    assert sightings() == before and len(before) == 5  # one source each
    code, output = run(engine, sandbox, "status", str(event_id))
    assert code == 0, output
    lines = output.splitlines()
    assert f"Coverage of #{TAG}: 5 posts stored" in lines
    search = next(line for line in lines if line.startswith(f"  bluesky {service} search"))
    assert "search   2 posts (2 found by nothing else)" in search
    assert any("1 posts seen are not public" in line and hidden["url"] in line for line in lines), (
        output
    )
    code, output = run(engine, sandbox, "status", str(event_id), "--json")
    assert rows_of(json.loads(output)["coverage"])[("bluesky", "thread")]["only"] == 1

    # The recap's coverage notes say the same to its readers.
    out = tmp_path / "site"
    code, output = run(engine, sandbox, "recap", str(event_id), "--out", str(out))
    assert code == 0, output
    root, errors = parse(next(out.rglob("index.html")).read_text(encoding="utf-8"))
    section = root.find("section", **{"aria-labelledby": "coverage"})
    assert errors == [] and section is not None
    notes = " ".join(section.text().split())
    host = service.split("//")[1]
    assert f"search on {host} (Bluesky) 2 posts, 2 found by nothing else" in notes
    assert f"threads on {instance.split('//')[1]} (Mastodon) 1 post, 1 found by nothing" in notes
    assert f"counted 1 public post with the hashtag by 1 account on {today}" in notes
    assert "the bot collected 1 of that day from it" in notes

    # The unlisted reply is counted, and never published.
    with Session(engine) as session:
        stored = session.exec(select(Post).where(Post.remote_id == hidden["id"])).one()
        assert stored.visibility == "unlisted"
        event = session.get(Event, event_id)
        assert event is not None
        published = {post["uri"] for post in build_document(session, event)["posts"]}
    assert stored.uri not in published and toot["uri"] in published


def test_the_migration_adds_the_coverage_tables_to_an_older_database(engine: Engine) -> None:
    version = next(v for v, _, step in db.MIGRATIONS if step.__name__ == "_coverage_tables")
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE post_sighting"))
        connection.execute(text("DROP TABLE source_tally"))
        connection.execute(SchemaVersion.__table__.delete())  # type: ignore[attr-defined]
        connection.execute(
            SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                version=version - 1,
                description="before coverage",
                applied_at=db.models.utcnow(),
            )
        )
    assert not inspect(engine).has_table("post_sighting")
    assert db.migrate(engine) == db.latest_version() >= version
    assert {"post_sighting", "source_tally"} <= set(inspect(engine).get_table_names())
    assert db.migrate(engine) == db.latest_version()  # a second run changes nothing


def test_search_reads_past_its_cap_by_time_windows_and_counts_what_only_it_found(
    engine: Engine, sandbox: Sandbox
) -> None:
    event_id = live_event(engine, sandbox)
    sky = sandbox.bluesky
    sky.search_cap = 5  # the real service stops at 10,000 results a query; here at 5
    ada = sky.create_account("ada.sandbox.test", "pw").did
    now = sandbox.clock.now()
    made = [
        sky.create_post(ada, f"A{n} answer #{TAG}", created_at=now - timedelta(seconds=10 * n))
        for n in range(12)
    ]
    # The tag set apart from the text (the record's `tags`), in another case.
    made.append(sky.create_post(ada, "A13 no tag in the text", tags=[TAG.upper()]))
    code, output = run(engine, sandbox, "collect", str(event_id), "--once", "--json")
    assert code == 0, output
    with Session(engine) as session:
        stored = {row.uri for row in session.exec(select(Post)).all()}
    assert stored == {post["uri"] for post in made}
    rows = rows_of(json.loads(output)["coverage"])
    assert (rows[("bluesky", "search")]["posts"], rows[("bluesky", "search")]["only"]) == (13, 13)
    assert rows[("bluesky", "search")]["requests"] >= 3  # one query could give 5 at most
    code, output = run(engine, sandbox, "status", str(event_id), "--json")
    assert json.loads(output)["coverage"]["unknown"] == 0


def test_each_mastodon_server_read_has_its_own_rows(engine: Engine) -> None:
    """Three instances, nothing federated: what each server gave is told apart."""
    box = Sandbox(
        seed=3,
        clock=ManualClock(),
        networks=("mastodon",),
        mastodon_instances=3,
        mastodon_profile="mastodon,mastodon,gotosocial",
        federation=FederationSettings(loss=1.0, seed=3),
    )
    with box:
        stores = box.mastodon_stores
        urls = [store.base_url.rstrip("/") for store in stores]
        start = box.clock.now() - timedelta(minutes=5)
        settings = {"mastodon_instances": urls[1:]}
        plan = make_plan(hashtag=TAG, start=start, networks=("mastodon",), settings=settings)
        event_id = load_event(engine, plan, source_path=f"questions/{TAG}.md").event_id
        ann = str(stores[1].create_account("ann", default_visibility="public")["id"])
        gus = str(stores[2].create_account("gus", default_visibility="public")["id"])
        stores[1].create_status(ann, f"A1 from another Mastodon #{TAG}")
        stores[2].create_status(gus, f"A1 from a GoToSocial #{TAG}")
        Collector(engine, event_id, bot_platforms(box), box.clock, peers=5).step(sweep=True)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["status", str(event_id), "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["coverage"]
    rows = {(r["instance"], r["source"]): r for r in report["sources"]}
    assert (rows[(urls[1], "timeline")]["posts"], rows[(urls[1], "timeline")]["only"]) == (1, 1)
    assert rows[(urls[0], "timeline")]["posts"] == 0  # the bot's own server never saw it
    assert rows[(urls[0], "timeline")]["feed"] == "open"
    assert rows[(urls[2], "timeline")]["closed"] and rows[(urls[2], "timeline")]["posts"] == 0
    days = {server["instance"]: server["days"][0] for server in report["tag_days"]}
    assert days[urls[1]]["server_uses"] == days[urls[1]]["collected"] == 1
    assert days[urls[0]]["server_uses"] == days[urls[0]]["collected"] == 0


# Mastodon.py itself warns when a server's settings shut a timeline to its caller.
@pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonWarning")
def test_a_hashtag_feed_the_server_switched_off_is_closed_not_quiet(
    engine: Engine, sandbox: Sandbox
) -> None:
    event_id = live_event(engine, sandbox)
    masto = sandbox.mastodon
    ann = str(masto.create_account("ann", default_visibility="public")["id"])
    masto.create_status(ann, f"A1 nobody sees this here #{TAG}")
    masto.hashtag_feeds = {"local": "disabled", "remote": "disabled"}  # Mastodon 4.5's setting
    code, output = run(engine, sandbox, "collect", str(event_id), "--once", "--json")
    assert code == 0, output
    row = rows_of(json.loads(output)["coverage"])[("mastodon", "timeline")]
    assert (row["posts"], row["errors"], row["closed"]) == (0, 0, True)
    assert row["feed"] == "closed: switched off by the server (timelines_access: hashtag feeds)"
    code, output = run(engine, sandbox, "status", str(event_id))
    assert "feed closed: switched off by the server" in output


@pytest.mark.parametrize(
    ("access", "logged_in", "said"),
    [
        (None, False, None),
        ({"local": "public", "remote": "public"}, False, None),
        ({"local": "authenticated", "remote": "authenticated"}, True, None),
        (
            {"local": "authenticated", "remote": "authenticated"},
            False,
            "switched off by the server (timelines_access: hashtag feeds)",
        ),
        (
            {"local": "public", "remote": "disabled"},
            True,
            "partly closed: remote posts switched off by the server (timelines_access)",
        ),
    ],
)
def test_the_server_s_access_setting_says_whether_its_feed_is_closed(
    access: Any, logged_in: bool, said: str | None
) -> None:
    assert closed_feed(access, logged_in=logged_in) == said
