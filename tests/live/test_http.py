"""The live page over plain HTTP: who gets in, what a form needs, where it listens."""

from __future__ import annotations

import logging
import re
import socket
from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from chatbot.live.actions import DEFAULT_HIDE_REASON
from chatbot.live.app import CONTENT_SECURITY_POLICY
from chatbot.models import Event, Post, PostDelivery, ScheduledPost
from tests.export.util import post
from tests.live.chat import NOW, store
from tests.live.conftest import Live

PAGES = ["/", "/stream", "/static/live.js", "/static/live.css"]


def paused(live: Live) -> bool:
    with Session(live.engine) as session:
        event = session.get(Event, live.event_id)
        assert event is not None
        return event.paused


def csrf_of(client: httpx.Client) -> str:
    page = client.get("/")
    assert page.status_code == 200
    found = re.search(r'<meta name="csrf" content="([^"]+)">', page.text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("path", PAGES)
def test_no_token_is_forbidden(live: Live, path: str) -> None:
    with live.client() as client:
        answer = client.get(path)
    assert answer.status_code == 403
    assert "chatbot live" in answer.text
    assert "sm35" not in answer.text


def test_a_wrong_token_is_forbidden_and_gives_no_session(live: Live) -> None:
    token = live.server.url.split("token=", 1)[1]
    with live.client() as client:
        for wrong in ["", "x", token[:-1], token + "x", token.upper()]:
            answer = client.get("/", params={"token": wrong})
            assert answer.status_code == 403, wrong
            assert "set-cookie" not in answer.headers
        assert client.get("/").status_code == 403
        assert client.post("/act/pause", data={"csrf": "x"}).status_code == 403
    assert not paused(live)


def test_the_token_opens_a_session_and_leaves_the_address_bar(live: Live) -> None:
    with live.signed_in() as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "#sm35" in page.text
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["referrer-policy"] == "no-referrer"
        cookie = next(iter(client.cookies.jar))
        assert cookie.name == f"chatbot_live_{live.server.port}"
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert client.get("/static/live.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/static/nothing.js").status_code == 404


def test_a_post_without_the_csrf_token_is_forbidden(live: Live) -> None:
    origin = {"origin": f"http://127.0.0.1:{live.server.port}"}
    with live.signed_in() as client:
        csrf = csrf_of(client)
        assert client.post("/act/pause", headers=origin).status_code == 403
        assert client.post("/act/pause", data={"csrf": ""}, headers=origin).status_code == 403
        wrong = client.post("/act/pause", data={"csrf": csrf[:-2] + "zz"}, headers=origin)
        assert wrong.status_code == 403
        assert not paused(live)
        # A GET never acts.
        assert client.get("/act/pause", params={"csrf": csrf}).status_code == 405
        assert not paused(live)
        done = client.post("/act/pause", data={"csrf": csrf}, headers=origin)
        assert done.status_code == 303 and done.headers["location"] == "/"
        # Without the page's script, the page after the press says what it did, once.
        assert f"Paused #sm35 (event {live.event_id})" in client.get("/").text
        assert "Paused #sm35" not in client.get("/").text
    assert paused(live)


@pytest.mark.parametrize(
    "headers",
    [{}, {"origin": "http://evil.example"}, {"origin": "http://127.0.0.1:1"}, {"origin": "null"}],
)
def test_a_post_from_another_origin_is_forbidden(live: Live, headers: dict[str, str]) -> None:
    with live.signed_in() as client:
        csrf = csrf_of(client)
        answer = client.post("/act/pause", data={"csrf": csrf}, headers=headers)
    assert answer.status_code == 403
    assert not paused(live)


def test_another_session_s_csrf_token_does_not_work(live: Live) -> None:
    origin = {"origin": f"http://127.0.0.1:{live.server.port}"}
    with live.signed_in() as first, live.signed_in() as second:
        theirs = csrf_of(first)
        assert theirs != csrf_of(second)
        assert second.post("/act/pause", data={"csrf": theirs}, headers=origin).status_code == 403
    assert not paused(live)


def test_a_press_answers_json_to_the_page_script_with_what_the_cli_prints(live: Live) -> None:
    headers = {"origin": f"http://127.0.0.1:{live.server.port}", "accept": "application/json"}
    with live.signed_in() as client:
        csrf = csrf_of(client)
        done = client.post("/act/skip", data={"csrf": csrf, "post": "Q1"}, headers=headers)
        assert done.status_code == 200
        assert done.json()["ok"] is False
        assert "already out on bluesky (posted) and mastodon (posted)" in done.json()["message"]
        done = client.post("/act/pause", data={"csrf": csrf}, headers=headers)
        assert done.json() == {
            "ok": True,
            "message": f"Paused #sm35 (event {live.event_id}) at 17:06:00 UTC: no more posts "
            f"until `chatbot resume {live.event_id}`. A post that falls due meanwhile goes out "
            "at the resume, or is skipped then if it is more than the late limit behind.",
        }
        bad = client.post("/act/explode", data={"csrf": csrf}, headers=headers)
        assert bad.json()["ok"] is False and "unknown action" in bad.json()["message"]


def test_another_host_name_is_forbidden(live: Live) -> None:
    """A page on a rebound DNS name reaches 127.0.0.1 with its own Host: refused."""
    with live.signed_in() as client:
        answer = client.get("/", headers={"host": f"evil.example:{live.server.port}"})
    assert answer.status_code == 403


def _outside_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_it_listens_on_127_0_0_1_only(live: Live) -> None:
    assert live.server.url.startswith(f"http://127.0.0.1:{live.server.port}/?token=")
    assert live.server.address == f"http://127.0.0.1:{live.server.port}/"
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no address but loopback")
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(2)
        sock.connect((outside, live.server.port))


def test_the_token_is_never_logged(live: Live, caplog: pytest.LogCaptureFixture, capfd) -> None:
    token = live.server.url.split("token=", 1)[1]
    caplog.set_level(logging.DEBUG)
    with live.client() as client:
        client.get(live.server.url)
        client.get("/", params={"token": "wrong"})
    # The test's own client logs what it asks for; the server's loggers are the point.
    server_side = [
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    ]
    assert token not in "\n".join(server_side) + "".join(capfd.readouterr())


def _press(live: Live, client: httpx.Client, action: str, **fields: str) -> dict[str, object]:
    headers = {"origin": f"http://127.0.0.1:{live.server.port}", "accept": "application/json"}
    answer = client.post(
        f"/act/{action}", data={"csrf": csrf_of(client), **fields}, headers=headers
    )
    assert answer.status_code == 200
    result: dict[str, object] = answer.json()
    return result


def _due(live: Live, label: str) -> list[datetime]:
    with Session(live.engine) as session:
        rows = session.exec(
            select(PostDelivery)
            .join(ScheduledPost)
            .where(ScheduledPost.event_id == live.event_id, ScheduledPost.label == label)
        ).all()
        return sorted(row.due_at for row in rows)


def test_delay_and_post_now_move_the_schedule_as_the_commands_do(live: Live) -> None:
    before = _due(live, "wrapup")
    with live.signed_in() as client:
        bad = _press(live, client, "delay", duration="soon")
        assert bad == {
            "ok": False,
            "message": "'soon' is not a duration; write e.g. 5m, 90s or 1h30m "
            "(-5m: five minutes earlier)",
        }
        assert _due(live, "wrapup") == before
        done = _press(live, client, "delay", duration="5m")
        assert done["ok"] is True and str(done["message"]).startswith(
            "Delayed 2 posts of #sm35 by 5m"
        )
        assert _due(live, "wrapup") == [due + timedelta(minutes=5) for due in before]
        done = _press(live, client, "post-now", post="Q2")
        assert done == {
            "ok": True,
            "message": "Q2 of #sm35 is due now (17:06:00 UTC) on bluesky and mastodon.",
        }
        assert _due(live, "Q2") == [NOW, NOW]
        missing = _press(live, client, "post-now", post="")
        assert missing == {
            "ok": False,
            "message": "the form has no post; fill it in and press again",
        }


def test_hide_marks_the_post_with_the_reason_given(live: Live) -> None:
    store(live.engine, live.event_id, post(7, "buy now https://spam.example", author="zz"))
    uri = "at://did:plc:zz/app.bsky.feed.post/0000000000007"
    with live.signed_in() as client:
        assert "buy now" in client.get("/").text
        done = _press(live, client, "hide", post=uri, reason="  a sales pitch ")
        assert done == {"ok": True, "message": f"Hidden {uri} from exports."}
        assert "buy now" not in client.get("/").text
        again = _press(live, client, "hide", post=uri, reason="")
        assert again["ok"] is True
        unknown = _press(live, client, "hide", post="at://nobody/1", reason="x")
        assert unknown["ok"] is False and "no post 'at://nobody/1'" in str(unknown["message"])
        long = _press(live, client, "hide", post=uri, reason="r" * 5000)
        assert long == {
            "ok": False,
            "message": "the reason is 5,000 characters long; at most 1,000",
        }
    with Session(live.engine) as session:
        row = session.exec(select(Post).where(Post.uri == uri)).one()
        assert row.hidden_reason == DEFAULT_HIDE_REASON


def test_a_deleted_event_ends_the_stream_with_the_reason(live: Live) -> None:
    with live.signed_in() as client, client.stream("GET", "/stream") as stream:
        lines = stream.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: snapshot"
        with Session(live.engine) as session:
            event = session.get(Event, live.event_id)
            session.delete(event)
            session.commit()
        events = [line for line in lines if line.startswith(("event:", "data:"))]
    assert events[-2] == "event: gone"
    assert f"no event with id {live.event_id}" in events[-1]
    with live.signed_in() as client:
        page = client.get("/")
    assert page.status_code == 410 and f"no event with id {live.event_id}" in page.text


def test_no_repr_carries_the_token(live: Live) -> None:
    token = live.server.url.split("token=", 1)[1]
    with live.signed_in() as client:
        client.get("/")
    state = live.server._state
    assert token not in repr(live.server) + repr(state) + repr(state.gate)
    assert not any(session in repr(state) for session in state.gate._sessions)
