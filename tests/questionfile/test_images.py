"""Images in question files: the markup leaves the text, each file is checked per network."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from chatbot.media import BLUESKY_IMAGE_MAX_BYTES, sniff
from chatbot.questionfile import check_file
from chatbot.questionfile.images import take_images
from chatbot.questionfile.preview import preview_data, preview_table
from chatbot.questionfile.report import Report

NOW = datetime(2026, 11, 1, tzinfo=UTC)
IMAGES = Path(__file__).resolve().parent.parent / "data" / "questions" / "images"


def png(width: int, height: int, extra: int = 0) -> bytes:
    """A valid PNG of ``width`` x ``height``, padded past ``extra`` bytes with a private chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    padding = chunk(b"prVt", b"\x00" * extra) if extra else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + padding
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def write_file(folder: Path, body: str, networks: str = "[bluesky, mastodon]") -> Path:
    path = folder / "chat.md"
    path.write_text(
        "---\nhashtag: test1\ntitle: Test chat\nstart: 2027-06-01 12:00\n"
        f"timezone: Europe/Berlin\nnetworks: {networks}\n---\n" + body,
        encoding="utf-8",
    )
    return path


def messages(path: Path) -> list[str]:
    return [p.format() for p in check_file(path, now=NOW)[1]]


def test_the_markup_leaves_the_text_and_does_not_count_against_its_length(tmp_path):
    (tmp_path / "pic.png").write_bytes(png(30, 20))
    question = "x" * 286  # "Q1: " + 286 + " #test1" is exactly 300 graphemes
    path = write_file(tmp_path, f"Q1. {question} ![A grey square](pic.png)\n")
    plan, _ = check_file(path, now=NOW)
    assert plan is not None, messages(path)
    post = plan.posts[0]
    assert post.texts["bluesky"] == f"Q1: {question} #test1"
    (image,) = post.media
    shown = (image.alt, image.mime, image.width, image.height)
    assert shown == ("A grey square", "image/png", 30, 20)
    assert image.file == str((tmp_path / "pic.png").resolve())


def test_an_image_on_a_line_of_its_own_keeps_the_paragraph(tmp_path):
    (tmp_path / "pic.png").write_bytes(png(4, 4))
    path = write_file(tmp_path, "Q1. What do you\n![A grey square](pic.png)\nsee here?\n")
    plan, _ = check_file(path, now=NOW)
    assert plan is not None
    assert plan.posts[0].texts["mastodon"] == "Q1: What do you see here? #test1"


def test_a_reminder_does_not_repeat_the_question_s_image(tmp_path):
    (tmp_path / "pic.png").write_bytes(png(4, 4))
    path = write_file(tmp_path, "Q1. Why? ![A grey square](pic.png)\n").read_text()
    (tmp_path / "chat.md").write_text(path.replace("---\nQ1", "reminder: 3m\n---\nQ1"))
    plan, _ = check_file(tmp_path / "chat.md", now=NOW)
    assert plan is not None
    assert [(p.label, len(p.media)) for p in plan.posts] == [("Q1", 1), ("A1 reminder", 0)]


def test_an_image_over_bluesky_s_limit_is_refused_only_where_it_is_posted(tmp_path):
    (tmp_path / "big.png").write_bytes(png(8, 8, extra=BLUESKY_IMAGE_MAX_BYTES))
    body = "Q1. Look! ![A big grey square](big.png)\n"
    found = messages(write_file(tmp_path, body))
    assert len(found) == 1
    assert "chat.md:8:11: error:" in found[0]
    assert "Bluesky takes images of at most 1,000,000 bytes" in found[0]
    assert "fix: make it smaller" in found[0]
    plan, _ = check_file(write_file(tmp_path, body, networks="mastodon"), now=NOW)
    assert plan is not None and plan.posts[0].media[0].size > BLUESKY_IMAGE_MAX_BYTES


def test_the_type_comes_from_the_bytes_not_the_name(tmp_path):
    (tmp_path / "photo.png").write_bytes((IMAGES / "photo.jpg").read_bytes())
    plan, _ = check_file(write_file(tmp_path, "Q1. Look! ![An orange block](photo.png)\n"), now=NOW)
    assert plan is not None and plan.posts[0].media[0].mime == "image/jpeg"


def test_an_unreadable_image_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "folder.png").mkdir()
    found = messages(write_file(tmp_path, "Q1. Look! ![A folder](folder.png)\n"))
    assert len(found) == 1 and 'cannot read the image "folder.png"' in found[0]


def test_preview_shows_each_image_under_its_post():
    path = IMAGES.parent / "valid" / "images.md"
    plan, _ = check_file(path, now=NOW)
    assert plan is not None
    table = preview_table(plan)
    assert "[image] ../images/photo.jpg (JPEG 32x48, 653 bytes): An orange rectangle" in table
    data = preview_data(plan)
    images = [post["images"] for post in data["posts"]]  # type: ignore[attr-defined]
    assert [len(i) for i in images] == [1, 1, 2]
    assert images[2][1]["alt"] == "A WebP picture, [tiny]"


@given(st.binary(max_size=64))
def test_sniff_never_raises_on_any_bytes(data):
    info = sniff(data)
    assert info is None or (info.width > 0 and info.height > 0)


@given(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1))
def test_sniff_reads_a_png_s_size(width, height):
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", width, height)
    info = sniff(header + b"\x08\x02\x00\x00\x00")
    assert info is not None and (info.mime, info.width, info.height) == ("image/png", width, height)


def test_sniff_reads_every_kind_committed():
    found = {p.name: sniff(p.read_bytes()) for p in sorted(IMAGES.iterdir())}
    assert {name: (i.mime, i.width, i.height) if i else None for name, i in found.items()} == {
        "anim.gif": ("image/gif", 10, 10),
        "chart.png": ("image/png", 40, 30),
        "notes.png": None,
        "photo.jpg": ("image/jpeg", 32, 48),
        "pic.webp": ("image/webp", 20, 10),
    }


_WORDS = st.text(alphabet="abcdefghij XYZ.,'-", min_size=1, max_size=30).filter(str.strip)
_PATHS = st.from_regex(
    r"[a-z0-9_-]{1,12}(/[a-z0-9_-]{1,12}){0,2}\.(png|jpg|gif|webp)", fullmatch=True
)


@given(_WORDS, _WORDS, _PATHS, st.booleans())
def test_take_images_finds_the_image_and_leaves_the_words_around_it(before, alt, path, own_line):
    report = Report("x.md")
    markup = f"![{alt}]({path})"
    lines = [(7, before), (8, markup)] if own_line else [(7, f"{before} {markup} end")]
    kept, found = take_images(lines, dict(lines), report)
    assert report.problems == []
    assert [(i.alt, i.path, i.line) for i in found] == [(alt.strip(), path, 8 if own_line else 7)]
    assert kept == ([(7, before)] if own_line else [(7, f"{before.rstrip()} end")])
    assert all("![" not in text for _, text in kept)
