"""The real collector reading the rest of the fediverse: other sandbox instances' tag timelines.

Three sandbox Mastodon instances (the bot's, another Mastodon, a GoToSocial)
on one manual clock, with federation switched off (every delivery lost) or
slow, so what the bot's own instance sees is decided by the test. Everything
goes over real HTTP through the unmodified Mastodon.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from chatbot.bot.loading import load_event
from chatbot.clock import ManualClock
from chatbot.collect import Collector
from chatbot.collect.instances import base_of, host_of_account, is_qualified, peers_to_read
from chatbot.collect.peers import FEED_CLOSED, budget_key, cursor_name, qualified
from chatbot.demo import bot_platforms
from chatbot.models import CollectionCursor, Post
from chatbot.platforms.mastodon_json import from_mastodon_status
from chatbot.platforms.mastodon_server import refresh_retry
from chatbot.sandbox.mastodon.federation import REFRESH_SECONDS, FederationSettings
from chatbot.sandbox.runner import Sandbox
from tests.factories import make_plan

pytestmark = pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonDeprecationWarning")


def fediverse(loss: float, delay: float = 0.0) -> Sandbox:
    return Sandbox(
        seed=3,
        clock=ManualClock(),
        networks=("mastodon",),
        mastodon_instances=3,
        mastodon_profile="mastodon,mastodon,gotosocial",
        federation=FederationSettings(delay=delay, loss=loss, seed=3),
    )


@pytest.fixture
def lost() -> Iterator[Sandbox]:
    """Nothing federates: the bot's instance sees only its own accounts' posts."""
    with fediverse(loss=1.0) as sandbox:
        yield sandbox


def load(engine: Engine, sandbox: Sandbox, hashtag: str, listed: list[str]) -> int:
    start = sandbox.clock.now() - timedelta(minutes=5)
    settings = {"mastodon_instances": listed}
    plan = make_plan(hashtag=hashtag, start=start, networks=("mastodon",), settings=settings)
    return load_event(engine, plan, source_path=f"questions/{hashtag}.md").event_id


def stored(engine: Engine) -> list[Post]:
    with Session(engine) as session:
        return list(session.execute(select(Post)).scalars())


def person(sandbox: Sandbox, instance: int, name: str) -> str:
    store = sandbox.mastodon_stores[instance]
    return str(store.create_account(name, default_visibility="public")["id"])


def test_posts_that_never_reached_the_bot_s_instance_are_collected_once_with_its_ids(
    engine: Engine, lost: Sandbox
) -> None:
    stores = lost.mastodon_stores
    urls = [store.base_url for store in stores]
    event_id = load(engine, lost, "fedi", [urls[1], urls[2]])
    ann, gus = person(lost, 1, "ann"), person(lost, 2, "gus")
    on_mastodon = stores[1].create_status(ann, "A1 from another Mastodon #fedi")
    stores[2].create_status(gus, "A1 from a GoToSocial #fedi")
    assert not stores[0].statuses  # federation lost both
    collector = Collector(engine, event_id, bot_platforms(lost), lost.clock, peers=5)

    report = collector.step(sweep=True)

    part = report.networks["mastodon"]
    assert not report.errors, report.as_dict()
    rows = {row.uri: row for row in stored(engine)}
    # GoToSocial shows its tag timeline to logged-in readers only: closed, and said so
    # (its post can reach the transcript only by federating to the bot's instance).
    assert set(rows) == {on_mastodon["uri"]}, part.notes
    assert part.notes == [f"{urls[2]}: hashtag timeline {FEED_CLOSED}"]
    row = rows[on_mastodon["uri"]]
    # Brought to the bot's instance by address: its ids, its copy, the origin's uri.
    assert not is_qualified(row.remote_id)
    copy = stores[0].status(row.remote_id)
    assert copy is not None
    assert row.author_handle == f"ann@{urls[1].split('://')[1]}"
    # Each instance keeps its own position; a second pass stores nothing twice.
    with Session(engine) as session:
        names = {c.source for c in session.execute(select(CollectionCursor)).scalars()}
    assert cursor_name(urls[1]) in names
    again = collector.step(sweep=True)
    assert again.new == 0 and len(stored(engine)) == 1


def test_a_participant_s_server_is_found_from_their_posts_and_read(engine: Engine) -> None:
    # Federation is slow: cid's first answer has reached the bot's instance, the
    # second has not yet. The first names cid's server; reading it finds the second.
    with fediverse(loss=0.0, delay=600) as sandbox:
        stores = sandbox.mastodon_stores
        event_id = load(engine, sandbox, "slow", [])
        cid = person(sandbox, 1, "cid")
        first = stores[1].create_status(cid, "A1 the answer from far away #slow")
        sandbox.clock.advance(seconds=601)
        second = stores[1].create_status(cid, "A2 and the next one #slow")
        collector = Collector(engine, event_id, bot_platforms(sandbox), sandbox.clock, peers=5)

        collector.step(sweep=True)

        rows = {row.uri: row for row in stored(engine)}
        assert set(rows) == {first["uri"], second["uri"]}
        assert stores[0].status(rows[second["uri"]].remote_id) is not None  # fetched home


def test_without_peers_only_the_bot_s_instance_is_read(engine: Engine, lost: Sandbox) -> None:
    stores = lost.mastodon_stores
    event_id = load(engine, lost, "home", [stores[1].base_url])
    ann = person(lost, 1, "ann")
    stores[1].create_status(ann, "A1 elsewhere #home")
    collector = Collector(engine, event_id, bot_platforms(lost), lost.clock)  # peers=0

    collector.step(sweep=True)

    assert stored(engine) == []


def test_a_post_kept_as_another_server_gave_it_never_passes_for_the_bot_s(
    engine: Engine, lost: Sandbox
) -> None:
    stores = lost.mastodon_stores
    ann = person(lost, 1, "ann")
    first = stores[1].create_status(ann, "A1 #tag")
    reply = stores[1].create_status(ann, "and more #tag", in_reply_to_id=first["id"])
    post = qualified(from_mastodon_status(reply), stores[1].base_url)
    host = stores[1].base_url.split("://", 1)[1]
    assert post.id == f"{reply['id']}@{host}" and is_qualified(post.id)
    assert post.raw["in_reply_to_id"] == f"{first['id']}@{host}"
    assert post.author_id.endswith(f"@{host}")
    assert post.author_handle == f"ann@{host}"  # a local account there: its server named
    assert post.uri == reply["uri"]  # the status itself is the same one everywhere
    assert budget_key(stores[1].base_url) == f"mastodon@{host}"


def test_servers_to_read() -> None:
    home = "https://home.example"
    origins = [
        "https://home.example/users/a/statuses/1",
        "https://busy.example/users/b/statuses/2",
        "https://busy.example/users/c/statuses/3",
        "http://127.0.0.1:4000/users/d/statuses/4",
        "not an address",
    ]
    mentioned = ["quiet.example", "127.0.0.1:4000"]
    assert peers_to_read(home, origins, mentioned, ["listed.example"]) == [
        "https://listed.example",
        "https://busy.example",
        "http://127.0.0.1:4000",
        "https://quiet.example",
    ]
    assert peers_to_read(home, origins, limit=1) == ["https://busy.example"]
    assert peers_to_read(home, origins, limit=0) == []
    assert base_of("https://Busy.Example:443/users/a") == "https://busy.example"  # one server
    assert base_of("http://busy.example:80/") == "http://busy.example"
    assert base_of("https://busy.example:8443/") == "https://busy.example:8443"
    assert host_of_account("@ann@Example.Social") == "example.social"
    assert host_of_account("ann") is None and host_of_account("ann@") is None


@given(st.text(max_size=40))
def test_base_of_never_fails_and_names_a_server(address: str) -> None:
    base = base_of(address)
    assert base is None or (base.startswith(("http://", "https://")) and "/" not in base[8:])
    if base is not None:
        assert base_of(base) == base


@given(st.lists(st.sampled_from(["a", "b", "c", "home"]), max_size=12), st.integers(0, 5))
def test_the_bot_s_server_is_never_a_peer_and_the_limit_holds(names: list[str], limit: int) -> None:
    origins = [f"https://{name}.example/users/x/statuses/1" for name in names]
    chosen = peers_to_read("https://home.example", origins, limit=limit)
    assert "https://home.example" not in chosen
    assert len(chosen) == min(limit, len(set(names) - {"home"}))
    assert len(set(chosen)) == len(chosen)


def test_a_context_still_being_fetched_is_read_again_when_the_server_says(engine: Engine) -> None:
    # Mastodon 4.4+: asked for the context of another server's post, the bot's server
    # answers with what it has and a Mastodon-Async-Refresh header while it fetches the
    # rest from the origin; the collector reads that thread again once the wait is over.
    with fediverse(loss=1.0) as sandbox:
        stores = sandbox.mastodon_stores
        federation = sandbox.federation
        assert federation is not None
        event_id = load(engine, sandbox, "later", [])
        ann, cid, dee = (
            person(sandbox, 1, "ann"),
            person(sandbox, 1, "cid"),
            person(sandbox, 0, "dee"),
        )
        answer = stores[1].create_status(ann, "A1 the origin's answer #later")
        copy_id = federation.resolve(answer["uri"], 0)  # someone at the bot's instance saw it
        assert copy_id is not None
        stores[0].create_status(dee, "agreed #later", in_reply_to_id=copy_id)
        unseen = stores[1].create_status(
            cid, "me too, for other reasons", in_reply_to_id=answer["id"]
        )
        collector = Collector(engine, event_id, bot_platforms(sandbox), sandbox.clock)

        collector.step(sweep=True)  # reads the answer's thread: the server starts fetching

        assert unseen["uri"] not in {row.uri for row in stored(engine)}
        assert len(collector.refreshes) == 1
        sandbox.clock.advance(seconds=REFRESH_SECONDS + 1)
        collector.step(sweep=False)  # no check this time: only the refresh reads the thread

        assert unseen["uri"] in {row.uri for row in stored(engine)}
        assert len(collector.refreshes) == 0


def test_refresh_header_parsing() -> None:
    assert refresh_retry('id="ctx:1", retry=3, result_count=0') == 3.0
    assert refresh_retry("retry=2.5") == 2.5
    assert refresh_retry('id="x", retry=99999') == 300.0
    assert refresh_retry('id="x"') is None
    assert refresh_retry(None) is None and refresh_retry("") is None


@given(st.text(max_size=60))
def test_refresh_header_parsing_never_fails(header: str) -> None:
    value = refresh_retry(header)
    assert value is None or 0.0 <= value <= 300.0
