"""The recap's timeline: posts per minute as an inline, accessible SVG bar chart (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from html import escape

__all__ = ["timeline_svg"]

WIDTH, HEIGHT = 960, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 26, 30
MAX_BARS = 240  # past this many minutes, a bar covers several
NICE_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240)


def _bucket_minutes(span_minutes: float) -> int:
    for step in NICE_STEPS:
        if span_minutes / step <= MAX_BARS:
            return step
    return int(span_minutes // MAX_BARS) + 1


def _tick_minutes(span_minutes: float) -> int:
    for step in (5, 10, 15, 30, 60, 120, 240, 480):
        if span_minutes / step <= 8:
            return step
    return 1440


def _clock(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def timeline_svg(
    times: Sequence[datetime],
    marks: Sequence[tuple[str, datetime]],
    zone: tzinfo,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """An SVG of posts per minute (or per few minutes) with each question marked.

    ``times`` must be sorted. The chart runs from ``start`` (or the first
    post or mark) to ``end`` (or the last); labels are in ``zone``. Every
    text is escaped; the SVG has a title and a description for screen readers.
    """
    moments = list(times) + [when for _, when in marks]
    first = start or min(moments, default=None)
    last = end or max(moments, default=None)
    if first is None or last is None:
        return ""
    first = first.replace(second=0, microsecond=0)
    if moments:
        first = min(first, min(moments).replace(second=0, microsecond=0))
        last = max(last, max(moments))
    span = max((last - first).total_seconds() / 60, 1.0)
    step = _bucket_minutes(span)
    bars = int(span // step) + 1
    counts = [0] * bars
    for moment in times:
        index = int((moment - first).total_seconds() // (60 * step))
        if 0 <= index < bars:
            counts[index] += 1
    peak = max(counts, default=0)
    top = max(peak, 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    bar_w = plot_w / bars

    def x_at(moment: datetime) -> float:
        return LEFT + (moment - first).total_seconds() / (60 * step) * bar_w

    unit = "minute" if step == 1 else f"{step} minutes"
    peak_at = first + timedelta(minutes=step * counts.index(peak)) if peak else None
    desc = [f"{len(times)} posts from {_clock(first, zone)} to {_clock(last, zone)}"]
    if peak_at is not None:
        desc.append(f"busiest {unit}: {peak} posts at {_clock(peak_at, zone)}")
    desc += [f"{label} at {_clock(when, zone)}" for label, when in marks]
    out = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="timeline-title timeline-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="timeline-title">Posts per {escape(unit)}</title>',
        f'<desc id="timeline-desc">{escape("; ".join(desc))}.</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for index, count in enumerate(counts):
        if count:
            height = count / top * plot_h
            out.append(
                f'<rect class="bar" x="{LEFT + index * bar_w:.1f}" '
                f'y="{TOP + plot_h - height:.1f}" width="{max(bar_w - 1, 0.6):.1f}" '
                f'height="{height:.1f}"/>'
            )
    tick = _tick_minutes(span)
    local_first = first.astimezone(zone)
    offset = (-(local_first.hour * 60 + local_first.minute)) % tick
    moment = first + timedelta(minutes=offset)
    while moment <= last:
        x = x_at(moment)
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
            f"{_clock(moment, zone)}</text>"
        )
        moment += timedelta(minutes=tick)
    placed: list[float] = []
    for label, when in sorted(marks, key=lambda mark: mark[1]):
        x = x_at(when)
        row = 0 if not placed or x - placed[-1] > 30 else 1
        placed.append(x)
        out.append(
            f'<line class="mark" x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{TOP + plot_h}"/>'
        )
        out.append(
            f'<text class="mark-label" x="{x + 3:.1f}" y="{TOP - 10 + row * 12}">'
            f"{escape(label)}</text>"
        )
    out.append("</svg>")
    return "".join(out)
