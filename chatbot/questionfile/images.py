"""Images in a post's text: ``![alt text](file.png)`` taken out of the text, then checked.

The markup is removed from the post (it never counts against its length);
the file, relative to the question file, is read once here to check what each
network will refuse: a missing or unreadable file, a type the networks don't
take (by its bytes), a size over a network's limit, alt text missing or too
long, more than four images on one post.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from chatbot.media import (
    IMAGE_LIMITS,
    MASTODON_DESCRIPTION_MAX,
    MAX_IMAGES,
    size_text,
    sniff,
)
from chatbot.questionfile.model import Image
from chatbot.questionfile.report import Report

# ![alt](path), ![alt](<path with spaces>), ![alt](path "title"); `\]` escapes in the alt.
_IMAGE = re.compile(
    r"!\[(?P<alt>(?:\\.|[^\\\]])*)\]"
    r"\([ \t]*(?:<(?P<angled>[^>\n]*)>|(?P<plain>[^\s()]*))"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'))?[ \t]*\)"
)
_UNFINISHED = re.compile(r"!\[")
_ESCAPE = re.compile(r"\\(.)")
_REMOTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^(?:data|mailto):")
ALT_FIX = "describe the image between the brackets, e.g. ![a bar chart of replies per hour](chart.png); people who use screen readers hear this text"  # noqa: E501


@dataclass(frozen=True)
class RawImage:
    """An image as written: where, its alt text and its path (not yet read)."""

    alt: str
    path: str
    line: int
    column: int


def take_images(
    lines: list[tuple[int, str]], originals: dict[int, str], report: Report
) -> tuple[list[tuple[int, str]], list[RawImage]]:
    """The lines with every image's markup removed, and the images in order.

    A line that held only images is dropped, not left blank (a blank line
    would split a paragraph).  ``originals`` are the file's lines by number,
    for the column of markup on a question's first line.
    """
    kept: list[tuple[int, str]] = []
    found: list[RawImage] = []
    for number, text in lines:
        original = originals.get(number, text)
        shift = max(original.find(text), 0) if text else 0
        matches = list(_IMAGE.finditer(text))
        for match in matches:
            alt = _ESCAPE.sub(r"\1", match.group("alt")).strip()
            angled = match.group("angled")
            path = (angled if angled is not None else match.group("plain") or "").strip()
            found.append(RawImage(alt, path, number, shift + match.start() + 1))
        covered = [range(m.start(), m.end()) for m in matches]
        for opening in _UNFINISHED.finditer(text):
            if not any(opening.start() in span for span in covered):
                report.error(
                    number,
                    shift + opening.start() + 1,
                    "this looks like an image but is not complete, so it would be posted as text",
                    "write an image as ![alt text](file.png), on one line",
                )
                break
        if not matches:
            kept.append((number, text))
            continue
        rest = _without(text, matches)
        if rest.strip():  # a line of images only is dropped, not left blank
            kept.append((number, rest))
    return kept, found


def _without(text: str, matches: list[re.Match[str]]) -> str:
    """``text`` without the markup; the spaces around each one become one (none at an end)."""
    rest = text[: matches[0].start()] if matches else text
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        following = text[match.end() : end]
        left, right = rest.rstrip(" \t"), following.lstrip(" \t")
        rest = left + (" " if left and right else "") + right
    return rest


def check_images(
    label: str,
    raw: list[RawImage],
    base: Path,
    networks: tuple[str, ...],
    report: Report,
    limits: dict[str, int] | None = None,
) -> tuple[Image, ...]:
    """Read and check each image of one post; the good ones, in order."""
    sizes = {**IMAGE_LIMITS, **(limits or {})}
    checked: list[Image] = []
    for index, image in enumerate(raw, start=1):
        where = (image.line, image.column)
        if index == MAX_IMAGES + 1:
            report.error(
                *where,
                f"{label} has {len(raw)} images; a post can carry at most {MAX_IMAGES}",
                "move the others to another post, or combine them into one image",
            )
        if index > MAX_IMAGES:
            continue
        good = _check_alt(label, image, networks, report)
        loaded = _read(image, base, networks, sizes, report)
        if loaded is not None and good:
            checked.append(loaded)
    return tuple(checked)


def _check_alt(label: str, image: RawImage, networks: tuple[str, ...], report: Report) -> bool:
    shown = image.path or "the image"
    if not image.alt:
        report.error(image.line, image.column, f"{shown} in {label} has no alt text", ALT_FIX)
        return False
    if "mastodon" in networks and len(image.alt) > MASTODON_DESCRIPTION_MAX:
        over = len(image.alt) - MASTODON_DESCRIPTION_MAX
        report.error(
            image.line,
            image.column,
            f"the alt text of {shown} is {len(image.alt):,} characters; Mastodon takes at "
            f"most {MASTODON_DESCRIPTION_MAX:,}: {over:,} over",
            "shorten it; put longer explanations in the post's text",
        )
        return False
    return True


def _read(
    image: RawImage,
    base: Path,
    networks: tuple[str, ...],
    sizes: dict[str, int],
    report: Report,
) -> Image | None:
    where = (image.line, image.column)
    if not image.path:
        report.error(*where, "the image has no file name", "write it in parentheses: (file.png)")
        return None
    if _REMOTE.match(image.path):
        report.error(
            *where,
            f'"{image.path}" is not a file: images are uploaded from files, not links',
            "download the image, save it next to the question file and write its file name",
        )
        return None
    file = (base / image.path).resolve()
    # Read no more than the largest limit allows (+1 to see it is over): a path
    # to a device or a huge file must not hang the check.
    most = max((sizes.get(n, 0) for n in networks), default=0) or max(sizes.values())
    try:
        if not file.is_file():
            raise IsADirectoryError(0, "not a file") if file.exists() else FileNotFoundError()
        with file.open("rb") as handle:
            data = handle.read(most + 1)
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else error.strerror
        report.error(
            *where,
            f'cannot read the image "{image.path}": {reason or error}',
            f"check the file name; it is relative to the question file's folder ({base})",
        )
        return None
    info = sniff(data)
    if info is None:
        report.error(
            *where,
            f'"{image.path}" is not a PNG, JPEG, GIF or WebP image (by its contents)',
            "save it as PNG or JPEG; the networks take no other kind of image",
        )
        return None
    bad = False
    for network in networks:
        limit = sizes.get(network)
        if limit is not None and len(data) > limit:
            name = {"bluesky": "Bluesky", "mastodon": "Mastodon"}.get(network, network)
            shown = size_text(len(data)) if len(data) <= most else f"over {size_text(most)}"
            report.error(
                *where,
                f'"{image.path}" is {shown}; {name} takes images of at most {size_text(limit)}',
                "make it smaller: fewer pixels, or saved as JPEG",
            )
            bad = True
    if bad:
        return None
    return Image(
        path=image.path,
        file=str(file),
        alt=image.alt,
        mime=info.mime,
        size=len(data),
        width=info.width,
        height=info.height,
        sha256=hashlib.sha256(data).hexdigest(),
        line=image.line,
        column=image.column,
    )
