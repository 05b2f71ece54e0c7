"""How the sandbox server sends answers: heads with their bodies, streams' heads at once."""

import threading

import requests

from chatbot.sandbox.server import SandboxHTTPServer
from chatbot.sandbox.web import Response, SandboxApp, StreamResponse, json_response


def _app(event: threading.Event) -> SandboxApp:
    app = SandboxApp()

    def later(request):
        def chunks():
            while not event.wait(0.05):
                yield b""  # nothing yet
            yield b"data: late\n\n"

        return StreamResponse(chunks())

    app.router.add("GET", "/later", later)
    app.router.add("HEAD", "/thing", lambda r: json_response({"big": "x" * 5000}))
    app.router.add("GET", "/thing", lambda r: json_response({"big": "x" * 5000}))
    app.router.add("DELETE", "/thing", lambda r: Response(status=204))
    return app


def test_a_stream_sends_its_head_before_its_first_event():
    event = threading.Event()
    server = SandboxHTTPServer(_app(event)).start()
    try:
        # requests returns once the head has arrived; a held head would time out here.
        with requests.get(f"{server.url}/later", stream=True, timeout=5) as response:
            assert response.headers["Content-Type"] == "text/event-stream"
            event.set()
            assert next(response.iter_lines()) == b"data: late"
    finally:
        server.stop()


def test_one_connection_serves_bodies_heads_and_empty_answers_in_turn():
    with SandboxHTTPServer(_app(threading.Event())) as server, requests.Session() as session:
        url = f"{server.url}/thing"
        for _ in range(3):
            got = session.get(url, timeout=5)
            assert got.json() == {"big": "x" * 5000}
            head = session.head(url, timeout=5)
            assert head.status_code == 200
            assert head.headers["Content-Length"] == str(len(got.content))
            assert head.content == b""
            deleted = session.delete(url, timeout=5)
            assert (deleted.status_code, deleted.content) == (204, b"")
