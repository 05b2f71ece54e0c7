"""Renders the recap pages from a transcript document with Jinja2 (autoescaped, overridable)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from markupsafe import Markup

from chatbot.defaults import RECAP_SPLIT_AT as DEFAULT_SPLIT_AT
from chatbot.transcript.perf import gc_paused

from .data import Recap, build_recap, relink_threads
from .document import DocPost, RecapExtras
from .graph import GraphFigure, graph_svg
from .pages import PAGE_BUDGET, PAGE_LIMIT, anchor_pages, paginate, recut
from .sanitise import bluesky_html, mastodon_html, public_url
from .share import SHARE_IMAGE, share_png
from .svg import timeline_svg

__all__ = [
    "DEFAULT_SPLIT_AT",
    "content_security_policy",
    "environment",
    "render_files",
    "render_recap",
    "render_site",
    "site_files",
    "write_recap",
]

MIN_BUDGET = 20_000  # estimated bytes: a page is never cut finer than this
NETWORK_NAMES = {"bluesky": "Bluesky", "mastodon": "Mastodon"}


def environment(templates: Path | str | None = None) -> Environment:
    """A Jinja2 environment: the organizer's ``templates`` folder first, then ours."""
    loaders: list[Any] = []
    if templates is not None:
        loaders.append(FileSystemLoader(str(templates)))
    loaders.append(PackageLoader("chatbot.recap", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        content=post_content,
        number=_number,
        decimal=_decimal,
        percent=_percent,
        duration=_duration,
        hours=_span,
        network=lambda name: NETWORK_NAMES.get(name, name.title()),
        safe_url=lambda url: public_url(url) or "",
        plural=_plural,
    )
    return env


def content_security_policy(css: str) -> str:
    """No scripts, no fetches, no frames: only our own inline style (by hash) and data: images."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def post_content(post: DocPost) -> Markup:
    """A post's content as safe HTML (sanitised Mastodon HTML, or escaped Bluesky text)."""
    if post.html is not None:
        return mastodon_html(post.html)
    return bluesky_html(post.text, post.facets)


def _number(value: int | float) -> str:
    return f"{value:,}"


def _decimal(value: float, places: int = 1) -> str:
    return f"{value:,.{places}f}"


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = round(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _span(hours: float) -> str:
    minutes = round(hours * 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


@dataclass(frozen=True, slots=True)
class Clock:
    """Times in the event's zone, for the templates."""

    zone: tzinfo

    def time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M")

    def date(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        return f"{local:%A} {local.day} {local:%B %Y}"

    def abbrev(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Z")

    def iso(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).isoformat(timespec="minutes")


# The coverage notes' words for each kind of reading (post_sighting.source).
SOURCE_NAMES = {
    "timeline": "the hashtag timeline",
    "search": "search",
    "thread": "threads",
    "stream": "the live stream",
    "check": "the final check",
    "account": "authors' own timelines",
    "import": "the imported archive",
}


def render_recap(
    document: Mapping[str, Any],
    extras: RecapExtras | None = None,
    *,
    templates: Path | str | None = None,
    split_at: int = DEFAULT_SPLIT_AT,
    generated_at: datetime | None = None,
    site_url: str | None = None,
) -> dict[str, str]:
    """The recap's pages: ``{"index.html": ..., "question-1.html": ...}`` (pure; no I/O).

    Past ``split_at`` shown posts, each question's answers go on a page of
    its own, linked from the main page.
    """
    files = render_files(
        document,
        extras,
        templates=templates,
        split_at=split_at,
        generated_at=generated_at,
        site_url=site_url,
        share=False,
    )
    return {name: data.decode("utf-8") for name, data in files.items()}


def render_files(
    document: Mapping[str, Any],
    extras: RecapExtras | None = None,
    *,
    templates: Path | str | None = None,
    split_at: int = DEFAULT_SPLIT_AT,
    generated_at: datetime | None = None,
    site_url: str | None = None,
    share: bool = True,
) -> dict[str, bytes]:
    """Every file of the recap as bytes: the pages and (with ``share``) the share image."""
    return render_site(
        document,
        extras,
        templates=templates,
        split_at=split_at,
        generated_at=generated_at,
        site_url=site_url,
        share=share,
    )[1]


def render_site(
    document: Mapping[str, Any],
    extras: RecapExtras | None = None,
    *,
    templates: Path | str | None = None,
    split_at: int = DEFAULT_SPLIT_AT,
    generated_at: datetime | None = None,
    site_url: str | None = None,
    share: bool = True,
) -> tuple[Recap, dict[str, bytes]]:
    """The recap's figures and every file of it, from one pass over the document."""
    recap, files = site_files(
        document,
        extras,
        templates=templates,
        split_at=split_at,
        generated_at=generated_at,
        site_url=site_url,
        share=share,
    )
    found = dict(files)
    # index.html first, as it is linked first; then the question pages in order.
    return recap, {name: found[name] for name in sorted(found, key=lambda n: n != "index.html")}


def site_files(
    document: Mapping[str, Any],
    extras: RecapExtras | None = None,
    *,
    templates: Path | str | None = None,
    split_at: int = DEFAULT_SPLIT_AT,
    generated_at: datetime | None = None,
    site_url: str | None = None,
    share: bool = True,
) -> tuple[Recap, Iterator[tuple[str, bytes]]]:
    """The recap's figures, and its files one at a time as each is rendered.

    A question's pages come as soon as they are final, so a writer holds one
    question's pages at a time, never the whole site; ``index.html`` comes
    after them (it links to the pages the posts ended up on), then the share image.
    """
    with gc_paused():  # tens of thousands of small objects, no cycles among them
        recap = build_recap(document, extras, split_at=split_at)

    def files() -> Iterator[tuple[str, bytes]]:
        with gc_paused():
            for name, html in _render(recap, templates, generated_at, site_url):
                yield name, html.encode("utf-8")
            if share:
                yield SHARE_IMAGE, _share_image(recap)

    return recap, files()


def _figures(recap: Recap) -> list[tuple[str, str]]:
    s = recap.summary
    asked = sum(1 for section in recap.sections if section.label and not section.skipped)
    return [
        (f"{s.participants:,}", "people"),
        (f"{s.posts:,}", "posts"),
        (f"{asked:,}", "questions" if asked != 1 else "question"),
        (_percent(s.conversation_ratio), "conversation"),
    ]


def _share_image(recap: Recap) -> bytes:
    event = recap.event
    clock = Clock(event.zone)
    subtitle = f"#{event.hashtag} · {clock.date(event.start)}"
    return share_png(event.title or f"#{event.hashtag}", subtitle, _figures(recap), recap.times)


def _preview(recap: Recap, clock: Clock, site_url: str | None) -> dict[str, str]:
    """What a link preview shows: OpenGraph and Twitter-card fields."""
    event = recap.event
    s = recap.summary
    base = (public_url(site_url) or "").rstrip("/")
    base = base + "/" if base else ""
    return {
        "title": f"{event.title or '#' + event.hashtag} · #{event.hashtag}",
        "description": (
            f"Recap of the #{event.hashtag} chat on {clock.date(event.start)}: "
            f"{_plural(s.participants, 'person', 'people')}, {_plural(s.posts, 'post')}, "
            f"{_plural(sum(1 for x in recap.sections if x.label and not x.skipped), 'question')}."
        ),
        "image": base + SHARE_IMAGE,
        "image_alt": f"{event.title or '#' + event.hashtag}: "
        + ", ".join(f"{value} {label}" for value, label in _figures(recap)),
        "url": base,
    }


def _graphs(recap: Recap) -> dict[str, GraphFigure]:
    """The conversation graphs that name a group of at least three: "" is the whole chat's."""
    found: dict[str, GraphFigure] = {}
    if recap.talk.shows_a_group:
        found[""] = graph_svg(recap.talk, "graph", "Who replied to, mentioned or quoted whom")
    for label, talk in recap.talk_by_question.items():
        if talk.shows_a_group:
            found[label] = graph_svg(
                talk,
                f"graph-{label.lower()}",
                f"Who replied to, mentioned or quoted whom in {label}",
                max_people=60,
                max_links=240,
                labels=8,
                height=440,
            )
    return found


def _render(
    recap: Recap,
    templates: Path | str | None,
    generated_at: datetime | None,
    site_url: str | None,
) -> Iterator[tuple[str, str]]:
    env = environment(templates)
    clock = Clock(recap.event.zone)
    css = env.get_template("recap.css").render()
    preview = _preview(recap, clock, site_url)
    common = {
        "recap": recap,
        "event": recap.event,
        "lang": recap.event.language,
        "clock": clock,
        "css": Markup(css),
        "csp": content_security_policy(css),
        "generated_at": generated_at,
        "slug_of": {section.label: section.slug for section in recap.sections},
        "preview": preview,
        "source_names": SOURCE_NAMES,
    }
    common["graphs"] = _graphs(recap)
    marks = [(q.label, q.posted_at) for q in recap.questions if q.posted_at is not None]
    chart = Markup(timeline_svg(recap.times, marks, clock.zone, start=recap.event.start))
    index = env.get_template("index.html")

    def main_page() -> str:
        common["page_of"] = {s.label: s.page for s in recap.sections if s.page}
        common["anchor_page"] = anchor_pages(recap.sections)  # where each post is now
        return index.render(common, timeline=chart)

    index_page = main_page()
    moved = False
    if _too_big(index_page) and not recap.split:
        # The estimate let the threads stay on the main page; they did not fit.
        paginate(recap.sections, True)
        moved = True
    question = env.get_template("question.html")
    for section in recap.sections:
        budget = PAGE_BUDGET
        rendered: dict[str, str] = {}
        while section.pages:
            rendered = {
                name: question.render(
                    common,
                    section=section,
                    items=items,
                    number=number,
                    names=section.pages,
                    preview=_page_preview(preview, name),
                )
                for number, (name, items) in enumerate(
                    zip(section.pages, section.parts, strict=True), start=1
                )
            }
            if budget <= MIN_BUDGET or not any(map(_too_big, rendered.values())):
                break
            budget //= 2  # a page came out heavier than estimated: cut finer
            recut(section, budget)
            moved = True
        yield from rendered.items()
    if moved:
        relink_threads(recap)
        index_page = main_page()  # links to where the posts are now
    yield "index.html", index_page


def _page_preview(preview: dict[str, str], name: str) -> dict[str, str]:
    """The preview of one of the question pages: its own address, when the recap's is known."""
    return preview | {"url": preview["url"] + name if preview["url"] else ""}


def _too_big(html: str) -> bool:
    return len(html.encode("utf-8")) > PAGE_LIMIT


def write_recap(
    document: Mapping[str, Any],
    out_dir: Path | str,
    extras: RecapExtras | None = None,
    **options: Any,
) -> Path:
    """Render and write the recap into ``out_dir``; returns the path of ``index.html``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in render_files(document, extras, **options).items():
        (out / name).write_bytes(data)
    return out / "index.html"
