"""Media uploads and attachments through the real Mastodon.py, refused as Mastodon refuses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from mastodon import MastodonAPIError

from chatbot.clock import ManualClock
from chatbot.sandbox.mastodon.media import NOT_READY
from tests.questionfile.test_images import png

IMAGES = Path(__file__).resolve().parents[2] / "data" / "questions" / "images"


def test_an_attached_image_shows_in_the_status_with_its_description(sandbox, alice):
    data = (IMAGES / "chart.png").read_bytes()
    media = alice.media_post(data, mime_type="image/png", description="A blue rectangle")
    assert media["url"] is not None
    status = alice.status_post("What colour is this? #sm35", media_ids=[media["id"]])
    (shown,) = status["media_attachments"]
    assert (shown["id"], shown["type"], shown["description"]) == (
        media["id"],
        "image",
        "A blue rectangle",
    )
    assert shown["meta"]["original"]["size"] == "40x30"
    assert httpx.get(shown["url"]).content == data
    again = alice.status(status["id"])
    assert again["media_attachments"][0]["url"] == shown["url"]


def test_a_status_of_images_only_needs_no_text(alice):
    media = alice.media_post(png(2, 2), mime_type="image/png", description="grey")
    status = alice.status_post("", media_ids=[media["id"]])
    assert len(status["media_attachments"]) == 1


def test_uploads_are_checked_like_mastodon_checks_them(sandbox, alice, bob):
    with pytest.raises(MastodonAPIError) as refused:
        alice.media_post(b"plain text", mime_type="image/png")
    assert refused.value.args[1] == 422 and "content type is invalid" in str(refused.value)
    sandbox.store.media.image_size_limit = 1000
    with pytest.raises(MastodonAPIError, match="file size must be less than"):
        alice.media_post(png(4, 4, extra=2000), mime_type="image/png")
    with pytest.raises(MastodonAPIError, match=r"maximum is 1500 characters"):
        alice.media_post(png(2, 2), mime_type="image/png", description="x" * 1501)
    ids = [alice.media_post(png(2, 2), mime_type="image/png")["id"] for _ in range(5)]
    with pytest.raises(MastodonAPIError, match="Cannot attach more than 4 files"):
        alice.status_post("five", media_ids=ids)
    with pytest.raises(MastodonAPIError, match="not found or already attached"):
        bob.status_post("not mine", media_ids=ids[:1])
    alice.status_post("mine", media_ids=ids[:1])
    with pytest.raises(MastodonAPIError, match="not found or already attached"):
        alice.status_post("again", media_ids=ids[:1])


def test_an_upload_still_processing_answers_202_then_206_until_it_is_ready(sandbox_factory):
    clock = ManualClock()
    sandbox = sandbox_factory(clock=clock)
    sandbox.store.media.processing = timedelta(seconds=30)
    api = sandbox.register("carol")
    media = api.media_post(png(2, 2), mime_type="image/png", description="grey")
    assert media["url"] is None
    with pytest.raises(MastodonAPIError, match=NOT_READY.split(".")[0]):
        api.status_post("too soon", media_ids=[media["id"]])
    response = httpx.get(
        f"{sandbox.url}/api/v1/media/{media['id']}",
        headers={"Authorization": f"Bearer {api.access_token}"},
    )
    assert response.status_code == 206 and response.json()["url"] is None
    clock.advance(seconds=31)
    assert api.media(media["id"])["url"] is not None
    assert api.status_post("now", media_ids=[media["id"]])["media_attachments"]
