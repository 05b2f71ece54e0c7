"""``chatbot sandbox serve`` as a real process, and ``chatbot sandbox crowd``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from atproto import Client
from click.testing import CliRunner
from mastodon import Mastodon

from chatbot.cli import cli

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "tests/data/questions/valid/offsets-and-wrapup.md"


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "chatbot", "sandbox", "serve", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


def _first_line(process: subprocess.Popen[str], timeout: float = 20) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines:
        process.kill()
        pytest.fail(f"no JSON line within {timeout}s; stderr: {process.stderr.read()}")
    return lines[0]


def _stop(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> tuple[int, str, str]:
    process.send_signal(sig)
    try:
        out, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, out, err


def test_serve_prints_credentials_that_the_real_clients_use():
    process = _serve("--seed", "1")
    try:
        ready = json.loads(_first_line(process))
        assert set(ready) == {"bluesky", "mastodon", "mastodon_instances"}
        assert set(ready["bluesky"]) == {"url", "web", "handle", "password"}
        [instance] = ready["mastodon_instances"]
        assert instance["url"] == ready["mastodon"]["url"] and instance["profile"] == "mastodon"
        assert ready["bluesky"]["web"] == ready["bluesky"]["url"]
        assert set(ready["mastodon"]) == {"url", "token"}
        client = Client(base_url=ready["bluesky"]["url"] + "/xrpc")
        client.login(ready["bluesky"]["handle"], ready["bluesky"]["password"])
        posted = client.send_post("Q1: does the sandbox work? #servetest")
        found = client.app.bsky.feed.search_posts({"q": "#servetest"}).posts
        assert [post.uri for post in found] == [posted.uri]
        api = Mastodon(
            api_base_url=ready["mastodon"]["url"], access_token=ready["mastodon"]["token"]
        )
        status = api.status_post("Q1: does the sandbox work? #servetest")
        assert [s["id"] for s in api.timeline_hashtag("servetest")] == [status["id"]]
    finally:
        code, out, err = _stop(process)
    assert code == 0, err
    assert out == "", "nothing but the one JSON line on stdout"


def test_serve_stops_cleanly_on_sigterm():
    process = _serve("--seed", "2", "--faults", "0.1", "--speed", "30")
    json.loads(_first_line(process))
    code, _, err = _stop(process, signal.SIGTERM)
    assert code == 0, err


def test_serve_with_a_crowd_writes_the_truth(tmp_path):
    truth = tmp_path / "truth.json"
    process = _serve(
        "--seed", "3", "--speed", "900", "--questions", str(QUESTIONS),
        "--participants", "8", "--truth", str(truth),
    )  # fmt: skip
    try:
        ready = json.loads(_first_line(process))
        api = Mastodon(
            api_base_url=ready["mastodon"]["url"], access_token=ready["mastodon"]["token"]
        )
        deadline = threading.Event()
        statuses: list[dict] = []
        for _ in range(40):  # the crowd has a minute's lead, i.e. 1/15 s at this speed
            statuses = api.timeline_hashtag("test1")
            if statuses:
                break
            deadline.wait(0.1)
        assert statuses, "the crowd posts with the chat's hashtag"
        for _ in range(100):  # written every few seconds while it runs, not only on exit
            if truth.exists():
                break
            deadline.wait(0.1)
        assert json.loads(truth.read_text())["hashtag"] == "test1"
    finally:
        code, _, err = _stop(process)
    assert code == 0, err
    data = json.loads(truth.read_text())
    assert data["hashtag"] == "test1" and data["seed"] == 3
    assert any(post["status"] == "posted" for post in data["posts"])


def test_truth_needs_questions():
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--truth", "t.json"])
    assert result.exit_code == 2
    assert result.output == "Error: --truth needs --questions: only a crowd has a ground truth\n"


def test_crowd_preview_summary_and_json(tmp_path):
    runner = CliRunner()
    args = ["sandbox", "crowd", str(QUESTIONS), "--seed", "4", "--participants", "30"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0].startswith("#test1: 30 participants ")
    assert lines[0].endswith(", 3 spam accounts")
    assert lines[3].startswith("opt-outs: ") and "self_label" in lines[3]
    assert runner.invoke(cli, args).output == first.output  # same seed, same crowd
    plan = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    assert plan["config"]["seed"] == 4 and plan["actions"]
    assert plan["actions"][0]["at"] <= plan["actions"][-1]["at"]


def test_sandbox_commands_have_help_with_an_example():
    for command in (["sandbox"], ["sandbox", "serve"], ["sandbox", "crowd"]):
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output


def test_busy_port_is_a_clear_error():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["sandbox", "serve", "--bluesky-port", str(port)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: cannot start the sandbox: ")
    assert result.output.endswith("; choose another port or 0\n")


def test_serve_plays_gotosocial_when_asked():
    process = _serve("--seed", "2", "--mastodon-profile", "gotosocial")
    try:
        ready = json.loads(_first_line(process))
        api = Mastodon(
            api_base_url=ready["mastodon"]["url"], access_token=ready["mastodon"]["token"]
        )
        assert api.instance_nodeinfo()["software"]["name"] == "gotosocial"
        me = api.account_verify_credentials()
        assert len(me["id"]) == 26 and not me["id"].isdigit()  # a ULID
    finally:
        code, _, err = _stop(process)
    assert code == 0, err
    unknown = CliRunner().invoke(cli, ["sandbox", "serve", "--mastodon-profile", "pleroma"])
    assert unknown.exit_code == 2 and "pleroma" in unknown.output


def test_serve_runs_several_federating_mastodon_instances():
    process = _serve(
        "--seed", "5", "--mastodon-instances", "3", "--mastodon-profile",
        "mastodon,gotosocial,mastodon",
    )  # fmt: skip
    try:
        ready = json.loads(_first_line(process))
        instances = ready["mastodon_instances"]
        assert [i["profile"] for i in instances] == ["mastodon", "gotosocial", "mastodon"]
        assert len({i["url"] for i in instances}) == 3
        assert instances[0]["url"] == ready["mastodon"]["url"]
        bot = Mastodon(
            api_base_url=ready["mastodon"]["url"], access_token=ready["mastodon"]["token"]
        )
        posted = bot.status_post("Q1: across the fediverse? #servefedi")
        # Another instance, read anonymously: the bot's status as a remote copy.
        reader = Mastodon(api_base_url=instances[2]["url"])
        copies: list[dict] = []
        for _ in range(100):  # no delay set: delivered at the next look
            copies = reader.timeline_hashtag("servefedi")
            if copies:
                break
            threading.Event().wait(0.05)
        [copy] = copies
        assert copy["uri"] == posted["uri"] and copy["id"] != posted["id"]
        assert copy["account"]["acct"] == f"chatbot@{instances[0]['domain']}"
    finally:
        code, _, err = _stop(process)
    assert code == 0, err
    assert (
        f"Mastodon: 3 federating instances, the bot's on {instances[0]['url']} (mastodon); "
        f"the crowd also posts from {instances[1]['url']} (gotosocial), "
        f"{instances[2]['url']} (mastodon)\n"
    ) in err


def test_serve_refuses_profiles_that_do_not_fit_the_instances():
    result = CliRunner().invoke(
        cli, ["sandbox", "serve", "--mastodon-instances", "2", "--profile", "a,b"]
    )
    assert result.exit_code == 2 and "'a,b': each profile must be one of" in result.output
    result = CliRunner().invoke(
        cli,
        [
            "sandbox",
            "serve",
            "--mastodon-instances",
            "2",
            "--profile",
            "mastodon,gotosocial,mastodon",
        ],
    )
    assert result.exit_code == 2
    assert result.output == (
        "Error: --mastodon-profile: 3 profiles (mastodon,gotosocial,mastodon) for 2 Mastodon "
        "instances: give one profile for all, or one per instance\n"
    )


def test_crowd_preview_spreads_mastodon_people_over_instances():
    args = ["sandbox", "crowd", str(QUESTIONS), "--seed", "4", "--participants", "30"]
    alone = CliRunner().invoke(cli, args)
    spread = CliRunner().invoke(cli, [*args, "--mastodon-instances", "3"])
    assert spread.exit_code == 0, spread.output
    assert "mastodon instances" not in alone.output
    line = spread.output.splitlines()[-1]
    counts = [int(part.split()[1]) for part in line.split(": ", 1)[1].split("; ")[0].split(", ")]
    mastodon_people = int(spread.output.split(" on mastodon")[0].rsplit(" ", 1)[-1])
    assert len(counts) == 3 and sum(counts) == mastodon_people and min(counts) >= 1
    assert int(line.rsplit("; ", 1)[1].split()[0]) >= 1  # some post unlisted
