"""``chatbot live`` as a user runs it: the address it prints works, Ctrl-C stops it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from chatbot.cli import cli
from tests.live.chat import live_chat

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_printed_address_opens_the_page_and_a_signal_stops_it(
    engine: Engine, database_url: str, stop: signal.Signals
) -> None:
    live_chat(engine)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHATBOT_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "live", "sm35"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Live page of event 1: http://127.0.0.1:")
        url = first.split(": ", 1)[1].strip()
        assert process.stdout.readline() == "Open it in a browser on this machine; Ctrl-C stops.\n"
        with httpx.Client(follow_redirects=True, timeout=10) as client:
            page = client.get(url)
        assert page.status_code == 200 and "#sm35" in page.text
        process.send_signal(stop)
        _, errors = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Traceback" not in errors
    assert url.split("token=", 1)[1] not in errors


def test_an_unknown_event_or_a_port_in_use_is_a_usage_error(engine: Engine, database_url: str):
    live_chat(engine)
    runner = CliRunner()
    result = runner.invoke(cli, ["live", "nope", "--database-url", database_url])
    assert result.exit_code == 2
    assert "no event" in result.output and "Traceback" not in result.output
    result = runner.invoke(cli, ["live", "sm35", "--port", "70000", "--database-url", database_url])
    assert result.exit_code == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = runner.invoke(
            cli, ["live", "sm35", "--port", str(port), "--database-url", database_url]
        )
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output


def test_with_json_the_address_is_one_json_document(engine: Engine, database_url: str) -> None:
    live_chat(engine)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHATBOT_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "live", "sm35", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]  # indented JSON: 4 lines
        found = json.loads("".join(lines))
        assert found["event_id"] == 1 and found["url"].startswith("http://127.0.0.1:")
        with httpx.Client(follow_redirects=True, timeout=10) as client:
            assert client.get(found["url"]).status_code == 200
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and rest == ""  # nothing but the document on stdout
    assert "Open it in a browser on this machine" in errors
