"""The conversation graph: people as circles, their links as lines, laid out at build time.

The layout is networkx's force-directed ``spring_layout`` (Fruchterman-Reingold)
with a fixed seed, and every coordinate is rounded, so the same chat draws the
same bytes. To stay readable with hundreds of participants the drawing keeps
the most connected people (``max_people``) and the heaviest links
(``max_links``), sizes circles by links in and out, and names only the
``labels`` busiest; the table beside it and the figures count everyone.
Every name is escaped; the SVG carries a title and a description.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

from .interactions import Link, Talk

__all__ = ["GraphFigure", "graph_svg"]

SEED = 35  # any fixed number: the same chat, the same picture


@dataclass(frozen=True, slots=True)
class GraphFigure:
    """The SVG and what it left out, for the caption."""

    svg: str
    people_drawn: int
    people_total: int
    links_drawn: int
    links_total: int
    labelled: tuple[str, ...]  # handles named on the drawing, busiest first


def _kept(talk: Talk, max_people: int, max_links: int) -> tuple[list[str], list[Link]]:
    degree = talk.degree()
    people = sorted(talk.people, key=lambda key: (-degree[key], key))[:max_people]
    chosen = set(people)
    links = [link for link in talk.links if link.source in chosen and link.target in chosen]
    return people, links[:max_links]


def _spring(whole: Any, nodes: list[str]) -> dict[str, tuple[float, float]]:
    """One connected component (``nodes``, sorted) laid out in [0, 1]².

    A graph of its own, nodes and edges added in sorted order: a networkx
    subgraph view may iterate a set, whose order changes from run to run.
    """
    import networkx as nx

    if len(nodes) == 1:
        return {nodes[0]: (0.5, 0.5)}
    if len(nodes) == 2:  # a pair: side by side, no layout needed
        return {nodes[0]: (0.0, 0.5), nodes[1]: (1.0, 0.5)}
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    edges = sorted(
        (min(a, b), max(a, b), data["weight"]) for a, b, data in whole.edges(nodes, data=True)
    )
    graph.add_weighted_edges_from(edges)
    spread = 1.8 / math.sqrt(len(nodes))  # the ideal distance between circles
    pos = nx.spring_layout(graph, k=spread, iterations=100, seed=SEED, weight="weight")
    xs = [float(pos[key][0]) for key in nodes]
    ys = [float(pos[key][1]) for key in nodes]
    x0, y0 = min(xs), min(ys)
    side = max(max(xs) - x0, max(ys) - y0) or 1.0
    return {
        key: ((float(pos[key][0]) - x0) / side, (float(pos[key][1]) - y0) / side) for key in nodes
    }


def _layout(
    people: list[str], weights: dict[tuple[str, str], int], aspect: float
) -> dict[str, tuple[float, float]]:
    """Positions in [0, aspect] x [0, 1], deterministic for the same input.

    Each group of people linked among themselves is laid out on its own and
    given a square cell sized by how many it holds, biggest first, packed in
    rows: two people who only talked with each other do not push the crowd
    into a corner.
    """
    import networkx as nx  # a second's import: only when a graph is drawn

    graph = nx.Graph()
    graph.add_nodes_from(sorted(people))
    for (a, b), weight in sorted(weights.items()):
        graph.add_edge(a, b, weight=math.log2(1 + weight))
    parts = [sorted(part) for part in nx.connected_components(graph)]
    parts.sort(key=lambda part: (-len(part), part[0]))
    sides = [math.sqrt(len(part)) for part in parts]
    # The row width that makes the packing about as wide as the drawing.
    area = sum(side * side for side in sides)
    row_width = max(max(sides), math.sqrt(area * aspect) * 1.1)
    cells: list[tuple[float, float, float]] = []  # x, y, side
    x = y = row_height = 0.0
    for side in sides:
        if x > 0 and x + side > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        cells.append((x, y, side))
        x += side
        row_height = max(row_height, side)
    total_w = max(cx + side for cx, _, side in cells)
    total_h = max(cy + side for _, cy, side in cells)
    scale = min(aspect / total_w, 1 / total_h)
    pad_x, pad_y = (aspect - total_w * scale) / 2, (1 - total_h * scale) / 2
    found: dict[str, tuple[float, float]] = {}
    for part, (cx, cy, side) in zip(parts, cells, strict=True):
        inner = 0.12 * side if len(part) > 1 else 0.0  # room between groups
        local = _spring(graph, part)
        for key, (px, py) in local.items():
            found[key] = (
                pad_x + (cx + inner + px * (side - 2 * inner)) * scale,
                pad_y + (cy + inner + py * (side - 2 * inner)) * scale,
            )
    return found


CHAR_W = 8.8  # 13px bold sans is narrower than this in the fonts browsers use
ASCENT, DESCENT = 14.0, 5.0  # a name's box around its baseline, with a pixel to spare


def _place(
    at: tuple[float, float],
    radius: float,
    chars: int,
    taken: list[tuple[float, float, float, float]],
    width: int,
    height: int,
) -> tuple[float, float, str] | None:
    """Where a name fits beside its circle without covering another name, if anywhere.

    Tried in turn: right, left, above, below; returns the baseline point and
    the text anchor.
    """
    x, y = at
    w = chars * CHAR_W
    gap = radius + 3
    tries = (
        (x + gap, y + 4, "start", x + gap),
        (x - gap, y + 4, "end", x - gap - w),
        (x, y - gap - DESCENT, "middle", x - w / 2),
        (x, y + gap + ASCENT, "middle", x - w / 2),
    )
    for tx, baseline, anchor, left in tries:
        box = (left, baseline - ASCENT, left + w, baseline + DESCENT)
        if box[0] < 2 or box[2] > width - 2 or box[1] < 2 or box[3] > height - 2:
            continue
        if any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in taken):
            continue
        taken.append(box)
        return tx, baseline, anchor
    return None


def graph_svg(
    talk: Talk,
    ident: str,
    title: str,
    *,
    max_people: int = 200,
    max_links: int = 800,
    labels: int = 15,
    width: int = 960,
    height: int = 640,
) -> GraphFigure:
    """Draw ``talk``; ``ident`` makes the SVG's ids unique in its page."""
    people, links = _kept(talk, max_people, max_links)
    weights: dict[tuple[str, str], int] = {}
    for link in links:
        pair = (min(link.source, link.target), max(link.source, link.target))
        weights[pair] = weights.get(pair, 0) + link.total
    degree = talk.degree()  # everyone's, drawn links or not: what the caption says
    named = sorted(people, key=lambda key: (-degree[key], key))[:labels]
    handles = tuple(talk.people[key].handle for key in named)
    desc = (
        f"{len(talk.people)} people linked by {sum(link.total for link in talk.links)} replies, "
        f"mentions and quotes"
    )
    if handles:
        desc += "; most connected: " + ", ".join("@" + handle for handle in handles[:5])
    out = [
        f'<svg class="graph" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}.</desc>',
    ]
    if people:
        margin = 24
        inner_w, inner_h = width - 2 * margin, height - 2 * margin
        box = _layout(people, weights, inner_w / inner_h)
        at = {key: (margin + x * inner_h, margin + y * inner_h) for key, (x, y) in box.items()}
        heaviest = max(weights.values(), default=1)
        busiest = max(degree.values(), default=1) or 1
        out.append('<g class="links">')
        for (a, b), weight in sorted(weights.items(), key=lambda item: (item[1], item[0])):
            (x1, y1), (x2, y2) = at[a], at[b]
            stroke = 0.6 + 3.4 * math.sqrt(weight / heaviest)
            out.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke-width="{stroke:.1f}"/>'
            )
        out.append('</g><g class="people">')
        radius = {key: 2.5 + 8 * math.sqrt(degree[key] / busiest) for key in people}
        for key in sorted(people, key=lambda key: (degree[key], key)):
            person = talk.people[key]
            x, y = at[key]
            who = f"@{person.handle}" + (f" ({person.name})" if person.name else "")
            out.append(
                f'<circle class="{escape(person.network)}" cx="{x:.1f}" cy="{y:.1f}" '
                f'r="{radius[key]:.1f}"><title>{escape(who)}: {degree[key]} links</title></circle>'
            )
        out.append('</g><g class="names" aria-hidden="true">')
        taken: list[tuple[float, float, float, float]] = []
        shown: list[str] = []
        for key in named:
            label = "@" + talk.people[key].handle
            place = _place(at[key], radius[key], len(label), taken, width, height)
            if place is None:
                continue  # no free room: the table names them
            x, y, anchor = place
            shown.append(talk.people[key].handle)
            out.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(label)}</text>'
            )
        handles = tuple(shown)
        out.append("</g>")
    out.append("</svg>")
    return GraphFigure(
        "".join(out), len(people), len(talk.people), len(links), len(talk.links), handles
    )
