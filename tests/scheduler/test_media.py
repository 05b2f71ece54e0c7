"""A question with an image goes out as real media with its alt text, once, on both networks."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlmodel import Session, select

from chatbot import db
from chatbot.bot.loading import load_event
from chatbot.bot.retry import RetryPolicy
from chatbot.bot.scheduler import BotService, RunOptions
from chatbot.errors import TransientError
from chatbot.models import PostDelivery, ScheduledPost, SchemaVersion
from chatbot.platforms import connect
from chatbot.platforms.base import Attachment
from chatbot.questionfile import load_plan
from chatbot.sandbox.runner import Sandbox
from tests.scheduler.conftest import (
    ROOT,
    Runner,
    bluesky_posts,
    credentials_for,
    load_chat,
    mastodon_posts,
    run_chat,
    sandbox_env,
)
from tests.scheduler.crashing_run import CRASHED

CRASHING = ("tests.scheduler.crashing_run", "1")

CHART = ROOT / "questions" / "images" / "replies-per-minute.png"
ALT = "A bar chart of replies per minute, peaking in the fourth minute"


def write_chat(folder: Path, start: str, extra: str = "") -> Path:
    (folder / "images").mkdir()
    shutil.copy(CHART, folder / "images" / "chart.png")
    path = folder / "media.md"
    path.write_text(
        f"---\nhashtag: media1\ntitle: Charts\nstart: {start}\ntimezone: UTC\ninterval: 1m\n"
        "---\n\nQ1. What story does this chart tell?\n"
        f"![{ALT}](images/chart.png)\n\nQ2. And without a chart?\n{extra}",
        encoding="utf-8",
    )
    return path


def load(engine: Any, sandbox: Any, folder: Path, extra: str = "") -> int:
    start = sandbox.clock.now() + timedelta(minutes=1)
    path = write_chat(folder, f"{start:%Y-%m-%d %H:%M}", extra)
    plan = load_plan(path, now=sandbox.clock.now())
    return load_event(engine, plan, source_path=str(path)).event_id


def test_a_question_s_image_is_posted_with_its_alt_text_on_both_networks(
    engine, sandbox, make_service, tmp_path
):
    load(engine, sandbox, tmp_path)
    run_chat(make_service(), sandbox.clock, minutes=4)
    data = CHART.read_bytes()
    q1, q2 = bluesky_posts(sandbox).raw
    assert q1["text"] == "Q1: What story does this chart tell? #media1"
    (image,) = q1["embed"]["images"]
    assert image["alt"] == ALT
    ratio = image["aspectRatio"]
    assert (ratio["width"], ratio["height"]) == (320, 180)
    assert "embed" not in q2
    # What a reader sees: the AppView's view of the post, and the image behind it.
    view = sandbox.bluesky.post_view(q1["uri"])
    assert view is not None
    (shown,) = view["embed"]["images"]
    assert shown["alt"] == ALT and httpx.get(shown["fullsize"]).content == data
    first, second = mastodon_posts(sandbox).raw
    (attachment,) = first["media_attachments"]
    assert attachment["description"] == ALT and attachment["type"] == "image"
    assert httpx.get(attachment["url"]).content == data
    assert "![" not in first["content"] and second["media_attachments"] == []


class LoseFirstAnswer:
    """An adapter whose first post lands but whose answer is lost (a dropped connection)."""

    def __init__(self, inner: Any):
        self._inner, self.calls = inner, 0

    def post(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        ref = self._inner.post(*args, **kwargs)
        if self.calls == 1:
            raise TransientError("connection dropped after the post was sent")
        return ref

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_retry_after_a_lost_answer_uploads_again_but_never_posts_twice(engine, sandbox, tmp_path):
    load(engine, sandbox, tmp_path)
    creds = credentials_for(sandbox, tmp_path)
    adapters: dict[str, LoseFirstAnswer] = {}

    def platform(network: str) -> Any:
        if network not in adapters:
            adapters[network] = LoseFirstAnswer(connect(network, creds, clock=sandbox.clock.now))
        return adapters[network]

    service = BotService(
        engine,
        platform,
        clock=sandbox.clock,
        options=RunOptions(policy=RetryPolicy(base=1, cap=4, max_wait=30, max_attempts=5)),
        out=lambda line: None,
    )
    run_chat(service, sandbox.clock, minutes=4)
    assert all(adapter.calls == 3 for adapter in adapters.values())  # Q1 twice, Q2 once
    blue, masto = bluesky_posts(sandbox).raw, mastodon_posts(sandbox).raw
    assert [len(p.get("embed", {}).get("images", [])) for p in blue] == [1, 0]
    assert [len(s["media_attachments"]) for s in masto] == [1, 0]
    # Q1's second try uploaded its image again; the key gave back the first status,
    # so that second upload stays unattached.
    uploads = sandbox.mastodon.media.uploads(sandbox.bot_ids["mastodon"])
    assert [m.status_id for m in uploads] == [masto[0]["id"], None]
    with Session(engine) as session:
        states = {d.state for d in session.exec(select(PostDelivery))}
    assert states == {"posted"}


def test_an_image_changed_after_loading_fails_its_post_until_the_file_is_loaded_again(
    engine, sandbox, make_service, tmp_path
):
    load(engine, sandbox, tmp_path, extra="\nQ3 [+1h]: And later?\n")  # the chat runs on
    path = tmp_path / "media.md"
    other = ROOT / "tests" / "data" / "questions" / "images" / "chart.png"
    (tmp_path / "images" / "chart.png").write_bytes(other.read_bytes())
    service = make_service()
    run_chat(service, sandbox.clock, minutes=4)
    assert [p["text"] for p in bluesky_posts(sandbox).raw] == ["Q2: And without a chart? #media1"]
    with Session(engine) as session:
        q1 = session.exec(select(ScheduledPost).where(ScheduledPost.label == "Q1")).one()
        assert {d.state for d in q1.deliveries} == {"failed"}
        errors = [d.last_error or "" for d in q1.deliveries]
    assert all("has changed since the question file was loaded" in e for e in errors)
    assert any("chatbot load it again" in line for line in service.lines)
    assert len(mastodon_posts(sandbox).raw) == 1
    # Loading the file again records the image as it is now; Q1 goes out (late) with it.
    plan = load_plan(path, now=sandbox.clock.now(), allow_past=True)
    report = load_event(engine, plan, source_path=str(path))
    assert report.updated == 1
    run_chat(service, sandbox.clock, minutes=1)
    late = bluesky_posts(sandbox).raw[-1]
    assert late["text"].startswith("Q1: ") and len(late["embed"]["images"]) == 1
    status = mastodon_posts(sandbox).raw[-1]
    assert httpx.get(status["media_attachments"][0]["url"]).content == other.read_bytes()


def test_the_adapters_post_once_whatever_the_tries(sandbox, tmp_path):
    creds = credentials_for(sandbox, tmp_path)
    image = Attachment(str(CHART), ALT, "image/png", 320, 180)
    for network in ("bluesky", "mastodon"):
        platform = connect(network, creds, clock=sandbox.clock.now)
        first = platform.post("Q1: look #once", key="media-once-1", media=[image])
        again = platform.post("Q1: look #once", key="media-once-1", media=[image])
        assert again.uri == first.uri
    assert len(bluesky_posts(sandbox).raw) == 1 and len(mastodon_posts(sandbox).raw) == 1


def test_a_runner_killed_right_after_posting_an_image_is_recovered_without_a_double(
    engine, database_url, tmp_path
):
    # The first `chatbot run` exits the moment a network accepted its first post (the
    # question with the image) and before it is recorded; the next one finds the post
    # stuck in `posting` by a process that has ended, gives it back at once (or takes it
    # past its lease, a tenth of a real second here, whichever comes first), finishes it
    # (same key: no second post) and posts the rest.
    with Sandbox(seed=5, speed=60) as box:
        load(engine, box, tmp_path)
        env = sandbox_env(box, database_url, tmp_path)
        env["CHATBOT_CLAIM_TIMEOUT_SECONDS"] = "10"  # virtual: a sixth of a real second
        args = ("--until-done", "--no-collect", "--late-limit", "1d")
        crashing = Runner(env, tmp_path / "crash.log", *args, command=CRASHING)
        assert crashing.wait(timeout=60) == CRASHED, crashing.output()
        crashing.kill()
        final = Runner(env, tmp_path / "final.log", *args)
        assert final.wait(timeout=60) == 0, final.output()
        final.kill()
        blue, masto = bluesky_posts(box).raw, mastodon_posts(box).raw
    assert [len(p.get("embed", {}).get("images", [])) for p in blue] == [1, 0]
    assert [len(s["media_attachments"]) for s in masto] == [1, 0]
    said = final.output()
    assert "left in flight by a run that ended" in said or "recovered after a stop" in said


def test_an_upload_the_server_is_still_processing_is_waited_for(tmp_path):
    # Mastodon answers 202 (url null) for media it processes in the background; a status
    # may attach it only once it is done. Twenty sandbox seconds are a third of a real one.
    with Sandbox(seed=5, speed=60, networks=("mastodon",)) as box:
        box.mastodon.media.processing = timedelta(seconds=20)
        platform = connect("mastodon", credentials_for(box, tmp_path), clock=box.clock.now)
        image = Attachment(str(CHART), ALT, "image/png", 320, 180)
        platform.post("Q1: look #slow", key="media-slow-1", media=[image])
        (status,) = mastodon_posts(box).raw
    assert status["media_attachments"][0]["description"] == ALT


def test_migration_8_gives_the_posts_of_an_older_database_no_images(engine):
    load_chat(engine, datetime(2030, 1, 1, tzinfo=UTC), questions=1, networks=("mastodon",))
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE scheduled_post DROP COLUMN media"))
        connection.execute(SchemaVersion.__table__.delete())  # type: ignore[attr-defined]
        connection.execute(
            SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                version=7, description="coverage", applied_at=datetime(2030, 1, 1, tzinfo=UTC)
            )
        )
    assert db.migrate(engine) == db.latest_version() >= 8
    with Session(engine) as session:
        assert [p.media for p in session.exec(select(ScheduledPost))] == [[], [], []]
    assert db.migrate(engine) == db.latest_version()  # a second run changes nothing


def test_an_image_over_the_server_s_own_limit_fails_there_until_a_smaller_one_is_loaded(
    engine, sandbox, make_service, tmp_path
):
    # The bot's Mastodon server takes images of at most 200 bytes (it says so in
    # /api/v2/instance); Bluesky takes the 236-byte chart, Mastodon refuses it first.
    sandbox.mastodon.media.image_size_limit = 200
    load(engine, sandbox, tmp_path, extra="\nQ3 [+1h]: And later?\n")
    service = make_service()
    run_chat(service, sandbox.clock, minutes=4)
    assert len(bluesky_posts(sandbox).raw[0]["embed"]["images"]) == 1
    (only,) = mastodon_posts(sandbox).raw
    assert only["content"].startswith("<p>Q2: ")
    refused = [line for line in service.lines if "takes at most 200" in line]
    assert refused and "load the file again" in refused[0]
    small = ROOT / "tests" / "data" / "questions" / "images" / "chart.png"  # 103 bytes
    (tmp_path / "images" / "chart.png").write_bytes(small.read_bytes())
    path = tmp_path / "media.md"
    plan = load_plan(path, now=sandbox.clock.now(), allow_past=True)
    assert load_event(engine, plan, source_path=str(path)).updated == 1
    run_chat(service, sandbox.clock, minutes=1)
    late = mastodon_posts(sandbox).raw[-1]
    assert httpx.get(late["media_attachments"][0]["url"]).content == small.read_bytes()
    assert len(bluesky_posts(sandbox).raw) == 2  # Bluesky's Q1 and Q2, not posted again
