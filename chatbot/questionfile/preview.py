"""A plan as a table a moderator can read, or as JSON; used by `chatbot preview`."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chatbot.questionfile.model import EventPlan, PlannedPost
from chatbot.questionfile.render import length_of

SHORT_NAMES = {"bluesky": "bsky", "mastodon": "masto"}


def _zones(plan: EventPlan, extra: list[ZoneInfo]) -> list[ZoneInfo]:
    zones = [ZoneInfo(plan.timezone)]
    for zone in [*extra, ZoneInfo("UTC")]:
        if zone.key not in [z.key for z in zones]:
            zones.append(zone)
    return zones


def _when(moment: datetime, zone: ZoneInfo, event_start: datetime) -> str:
    local = moment.astimezone(zone)
    # A time on another calendar day than the chat's own start date says so.
    days = (local.date() - event_start.date()).days
    label = f"{local:%H:%M}" if zone.key == "UTC" else f"{local:%H:%M %Z}"
    return label + (f" {days:+d}d" if days else "")


def _lengths(plan: EventPlan, post: PlannedPost) -> str:
    limit = int(plan.settings.get("mastodon_limit", 500))  # type: ignore[call-overload]
    cells = []
    for network in plan.networks:
        length, most = length_of(network, post.texts[network], limit)
        cells.append(f"{SHORT_NAMES[network]} {length}/{most}" + (" OVER" if length > most else ""))
    return "  ".join(cells)


def preview_table(plan: EventPlan, zones: list[ZoneInfo] | None = None, width: int = 100) -> str:
    """Every post: label, time in each zone, lengths, then its text wrapped beneath."""
    all_zones = _zones(plan, zones or [])
    headers = ["POST"] + [z.key.upper() for z in all_zones] + ["LENGTH"]
    rows = [
        [post.label]
        + [_when(post.due_at, z, plan.start) for z in all_zones]
        + [_lengths(plan, post)]
        for post in plan.posts
    ]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    indent = " " * min(widths[0] + 2, 16)
    # With many zones the lengths no longer fit beside the times: they go on
    # their own line under each row instead.
    narrow = sum(widths) + 2 * len(widths) + max(len(r[-1]) for r in [headers, *rows]) > width
    if narrow:
        headers, widths = headers[:-1], widths[:-1]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, [*widths, 0], strict=True)).rstrip()

    start = plan.start
    title = f"#{plan.hashtag} · {plan.title} · {start:%a %Y-%m-%d %H:%M %Z} · " + ", ".join(
        plan.networks
    )
    out = [
        *textwrap.wrap(title, width),
        f"{len(plan.questions)} questions, {len(plan.posts)} posts; "
        f"ends {plan.end.astimezone(start.tzinfo):%H:%M %Z}",
        "",
        line(headers),
    ]
    for post, row in zip(plan.posts, rows, strict=True):
        out.append(line(row[:-1]) if narrow else line(row))
        if narrow:
            out.append(indent + row[-1])
        texts = {post.texts[n] for n in plan.networks}
        for network in plan.networks if len(texts) > 1 else plan.networks[:1]:
            prefix = f"[{network}] " if len(texts) > 1 else ""
            for paragraph in (prefix + post.texts[network]).split("\n"):
                wrapped = textwrap.wrap(
                    paragraph, width - len(indent), break_long_words=True, break_on_hyphens=False
                ) or [""]
                out.extend((indent + piece).rstrip() for piece in wrapped)
        for image in post.media:
            detail = f"{image.mime.removeprefix('image/').upper()} {image.width}x{image.height}"
            out.extend(
                textwrap.wrap(
                    f"[image] {image.path} ({detail}, {image.size:,} bytes): {image.alt}",
                    width,
                    initial_indent=indent,
                    subsequent_indent=indent + "  ",
                    break_on_hyphens=False,
                )
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def preview_data(plan: EventPlan, zones: list[ZoneInfo] | None = None) -> dict[str, object]:
    """The same as :func:`preview_table`, as JSON-ready data."""
    all_zones = _zones(plan, zones or [])
    limit = int(plan.settings.get("mastodon_limit", 500))  # type: ignore[call-overload]
    posts = []
    for post in plan.posts:
        lengths = {}
        for network in plan.networks:
            length, most = length_of(network, post.texts[network], limit)
            lengths[network] = {"length": length, "limit": most}
        posts.append(
            {
                "kind": post.kind,
                "label": post.label,
                "line": post.line,
                "due_at": post.due_at.astimezone(UTC).isoformat(),
                "times": {z.key: post.due_at.astimezone(z).isoformat() for z in all_zones},
                "texts": dict(post.texts),
                "lengths": lengths,
                "images": [
                    {k: v for k, v in image.as_dict().items() if k != "file"}
                    for image in post.media
                ],
            }
        )
    return {
        "path": plan.path,
        "hashtag": plan.hashtag,
        "title": plan.title,
        "timezone": plan.timezone,
        "start": plan.start.isoformat(),
        "networks": list(plan.networks),
        "notes": list(plan.notes),
        "posts": posts,
    }
