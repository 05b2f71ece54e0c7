"""Counts collected on both sandbox networks, then refreshed by `chatbot collect --refresh-counts`.

The crowd likes, reposts and favourites through the unmodified atproto and
Mastodon.py clients; the bot reads over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from atproto import Client, models
from mastodon import Mastodon
from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.clock import ManualClock
from chatbot.collect import Collector
from chatbot.collect.peers import anonymous_reader
from chatbot.collect.refresh import refresh_counts
from chatbot.demo import bot_platforms
from chatbot.models import Post
from chatbot.sandbox.mastodon.federation import FederationSettings
from chatbot.sandbox.runner import Sandbox
from tests.collect.test_coverage import TAG, live_event, run
from tests.recap.htmltree import parse

People = dict[str, Mastodon]

pytestmark = pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonDeprecationWarning")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("CHATBOT_CONFIG", raising=False)
    with Sandbox(seed=41, clock=ManualClock()) as box:
        yield box


def counts(engine: Engine) -> dict[str, tuple[int | None, ...]]:
    with Session(engine) as session:
        rows = session.execute(select(Post)).scalars()
        return {
            row.text: (row.like_count, row.repost_count, row.quote_count, row.reply_count)
            for row in rows
        }


def bluesky_person(sandbox: Sandbox, name: str) -> Client:
    sandbox.bluesky.create_account(f"{name}.sandbox.test", "pw")
    client = Client(base_url=sandbox.bluesky_url)
    client.login(f"{name}.sandbox.test", "pw")
    return client


def mastodon_person(sandbox: Sandbox, name: str) -> tuple[str, Mastodon]:
    store = sandbox.mastodon
    account = str(store.create_account(name, default_visibility="public")["id"])
    return account, Mastodon(
        api_base_url=sandbox.mastodon_url, access_token=store.token_for(account)
    )


def test_counts_are_collected_on_both_networks_and_refreshed_after_the_chat(
    engine: Engine, sandbox: Sandbox, tmp_path: Path
) -> None:
    event_id = live_event(engine, sandbox)
    ada, bob, cat = (bluesky_person(sandbox, name) for name in ("ada", "bob", "cat"))
    sky = ada.send_post(f"A1 pencils #{TAG}")  # the sandbox makes the tag's facet
    bob.like(sky.uri, sky.cid)
    cat.repost(sky.uri, sky.cid)
    ann_id, ann = mastodon_person(sandbox, "ann")
    _, ben = mastodon_person(sandbox, "ben")
    _, cyd = mastodon_person(sandbox, "cyd")
    toot = ann.status_post(f"A1 paper #{TAG}", visibility="public")
    ben.status_favourite(toot.id)
    cyd.status_reblog(toot.id)
    cyd.status_post("agreed", in_reply_to_id=toot.id, visibility="public")

    platforms = bot_platforms(sandbox)
    Collector(engine, event_id, platforms, sandbox.clock).step(sweep=True)
    found = counts(engine)
    assert found[f"A1 pencils #{TAG}"] == (1, 1, 0, 0)
    assert found[f"A1 paper #{TAG}"][:2] == (1, 1)
    assert found[f"A1 paper #{TAG}"][3] == 1
    with Session(engine) as session:
        first = session.execute(select(Post).where(Post.author_id == ann_id)).scalars().one()
        collected_at = first.counts_at
        assert collected_at is not None

    # After the chat: more likes and reposts come, and a reply.
    cat.like(sky.uri, sky.cid)
    ada.like(sky.uri, sky.cid)
    bob.repost(sky.uri, sky.cid)
    answered = models.create_strong_ref(sky)
    cat.send_post("nice", reply_to=models.AppBskyFeedPost.ReplyRef(parent=answered, root=answered))
    cyd.status_favourite(toot.id)
    ann.status_favourite(toot.id)
    ben.status_unfavourite(toot.id)
    sandbox.clock.advance(seconds=60)
    assert counts(engine)[f"A1 pencils #{TAG}"] == (1, 1, 0, 0)  # nothing read yet

    code, output = run(engine, sandbox, "collect", str(event_id), "--refresh-counts", "--json")
    assert code == 0, output
    report = {row["network"]: row for row in json.loads(output)["refreshed"]}
    assert report["bluesky"]["read"] == report["bluesky"]["posts"] >= 1
    assert report["bluesky"]["moved"] >= 1 and report["mastodon"]["moved"] >= 1
    assert report["bluesky"]["requests"] == 1  # 25 posts a getPosts request
    assert report["mastodon"]["requests"] == 1  # 40 statuses a GET /api/v1/statuses
    found = counts(engine)
    assert found[f"A1 pencils #{TAG}"] == (3, 2, 0, 1)
    assert found[f"A1 paper #{TAG}"] == (2, 1, 0, 1)
    with Session(engine) as session:
        refreshed = session.execute(select(Post).where(Post.author_id == ann_id)).scalars().one()
        assert refreshed.counts_at is not None and refreshed.counts_at > collected_at

    # The recap shows the refreshed counts.
    out = tmp_path / "recap"
    code, output = run(engine, sandbox, "recap", str(event_id), "--out", str(out))
    assert code == 0, output
    root, errors = parse((out / "index.html").read_text(encoding="utf-8"))
    section = root.find("section", **{"aria-labelledby": "engagement"})
    assert errors == [] and section is not None
    shown = {
        div.find("dt").text(): div.find("dd").text().split()[0]  # type: ignore[union-attr]
        for div in section.iter("div")
        if div.find("dt") is not None
    }
    assert (shown["Likes"], shown["Reposts"]) == ("5", "3")

    code, output = run(engine, sandbox, "collect", str(event_id), "--refresh-counts")
    assert code == 0, output
    assert f"#{TAG}: counts refreshed\n" in output
    assert "  bluesky: 1 of 1 posts read, 0 with new counts, 1 request\n" in output
    assert "  mastodon: 2 of 2 posts read, 0 with new counts, 1 request\n" in output


def test_a_server_without_batches_is_read_one_status_at_a_time_within_the_budget(
    engine: Engine,
) -> None:
    with Sandbox(
        seed=42, clock=ManualClock(), networks=("mastodon",), mastodon_profile="gotosocial"
    ) as sandbox:
        from tests.collect.test_gotosocial import load_live_event

        event_id = load_live_event(engine, sandbox, "gtscounts")
        _, ann = mastodon_person(sandbox, "ann")
        _, ben = mastodon_person(sandbox, "ben")
        made = [ann.status_post(f"A1 answer {n} #gtscounts", visibility="public") for n in range(3)]
        platforms = bot_platforms(sandbox)
        Collector(engine, event_id, platforms, sandbox.clock).step(sweep=True)
        ben.status_favourite(made[1].id)
        reports = refresh_counts(
            engine, event_id, platforms, now=sandbox.clock.now, sleep=sandbox.clock.sleep
        )
        (report,) = reports
        assert (report.posts, report.read, report.moved) == (3, 3, 1)
        assert report.requests >= 3  # the batch answered 404: one status a request
        assert counts(engine)["A1 answer 1 #gtscounts"][0] == 1


@contextmanager
def two_servers(
    seed: int, tag: str, engine: Engine, profile: str = "mastodon,mastodon"
) -> Iterator[tuple[Sandbox, int, People]]:
    """Two federating instances, the bot's and ann's, a live event on ``tag`` and a client
    for each of ann and ben (on ann's server) and cyd and dee (on the bot's)."""
    from tests.collect.test_gotosocial import load_live_event

    federation = FederationSettings(delay=0.0, loss=0.0, seed=seed)
    with Sandbox(
        seed=seed, clock=ManualClock(), networks=("mastodon",), mastodon_instances=2,
        mastodon_profile=profile, federation=federation,
    ) as sandbox:  # fmt: skip
        event_id = load_live_event(engine, sandbox, tag)
        near, far = sandbox.mastodon_servers
        people = {}
        for name, server in (("ann", far), ("ben", far), ("cyd", near), ("dee", near)):
            store = server.app.store
            account = str(store.create_account(name, default_visibility="public")["id"])
            people[name] = Mastodon(api_base_url=server.url, access_token=store.token_for(account))
        yield sandbox, event_id, people


def test_counts_of_another_servers_posts_are_read_where_every_like_arrives(
    engine: Engine,
) -> None:
    # A favourite given on the bot's copy reaches ann's server; one given there never
    # reaches the copy.
    with two_servers(44, "homecounts", engine) as (sandbox, event_id, people):
        toot = people["ann"].status_post("A1 paper #homecounts", visibility="public")
        people["ben"].status_favourite(toot.id)  # on ann's server
        people["ben"].status_reblog(toot.id)
        platforms = bot_platforms(sandbox)
        Collector(engine, event_id, platforms, sandbox.clock, peers=5).step(sweep=True)
        (copy,) = people["cyd"].search_v2(toot.uri, resolve=True).statuses
        people["cyd"].status_favourite(copy.id)  # on the bot's server, delivered to ann's
        people["dee"].status_favourite(copy.id)
        sandbox.clock.advance(seconds=5)
        assert sandbox.federation is not None
        sandbox.federation.deliver_due()

        # The bot's server knows only the favourites given on it.
        (report,) = refresh_counts(
            engine, event_id, platforms, now=sandbox.clock.now, sleep=sandbox.clock.sleep
        )
        assert (report.posts, report.read, report.not_found, report.at_home) == (1, 1, 0, 0)
        assert counts(engine)["A1 paper #homecounts"][:2] == (2, 0)
        # Ann's server knows them all: ben's, and cyd's and dee's, delivered there.
        (report,) = refresh_counts(
            engine, event_id, platforms, now=sandbox.clock.now, sleep=sandbox.clock.sleep,
            home_reader=anonymous_reader(sandbox.clock.now),
        )  # fmt: skip
        assert (report.read, report.at_home, report.home_servers, report.moved) == (1, 1, 1, 1)
        assert report.requests == 1  # one status asked of ann's server; none of the bot's
        assert "1 of them from the servers they were made on (1 server)" in report.line()
        assert counts(engine)["A1 paper #homecounts"][:2] == (3, 1)


@pytest.mark.parametrize("home", ["gone", "gotosocial"])
def test_a_home_server_that_does_not_answer_leaves_the_post_to_the_bots_server(
    engine: Engine, home: str
) -> None:
    # Ann's server is gone by the time counts are refreshed, or is a GoToSocial (no status
    # for a reader without an account): the bot's copy is read.
    profile = "mastodon,gotosocial" if home == "gotosocial" else "mastodon,mastodon"
    with two_servers(45, "closedhome", engine, profile) as (sandbox, event_id, people):
        toot = people["ann"].status_post("A1 paper #closedhome", visibility="public")
        platforms = bot_platforms(sandbox)
        Collector(engine, event_id, platforms, sandbox.clock, peers=5).step(sweep=True)
        (copy,) = people["cyd"].search_v2(toot.uri, resolve=True).statuses
        people["cyd"].status_favourite(copy.id)
        if home == "gone":
            sandbox.mastodon_servers[1].stop()
        (report,) = refresh_counts(
            engine, event_id, platforms, now=sandbox.clock.now, sleep=sandbox.clock.sleep,
            home_reader=anonymous_reader(sandbox.clock.now),
        )  # fmt: skip
    assert (report.posts, report.read, report.at_home, report.home_servers) == (1, 1, 0, 0)
    assert counts(engine)["A1 paper #closedhome"][0] == 1  # the bot's server's view
