"""The combined sandbox: both servers, one clock, the bot's accounts, faults per network."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests
from atproto import Client
from mastodon import Mastodon, MastodonUnauthorizedError

from chatbot.clock import AcceleratedClock, SystemClock, clock_from_string
from chatbot.sandbox.faults import FaultSettings
from chatbot.sandbox.runner import Sandbox


def test_both_servers_with_working_bot_credentials():
    with Sandbox(seed=2) as sandbox:
        creds = sandbox.credentials()
        assert set(creds) == {"bluesky", "mastodon"}
        assert creds["bluesky"]["url"].startswith("http://127.0.0.1:")
        client = Client(base_url=creds["bluesky"]["url"] + "/xrpc")
        profile = client.login(creds["bluesky"]["handle"], creds["bluesky"]["password"])
        assert profile.did == sandbox.bot_ids["bluesky"]
        posted = client.send_post("hello #sandbox")
        assert client.get_post_thread(posted.uri).thread.post.record.text == "hello #sandbox"
        api = Mastodon(
            api_base_url=creds["mastodon"]["url"], access_token=creds["mastodon"]["token"]
        )
        me = api.account_verify_credentials()
        assert str(me["id"]) == sandbox.bot_ids["mastodon"] and me["bot"] is True
        status = api.status_post("hello #sandbox")
        assert api.status(status["id"])["id"] == status["id"]
        assert isinstance(sandbox.clock, SystemClock)
    assert sandbox.servers == {}


def test_same_seed_same_password_and_stop_frees_the_ports():
    first = Sandbox(seed=9).start()
    ports = {network: server.port for network, server in first.servers.items()}
    password = first.bot_password
    first.stop()
    first.stop()  # twice is fine
    with Sandbox(seed=9, bluesky_port=ports["bluesky"], mastodon_port=ports["mastodon"]) as again:
        assert again.bot_password == password
        assert again.servers["bluesky"].port == ports["bluesky"]
    assert Sandbox(seed=10).bot_password != password


def test_port_in_use_is_an_os_error_and_leaves_nothing_running():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        sandbox = Sandbox(mastodon_port=port)
        with pytest.raises(OSError):
            sandbox.start()
        assert sandbox.servers == {}


def test_accelerated_clock_is_shared_and_published():
    start = datetime(2027, 1, 5, 18, 0, tzinfo=UTC)
    with Sandbox(speed=120, virtual_start=start) as sandbox:
        assert isinstance(sandbox.clock, AcceleratedClock)
        assert sandbox.bluesky.clock is sandbox.clock is sandbox.mastodon.clock
        for network in ("bluesky", "mastodon"):
            body = requests.get(f"{sandbox.url(network)}/_sandbox/clock", timeout=5).json()
            assert body["clock"] == sandbox.clock_string
        now = clock_from_string(sandbox.clock_string).now()
        assert start <= now < start + timedelta(minutes=5)


def test_faults_per_network():
    faults = {"bluesky": 1.0, "mastodon": FaultSettings(rate=0.0)}
    with Sandbox(seed=1, faults=faults) as sandbox:
        bluesky = requests.get(f"{sandbox.bluesky_url}/_sandbox/faults", timeout=5).json()
        mastodon = requests.get(f"{sandbox.mastodon_url}/_sandbox/faults", timeout=5).json()
        assert bluesky["rate"] == 1.0 and mastodon["rate"] == 0.0
        assert requests.get(f"{sandbox.mastodon_url}/api/v1/timelines/tag/x", timeout=5).ok


def test_one_network_only():
    with Sandbox(networks=("mastodon",)) as sandbox:
        assert set(sandbox.credentials()) == {"mastodon"}
        assert sandbox.bluesky is None
    with pytest.raises(ValueError, match="unknown network"):
        Sandbox(networks=("twitter",))


def test_run_crowd_in_the_background_until_done(tmp_path):
    from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig, ScheduledQuestion

    with Sandbox(seed=4, speed=3000) as sandbox:
        start = sandbox.clock.now()
        question = ScheduledQuestion("Q1", "Q1: Tools? #bg", start + timedelta(minutes=1))
        chat = ChatSchedule("bg", start, start + timedelta(minutes=10), (question,))
        driver = sandbox.run_crowd(chat, CrowdConfig(seed=4, participants=6))
        assert driver.join(timeout=10), "the crowd finishes on the accelerated clock"
        truth = json.loads(driver.write_truth(tmp_path / "t.json").read_text())
    posted = [p for p in truth["posts"] if p["status"] == "posted"]
    assert posted and len(sandbox.drivers) == 1
    # Nobody posted Q1, so answers in its thread were given up after the grace period.
    assert all(p["status"] == "skipped" for p in truth["posts"] if p["parent_question"])


def test_several_mastodon_instances_each_its_own_origin():
    from chatbot.sandbox.mastodon.federation import FederationSettings

    with Sandbox(
        networks=("mastodon",),
        mastodon_instances=3,
        mastodon_profile="mastodon,gotosocial,mastodon",
        federation=FederationSettings(loss=1.0),
    ) as sandbox:
        instances = sandbox.mastodon_instances()
        assert [i["profile"] for i in instances] == ["mastodon", "gotosocial", "mastodon"]
        assert instances[0]["url"] == sandbox.mastodon_url
        assert len({i["domain"] for i in instances}) == 3
        for instance in instances:
            answer = requests.get(f"{instance['url']}/api/v2/instance", timeout=5).json()
            assert answer["domain"] == instance["domain"]
        # The bot's account lives on the first instance only.
        api = Mastodon(api_base_url=instances[1]["url"], access_token=sandbox.mastodon_token)
        with pytest.raises(MastodonUnauthorizedError):
            api.account_verify_credentials()
        bot = Mastodon(api_base_url=sandbox.mastodon_url, access_token=sandbox.mastodon_token)
        bot.status_post("Q1 lost on the way #runnerfedi")
        reader = Mastodon(api_base_url=instances[2]["url"])
        assert reader.timeline_hashtag("runnerfedi") == []  # all lost, as asked
    assert sandbox.mastodon_servers == []


def test_profiles_must_fit_the_instances():
    with pytest.raises(ValueError, match="give one profile for all, or one per instance"):
        Sandbox(mastodon_instances=2, mastodon_profile="mastodon,gotosocial,mastodon")


def test_rate_limits_off_means_off_on_every_network():
    with Sandbox(seed=4, rate_limits=False, mastodon_instances=2) as box:
        for server in box.mastodon_servers:
            answer = requests.get(f"{server.url}/api/v1/timelines/tag/x", timeout=5)
            assert int(answer.headers["X-RateLimit-Limit"]) >= 10**9
    with Sandbox(seed=4, networks=("mastodon",)) as box:
        answer = requests.get(f"{box.mastodon_url}/api/v1/timelines/tag/x", timeout=5)
        assert answer.headers["X-RateLimit-Limit"] == "300"  # Mastodon's own, by default
