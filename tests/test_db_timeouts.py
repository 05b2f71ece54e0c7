"""A PostgreSQL server that accepts connections and never answers: a clear error, soon."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from chatbot.cli import cli
from chatbot.db import POSTGRES_CONNECT_TIMEOUT, POSTGRES_STATEMENT_TIMEOUT, postgres_connect_args


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port where connections are accepted and nothing is ever said."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    listener.close()


def test_a_server_that_never_answers_is_a_clear_error(silent_server: int) -> None:
    url = f"postgresql+psycopg://bot@127.0.0.1:{silent_server}/chats?connect_timeout=1"
    result = CliRunner().invoke(cli, ["events", "--database-url", url])
    assert result.exit_code == 2
    assert "cannot use the database at postgresql+psycopg://bot@127.0.0.1:" in result.output
    assert "connection timeout expired; check that the database server is running" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_timeouts_unless_the_url_sets_its_own() -> None:
    assert postgres_connect_args({}) == {
        "connect_timeout": POSTGRES_CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={POSTGRES_STATEMENT_TIMEOUT * 1000}",
    }
    assert postgres_connect_args({"connect_timeout": "3"}) == {
        "options": f"-c statement_timeout={POSTGRES_STATEMENT_TIMEOUT * 1000}"
    }
    assert postgres_connect_args({"options": "-c search_path=x"}) == {
        "connect_timeout": POSTGRES_CONNECT_TIMEOUT
    }
