"""The recap's share image: a PNG card that link previews show (pure; drawn with Pillow).

Social sites show ``og:image`` when a recap's link is posted. The card names
the chat, its date and its headline counts (people, posts, questions) over a
small posts-per-minute strip. Pillow's PNG writer stores no time, so the same
recap gives the same bytes on the same Pillow.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont

__all__ = ["SHARE_IMAGE", "SHARE_SIZE", "share_png"]

SHARE_IMAGE = "share.png"
SHARE_SIZE = (1200, 630)  # what Facebook, Mastodon, Bluesky and X all crop well
BG, FG, MUTED, BAR, ACCENT = "#fbfaf7", "#1d1f23", "#545a64", "#3b79c3", "#b4400f"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):  # a Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _strip(times: Sequence[datetime], bars: int) -> list[int]:
    """Posts in ``bars`` equal slices of the chat's span (``times`` sorted)."""
    counts = [0] * bars
    if not times:
        return counts
    first, last = times[0], times[-1]
    span = max((last - first).total_seconds(), 1.0)
    for moment in times:
        index = min(int((moment - first).total_seconds() / span * bars), bars - 1)
        counts[index] += 1
    return counts


def share_png(
    title: str,
    subtitle: str,
    figures: Sequence[tuple[str, str]],
    times: Sequence[datetime],
) -> bytes:
    """A 1200×630 PNG: ``title``, ``subtitle``, up to four (value, label) ``figures``, a strip."""
    width, height = SHARE_SIZE
    image = Image.new("RGB", SHARE_SIZE, BG)
    draw = ImageDraw.Draw(image)
    margin = 64
    draw.rectangle((0, 0, 16, height), fill=ACCENT)
    draw.text((margin, 52), subtitle, fill=MUTED, font=_font(30))
    y = 104
    for line in textwrap.wrap(title, width=34)[:2]:
        draw.text((margin, y), line, fill=FG, font=_font(60))
        y += 74
    x = margin
    for value, label in list(figures)[:4]:
        draw.text((x, 300), value, fill=FG, font=_font(64))
        draw.text((x, 376), label, fill=MUTED, font=_font(28))
        x += 270
    counts = _strip(times, 96)
    peak = max(counts, default=0)
    if peak:
        left, bottom, strip_h = margin, height - 48, 130
        bar_w = (width - 2 * margin) / len(counts)
        for index, count in enumerate(counts):
            if count:
                top = bottom - max(count / peak * strip_h, 2)
                x0 = left + index * bar_w
                draw.rectangle((round(x0), round(top), round(x0 + bar_w) - 2, bottom), fill=BAR)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
