"""uploadBlob and images embeds, through the real atproto client, refused as the PDS refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from atproto import exceptions as atx

from chatbot.media import BLUESKY_IMAGE_MAX_BYTES
from tests.questionfile.test_images import png

IMAGES = Path(__file__).resolve().parents[2] / "data" / "questions" / "images"


RATIO = {"width": 3, "height": 2}


def image_post(client: Any, blobs: list[Any], alt: str = "A grey square") -> Any:
    images = [
        {
            "alt": alt,
            "image": blob.model_dump(by_alias=True),
            "aspectRatio": {"width": 3, "height": 2},
        }
        for blob in blobs
    ]
    record = {
        "$type": "app.bsky.feed.post",
        "text": "look #sm35",
        "createdAt": "2027-01-01T00:00:00.000Z",
        "embed": {"$type": "app.bsky.embed.images", "images": images},
    }
    return client.com.atproto.repo.create_record(
        {"repo": client.me.did, "collection": "app.bsky.feed.post", "record": record}
    )


def test_an_uploaded_image_is_shown_with_its_alt_text_and_served(bsky):
    bsky.store.cdn_url = bsky.url
    client = bsky.client("ann.test")
    data = (IMAGES / "photo.jpg").read_bytes()
    blob = client.upload_blob(data).blob
    assert (blob.mime_type, blob.size) == ("image/jpeg", len(data))  # by content, not header
    assert str(blob.cid).startswith("bafkrei")
    created = image_post(client, [blob], alt="An orange block")
    view = client.app.bsky.feed.get_posts({"uris": [created.uri]}).posts[0]
    (shown,) = view.embed.images
    assert shown.alt == "An orange block"
    assert (shown.aspect_ratio.width, shown.aspect_ratio.height) == (3, 2)
    assert httpx.get(shown.fullsize).content == data
    thread = client.app.bsky.feed.get_post_thread({"uri": created.uri}).thread
    assert thread.post.embed.images[0].thumb == shown.thumb


def test_a_post_may_only_use_the_author_s_own_uploads(bsky):
    blob = bsky.client("ann.test").upload_blob(png(3, 2)).blob
    with pytest.raises(atx.BadRequestError) as refused:
        image_post(bsky.client("bob.test"), [blob])
    assert refused.value.response.content.error == "BlobNotFound"


def test_an_image_over_a_million_bytes_is_refused_when_posted(bsky):
    client = bsky.client("ann.test")
    blob = client.upload_blob(png(8, 8, extra=BLUESKY_IMAGE_MAX_BYTES)).blob
    with pytest.raises(atx.BadRequestError) as refused:
        image_post(client, [blob])
    assert refused.value.response.content.error == "BlobTooLarge"


def test_a_blob_that_is_not_an_image_is_refused_in_an_images_embed(bsky):
    client = bsky.client("ann.test")
    blob = client.upload_blob(b"just some text").blob
    with pytest.raises(atx.BadRequestError) as refused:
        image_post(client, [blob])
    assert refused.value.response.content.error == "InvalidMimeType"


def test_five_images_or_a_missing_alt_are_invalid_records(bsky):
    client = bsky.client("ann.test")
    blob = client.upload_blob(png(3, 2)).blob
    with pytest.raises(atx.BadRequestError) as refused:
        image_post(client, [blob] * 5)
    assert "must not have more than 4 elements" in refused.value.response.content.message
    record = {
        "$type": "app.bsky.feed.post",
        "text": "look",
        "createdAt": "2027-01-01T00:00:00.000Z",
        "embed": {
            "$type": "app.bsky.embed.images",
            "images": [{"image": blob.model_dump(by_alias=True)}],
        },
    }
    with pytest.raises(atx.BadRequestError) as refused:
        client.com.atproto.repo.create_record(
            {"repo": client.me.did, "collection": "app.bsky.feed.post", "record": record}
        )
    assert 'must have the property "alt"' in refused.value.response.content.message
