"""WebSocket routes of the sandbox HTTP layer, driven by the `websockets` client."""

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus
from websockets.sync.client import connect

from chatbot.sandbox.server import SandboxHTTPServer
from chatbot.sandbox.web import HttpError, SandboxApp, WebSocketClosed


def _echo(session):
    if session.request.arg("token") != "letmein":
        raise HttpError(401, "AuthRequired", "no token")
    session.accept()
    session.send(f"hello {session.request.path_params['name']}")
    while not session.closing.is_set():
        try:
            message = session.receive(timeout=0.1)
        except WebSocketClosed:
            return
        if message is not None:
            session.send(message.upper() if isinstance(message, str) else message[::-1])


@pytest.fixture
def server():
    app = SandboxApp()
    app.websocket("/echo/{name}", _echo)
    with SandboxHTTPServer(app) as running:
        yield running


def _ws(server, path):
    return server.url.replace("http://", "ws://") + path


def test_messages_go_both_ways(server):
    with connect(_ws(server, "/echo/ada?token=letmein"), open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "hello ada"
        socket.send("text")
        assert socket.recv(timeout=5) == "TEXT"
        socket.send(b"\x01\x02")
        assert socket.recv(timeout=5) == b"\x02\x01"


def test_a_handler_can_refuse_the_handshake_with_an_http_error(server):
    with pytest.raises(InvalidStatus) as refused:
        connect(_ws(server, "/echo/ada"), open_timeout=5)
    assert refused.value.response.status_code == 401
    assert b"no token" in refused.value.response.body


def test_unknown_paths_and_faults_refuse_or_drop_the_handshake(server):
    with pytest.raises(InvalidStatus) as missing:
        connect(_ws(server, "/nowhere"), open_timeout=5)
    assert missing.value.response.status_code == 404
    faults = f"{server.url}/_sandbox/faults"
    requests.post(faults, json={"rate": 1, "weights": {"bad_gateway": 1}}, timeout=5)
    with pytest.raises(InvalidStatus) as faulted:
        connect(_ws(server, "/echo/ada?token=letmein"), open_timeout=5)
    assert faulted.value.response.status_code == 502
    requests.post(faults, json={"rate": 0, "unreachable": True}, timeout=5)
    with pytest.raises((OSError, InvalidMessage)):  # reset before any answer
        connect(_ws(server, "/echo/ada?token=letmein"), open_timeout=5)


def test_stopping_the_server_closes_open_websockets(server):
    with connect(_ws(server, "/echo/ada?token=letmein"), open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "hello ada"
        server.stop()
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=5)
