"""The Mastodon part of the conformance suite: the bot's adapter against every server profile.

There is no reference Mastodon or GoToSocial to run here, so each test runs once
per sandbox profile (``chatbot.sandbox.mastodon.profile.PROFILES``): the bot's
``MastodonPlatform`` and the unmodified Mastodon.py against a bot's instance of
that profile, federated with a second (Mastodon) instance the way a chat's
participants post from elsewhere. Where the servers differ, the test says what
each one does (from the profile's documented facts), so a profile that drifts
from them fails here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from mastodon import Mastodon

from chatbot.clock import ManualClock
from chatbot.errors import NotFoundError
from chatbot.platforms.credentials import Secret
from chatbot.platforms.mastodon import MastodonPlatform
from chatbot.sandbox.mastodon import MastodonApp, MastodonStore
from chatbot.sandbox.mastodon.federation import Federation, FederationSettings
from chatbot.sandbox.mastodon.profile import PROFILES, ServerProfile
from chatbot.sandbox.server import SandboxHTTPServer

DELAY = 60.0  # sandbox seconds a status takes to reach the other instance (at most)


@dataclass
class MastodonTarget:
    """A bot's instance of one profile, a second instance, and federation between them."""

    profile: ServerProfile
    clock: ManualClock
    stores: list[MastodonStore]
    servers: list[SandboxHTTPServer]
    federation: Federation

    def person(self, instance: int) -> Mastodon:
        store = self.stores[instance]
        account = store.create_account(f"p{secrets.token_hex(4)}", default_visibility="public")
        return Mastodon(
            api_base_url=store.base_url,
            access_token=store.token_for(account["id"]),
            ratelimit_method="throw",
            request_timeout=10,
        )

    def bot(self) -> MastodonPlatform:
        store = self.stores[0]
        account = store.create_account(f"bot{secrets.token_hex(4)}", bot=True)
        token = Secret(store.token_for(account["id"]))
        return MastodonPlatform(store.base_url, token, clock=self.clock.now)

    def federate(self) -> None:
        """Let every delivery in flight arrive."""
        self.clock.advance(seconds=DELAY)
        self.federation.deliver_due()


@pytest.fixture(scope="module", params=sorted(PROFILES))
def mastodon_target(request: pytest.FixtureRequest) -> Iterator[MastodonTarget]:
    clock = ManualClock()
    profile = PROFILES[request.param]
    stores = [MastodonStore(clock=clock, profile=p) for p in (profile, PROFILES["mastodon"])]
    servers = []
    for store in stores:
        server = SandboxHTTPServer(MastodonApp(store))
        store.base_url = server.url
        servers.append(server.start())
    federation = Federation(stores, clock, FederationSettings(delay=DELAY, seed=1))
    yield MastodonTarget(profile, clock, stores, servers, federation)
    for server in servers:
        server.stop()


@pytest.fixture
def tag() -> str:
    return f"cf{secrets.token_hex(4)}"


def test_the_adapter_tells_which_software_runs(mastodon_target: MastodonTarget) -> None:
    info = mastodon_target.bot().server()
    assert info.software == mastodon_target.profile.software
    assert info.version == mastodon_target.profile.version
    assert info.is_mastodon == (mastodon_target.profile.name == "mastodon")
    assert info.streaming_url.startswith(("ws://", "wss://"))


def test_posting_twice_with_one_key_makes_one_status(
    mastodon_target: MastodonTarget, tag: str
) -> None:
    bot = mastodon_target.bot()
    first = bot.post(f"Q1 what brings you? #{tag}", key="q1")
    again = bot.post(f"Q1 what brings you? #{tag}", key="q1")
    assert again == first
    fetched = bot.fetch(first)
    assert fetched is not None and fetched.visibility == "public" and fetched.uri == first.uri
    bot.delete(first)
    bot.delete(first)  # already gone: still fine
    assert bot.fetch(first) is None


def test_a_tag_nobody_used_yet(mastodon_target: MastodonTarget, tag: str) -> None:
    bot = mastodon_target.bot()
    if mastodon_target.profile.tag_404_until_used:
        with pytest.raises(NotFoundError):
            bot.tag_timeline(tag)
    else:
        assert bot.tag_timeline(tag) == []


def test_replies_in_the_tag_timeline_and_in_the_thread(
    mastodon_target: MastodonTarget, tag: str
) -> None:
    bot = mastodon_target.bot()
    question = bot.post(f"Q1 what brings you? #{tag}", key="q1")
    person = mastodon_target.person(0)
    reply = person.status_post(f"A1 the people #{tag}", in_reply_to_id=question.id)
    found = {post.id for post in bot.tag_timeline(tag)}
    assert question.id in found
    # GoToSocial leaves replies to others' statuses out of the tag timeline.
    assert (str(reply["id"]) in found) != mastodon_target.profile.tag_omits_replies
    # The question's thread has it on every server.
    assert [post.id for post in bot.thread(question).replies] == [str(reply["id"])]


def test_posts_from_another_instance_arrive_as_remote_copies(
    mastodon_target: MastodonTarget, tag: str
) -> None:
    bot = mastodon_target.bot()
    question = bot.post(f"Q1 what brings you? #{tag}", key="q1")
    elsewhere = mastodon_target.person(1)
    answer = elsewhere.status_post(f"A1 from another server #{tag}")
    assert all(post.uri != answer["uri"] for post in bot.tag_timeline(tag))  # not yet
    mastodon_target.federate()
    [copy] = [post for post in bot.tag_timeline(tag) if post.uri == answer["uri"]]
    domain = mastodon_target.stores[1].domain
    assert copy.author_handle == f"{answer['account']['acct']}@{domain}"
    assert copy.url == answer["url"] and copy.id != str(answer["id"])
    # A reply from there to the bot's question reaches the bot's thread, whatever the loss.
    local_question = mastodon_target.federation.resolve(question.uri, 1)
    reply = elsewhere.status_post(f"A1 in the thread #{tag}", in_reply_to_id=local_question)
    mastodon_target.federate()
    assert [post.uri for post in bot.thread(question).replies] == [reply["uri"]]


def test_paging_from_the_newest_id_seen_and_late_deliveries(
    mastodon_target: MastodonTarget, tag: str
) -> None:
    """A reader that pages with min_id from the newest id it has seen gets a late delivery
    on Mastodon (numbered when it arrives) and misses it on GoToSocial (numbered by its
    post time), which is why the collector must not rely on min_id alone there."""
    bot = mastodon_target.bot()
    newest = bot.post(f"Q1 posted here #{tag}", key="q1")
    # Posted elsewhere a minute before, delivered only now (a slow delivery).
    origin = mastodon_target.stores[1]
    author = origin.create_account(f"p{secrets.token_hex(4)}")
    late = origin.create_status(
        author["id"],
        f"posted first, arrives late #{tag}",
        created_at=mastodon_target.clock.now() - timedelta(minutes=1),
    )
    mastodon_target.federate()
    above = {post.uri for post in bot.tag_timeline(tag, min_id=newest.id)}
    assert (late["uri"] in above) != mastodon_target.profile.remote_ids_from_published
    assert late["uri"] in {post.uri for post in bot.tag_timeline(tag)}
