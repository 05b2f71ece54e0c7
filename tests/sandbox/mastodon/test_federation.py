"""Sandbox Mastodon instances federating, seen through the unmodified Mastodon.py over HTTP.

A manual clock drives every delivery: nothing waits on real time, and what an
instance shows at a given clock time is the same on every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from mastodon import Mastodon

from chatbot.clock import ManualClock
from chatbot.sandbox.mastodon import MastodonApp, MastodonStore
from chatbot.sandbox.mastodon.federation import Federation, FederationSettings
from chatbot.sandbox.server import SandboxHTTPServer

from .test_mastodon_streaming import Collector, _wait_for_subscribers

pytestmark = pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonDeprecationWarning")


class Fediverse:
    """N running sandbox instances on one manual clock, and clients for their accounts."""

    def __init__(self, profiles: list[str], settings: FederationSettings):
        self.clock = ManualClock()
        self.stores = [MastodonStore(clock=self.clock, profile=p) for p in profiles]
        self.servers = []
        for store in self.stores:
            server = SandboxHTTPServer(MastodonApp(store, heartbeat_seconds=0.3))
            store.base_url = server.url
            self.servers.append(server.start())
        self.federation = Federation(self.stores, self.clock, settings)

    def user(self, instance: int, username: str) -> Mastodon:
        store = self.stores[instance]
        account = store.create_account(username, default_visibility="public")
        return Mastodon(
            api_base_url=store.base_url,
            access_token=store.token_for(account["id"]),
            ratelimit_method="throw",
            request_timeout=10,
        )

    def anonymous(self, instance: int) -> Mastodon:
        return Mastodon(api_base_url=self.stores[instance].base_url, request_timeout=10)

    def later(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)

    def stop(self) -> None:
        self.federation.stop()
        for server in self.servers:
            server.stop()


@pytest.fixture
def fediverse() -> Iterator[type[Fediverse]]:
    started: list[Fediverse] = []

    def make(profiles: list[str], **settings: float) -> Fediverse:
        running = Fediverse(profiles, FederationSettings(**settings))  # type: ignore[arg-type]
        started.append(running)
        return running

    yield make  # type: ignore[misc]
    for running in started:
        running.stop()


def _tagged(api: Mastodon, tag: str) -> list[dict]:
    return list(api.timeline_hashtag(tag))


def test_a_status_reaches_another_instance_as_a_remote_copy_after_the_delay(fediverse):
    net = fediverse(["mastodon", "mastodon"], delay=60, seed=3)
    alice, bob = net.user(0, "alice"), net.user(1, "bob")
    posted = alice.status_post("A1 hello from here #fedi")
    assert _tagged(bob, "fedi") == []  # not yet: federation takes time
    net.later(60)
    [copy] = _tagged(bob, "fedi")
    assert copy["uri"] == posted["uri"] and copy["url"] == posted["url"]
    assert copy["id"] != posted["id"]  # an id of bob's server's own
    assert copy["account"]["acct"] == f"alice@{net.stores[0].domain}"
    assert copy["account"]["url"] == posted["account"]["url"]
    assert copy["account"]["id"] != posted["account"]["id"]
    assert copy["content"] == posted["content"]  # as its origin rendered it
    assert copy.get("application") is None  # Mastodon shows none on others' statuses
    assert [s["uri"] for s in net.anonymous(1).timeline_public()] == [posted["uri"]]
    assert net.anonymous(1).timeline_public(local=True) == []
    assert [s["uri"] for s in net.anonymous(1).timeline_hashtag("fedi", remote=True)] == [
        posted["uri"]
    ]
    # The home instance still shows its own, once.
    assert [s["id"] for s in _tagged(alice, "fedi")] == [posted["id"]]
    # The remote account can be looked up by user@domain, and never logs in there.
    found = bob.account_lookup(f"alice@{net.stores[0].domain}")
    assert found["id"] == copy["account"]["id"]


def test_unlisted_statuses_federate_but_stay_out_of_timelines(fediverse):
    net = fediverse(["mastodon", "mastodon"])
    alice, bob = net.user(0, "alice"), net.user(1, "bob")
    posted = alice.status_post("quietly #fedi", visibility="unlisted")
    net.later(1)
    assert _tagged(bob, "fedi") == []
    [copy] = bob.account_statuses(bob.account_lookup(f"alice@{net.stores[0].domain}")["id"])
    assert copy["uri"] == posted["uri"] and copy["visibility"] == "unlisted"


def test_replies_reach_the_parent_instance_and_context_holds_only_what_arrived(fediverse):
    # All-out loss: only what is addressed (the parent's author) ever federates.
    net = fediverse(["mastodon", "mastodon", "mastodon"], delay=30, loss=1.0, seed=1)
    bot, bob, carol = net.user(0, "bot"), net.user(1, "bob"), net.user(2, "carol")
    question = bot.status_post("Q1 what brings you here? #fedi")
    net.later(30)
    assert _tagged(bob, "fedi") == []  # lost on the way to bob's and carol's instances
    # Bob answers in the question's thread: his server fetches it first (as a pasted link
    # makes it do; the sandbox has no search, so the crowd asks federation directly).
    fetched = net.federation.resolve(question["uri"], 1)
    reply = bob.status_reply(bob.status(fetched), "A1 the people #fedi")
    carol_reply = carol.status_post(
        "A1 unrelated and lost #fedi", in_reply_to_id=net.federation.resolve(question["uri"], 2)
    )
    assert bot.status_context(question["id"])["descendants"] == []  # not arrived yet
    net.later(30)
    [arrived, other] = bot.status_context(question["id"])["descendants"]
    assert {arrived["uri"], other["uri"]} == {reply["uri"], carol_reply["uri"]}
    # Bob's instance holds the question and his reply, not carol's (lost on the way).
    assert [s["uri"] for s in bob.status_context(fetched)["descendants"]] == [reply["uri"]]
    assert arrived["in_reply_to_id"] == question["id"]


def test_edits_and_deletions_follow_never_before_the_status(fediverse):
    net = fediverse(["mastodon", "mastodon"], delay=120, seed=7)
    alice, bob = net.user(0, "alice"), net.user(1, "bob")
    posted = alice.status_post("A2 first words #fedi")
    alice.status_update(posted["id"], "A2 better words #fedi")
    net.later(120)
    [copy] = _tagged(bob, "fedi")
    assert "better words" in copy["content"] and copy["edited_at"] is not None
    alice.status_delete(posted["id"])
    net.later(120)
    assert _tagged(bob, "fedi") == []
    with pytest.raises(Exception, match="404"):
        bob.status(copy["id"])


def test_a_late_delivery_sorts_into_the_past_on_gotosocial_only(fediverse):
    net = fediverse(["mastodon", "mastodon", "gotosocial"])
    masto, gts = net.user(1, "bob"), net.user(2, "carol")
    local_masto = masto.status_post("now #fedi")
    local_gts = gts.status_post("now #fedi")
    # Then a status arrives that its origin dates an hour back (a slow delivery).
    status = net.stores[0].post(
        net.stores[0].create_account("alice")["id"],
        "A1 from the past #fedi",
        created_at=net.clock.now() - timedelta(hours=1),
    )
    net.later(1)
    uri = net.federation.uri_of(0, status.id)

    def order(api: Mastodon, local: dict) -> list[str]:
        return [s["uri"] for s in _tagged(api, "fedi") if s["uri"] in (uri, local["uri"])]

    # Mastodon numbers a delivered status by its arrival: it is the newest there.
    assert order(masto, local_masto) == [uri, local_masto["uri"]]
    # GoToSocial numbers it by its post time: it sorts behind the later local post, where a
    # reader paging from the newest id it has seen never looks.
    assert order(gts, local_gts) == [local_gts["uri"], uri]
    assert uri not in [s["uri"] for s in gts.timeline_hashtag("fedi", min_id=local_gts["id"])]


def test_the_stream_of_another_instance_carries_the_remote_copy(fediverse):
    net = fediverse(["mastodon", "mastodon"], delay=10)
    alice, bob = net.user(0, "alice"), net.user(1, "bob")
    listener = Collector()
    handle = bob.stream_hashtag("fedi", listener, run_async=True)
    try:
        _wait_for_subscribers(SimpleNamespace(store=net.stores[1]))  # type: ignore[arg-type]
        posted = alice.status_post("streamed across #fedi")
        net.later(10)
        assert net.federation.deliver_due() == 1
        name, status = listener.next()
        assert name == "update" and status["uri"] == posted["uri"]
        assert status["account"]["acct"] == f"alice@{net.stores[0].domain}"
    finally:
        handle.close()
        handle.join(timeout=5)


def _arrivals(seed: int, loss: float) -> dict[tuple[int, int], int | None]:
    """When (whole clock seconds after posting) each of 12 statuses reached each instance."""
    clock = ManualClock()
    stores = [MastodonStore(clock=clock, base_url=f"http://i{n}.test") for n in range(3)]
    federation = Federation(stores, clock, FederationSettings(delay=30, loss=loss, seed=seed))
    people = [store.create_account(f"p{n}") for n, store in enumerate(stores)]
    uris = []
    for n in range(12):
        origin = n % 3
        status = stores[origin].post(people[origin]["id"], f"post {n} #fedi")
        uris.append((origin, federation.uri_of(origin, status.id)))
    arrived: dict[tuple[int, int], int | None] = {}
    for second in range(32):
        federation.deliver_due()
        for n, (origin, uri) in enumerate(uris):
            for target in range(3):
                known = target == origin or (n, target) in arrived
                if not known and federation.copy_id(uri, target) is not None:
                    arrived[(n, target)] = second
        clock.advance(seconds=1)
    for n, (origin, _) in enumerate(uris):
        for target in range(3):
            if target != origin:
                arrived.setdefault((n, target), None)
    return arrived


def test_delay_and_loss_are_the_same_for_the_same_seed():
    first, again, other = _arrivals(4, 0.3), _arrivals(4, 0.3), _arrivals(5, 0.3)
    assert first == again
    assert first != other
    lost = [pair for pair, second in first.items() if second is None]
    assert 0 < len(lost) < len(first)  # some never federate, most do
    assert all(second is None or second <= 30 for second in first.values())
    assert len({second for second in first.values() if second is not None}) > 3  # spread
    assert all(second is not None for second in _arrivals(4, 0.0).values())


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="federation loss"):
        FederationSettings(loss=1.5)
    with pytest.raises(ValueError, match="federation delay"):
        FederationSettings(delay=float("nan"))


def test_a_mention_across_instances_reaches_whom_it_names(fediverse):
    net = fediverse(["mastodon", "mastodon"], loss=1.0)
    alice, bob = net.user(0, "alice"), net.user(1, "bob")
    hello = alice.status_post("hello from here #fedi")
    assert net.federation.resolve(hello["uri"], 1)  # bob's server fetches it: knows alice
    # Mastodon.py writes "@alice@127.0.0.1:<port>": a mention's domain has no port, and one
    # alice is known on this host, so it is her (Mastodon would need a real domain).
    mention = bob.status_post(f"@alice@{net.stores[0].domain} thanks! #fedi")
    [named] = mention["mentions"]
    assert named["acct"] == f"alice@{net.stores[0].domain}"
    net.later(1)
    # All-out loss, but whom a status names always gets it.
    assert mention["uri"] in [s["uri"] for s in _tagged(alice, "fedi")]
    # Two accounts that "@alice@127.0.0.1" could mean: it names neither.
    net.user(1, "alice")
    ambiguous = bob.status_post(f"@alice@{net.stores[0].domain} which one? #fedi")
    assert ambiguous["mentions"] == []


def test_the_sandbox_delivers_to_streams_by_itself():
    """In a running Sandbox a background thread delivers what is due, so a stream on another
    instance gets a status without anyone asking that instance anything."""
    from chatbot.sandbox.runner import Sandbox

    with Sandbox(networks=("mastodon",), mastodon_instances=2) as sandbox:
        reader_store = sandbox.mastodon_stores[1]
        reader = reader_store.create_account("reader")
        api = Mastodon(
            api_base_url=reader_store.base_url, access_token=reader_store.token_for(reader["id"])
        )
        listener = Collector()
        handle = api.stream_hashtag("fedi", listener, run_async=True)
        _wait_for_subscribers(SimpleNamespace(store=reader_store))  # type: ignore[arg-type]
        bot = Mastodon(api_base_url=sandbox.mastodon_url, access_token=sandbox.mastodon_token)
        posted = bot.status_post("Q1 heard everywhere? #fedi")
        name, status = listener.next()
        assert name == "update" and status["uri"] == posted["uri"]
    # The servers have stopped, which ends the stream (closing it first waits a heartbeat).
    handle.close()
    handle.join(timeout=5)


def test_a_favourite_of_a_copy_reaches_the_origin_and_no_other_copy(fediverse):
    net = fediverse(["mastodon", "mastodon", "gotosocial"], delay=30, seed=5)
    alice, bob, cy = net.user(0, "alice"), net.user(1, "bob"), net.user(2, "cy")
    posted = alice.status_post("A1 liked everywhere #fedi")
    net.later(30)
    [on_bob] = _tagged(bob, "fedi")
    bob.status_favourite(on_bob["id"])
    bob.status_reblog(on_bob["id"])
    assert bob.status(on_bob["id"])["favourites_count"] == 1  # counted where it was given
    assert alice.status(posted["id"])["favourites_count"] == 0  # not yet: on its way
    net.later(30)
    mine = alice.status(posted["id"])
    assert (mine["favourites_count"], mine["reblogs_count"]) == (1, 1)
    [on_cy] = cy.search_v2(posted["uri"], resolve=True)["statuses"]
    assert cy.status(on_cy["id"])["favourites_count"] == 0  # a third copy never hears of it
    bob.status_unfavourite(on_bob["id"])
    net.later(30)
    assert alice.status(posted["id"])["favourites_count"] == 0  # taking it back follows too


def test_a_lost_favourite_never_reaches_the_origin(fediverse):
    net = fediverse(["mastodon", "mastodon"], loss=1.0, seed=6)
    alice, bob = net.user(0, "alice"), net.user(1, "bob")
    posted = alice.status_post("A1 hello @bob@" + net.stores[1].domain)  # addressed: arrives
    net.later(1)
    [copy] = bob.search_v2(posted["uri"], resolve=True)["statuses"]
    bob.status_favourite(copy["id"])
    net.later(60)
    assert alice.status(posted["id"])["favourites_count"] == 0
