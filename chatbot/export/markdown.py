"""The Markdown transcript: per question, threaded, every post's text shown as written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import quote

from chatbot.export.mdtext import at_line_start, heading, inline
from chatbot.export.stream import counts_of
from chatbot.zones import zone_or_utc

_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)


def escape(text: str) -> str:
    """Post text (or a name) as Markdown that renders as written (see :mod:`.mdtext`)."""
    return inline(text)


def link(url: str, label: str) -> str:
    """``[label](url)`` for an http(s) URL (percent-encoded), else just ``label``."""
    if not url or not _SAFE_URL.match(url):
        return label
    return f"[{label}]({quote(url, safe=':/?#=&%@!$,;~+.-_')})"


def local_time(stamp: str | None, zone: tzinfo, day: date | None) -> str:
    """``HH:MM`` in ``zone``, with the day too when it is not the chat's ``day``."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp).astimezone(zone)
    except ValueError:
        return ""
    return moment.strftime("%H:%M" if moment.date() == day else "%Y-%m-%d %H:%M")


def _line(post: dict[str, Any], depth: int, zone: tzinfo, day: date | None) -> str:
    author = post["author"]
    name = escape(author["display_name"] or "")
    handle = escape("@" + author["handle"].lstrip("@"))
    who = f"**{name}** ({handle})" if name else f"**{handle}**"
    when = local_time(post["created_at"], zone, day)
    stamp = link(post["url"], when or "link")
    flags = [k for k in ("spam", "hidden", "edited") if post["flags"].get(k)]
    if post.get("method") == "assigned":
        flags.append("set by moderator")
    extra = f" _{', '.join(flags)}_" if flags else ""
    return f"{'  ' * depth}- {who} {stamp}{extra}: {escape(post['text'])}"


def _walk(
    uri: str,
    children: dict[str | None, list[tuple[str, str]]],
    depth: int,
) -> Iterator[str]:
    stack = [(post, depth) for post in reversed(children.get(uri, []))]
    while stack:
        (child, line), level = stack.pop()
        yield "  " * level + line
        stack.extend((post, level + 1) for post in reversed(children.get(child, [])))


def to_markdown(document: dict[str, Any]) -> str:
    """The transcript as Markdown: a section per question, replies nested under their parents."""
    return "".join(iter_markdown(document))


def iter_markdown(document: dict[str, Any]) -> Iterator[str]:
    """``to_markdown`` a line at a time; trailing blanks dropped as ``to_markdown`` drops them."""
    tail: list[str] = []  # the last line with text, and blank lines after it: held back
    for line in _markdown_lines(document):
        if line.strip() and tail:
            yield "\n".join(tail) + "\n"
            tail = []
        tail.append(line)
    yield "\n".join(tail).rstrip() + "\n"


def _markdown_lines(document: dict[str, Any]) -> Iterator[str]:
    event = document["event"]
    zone = zone_or_utc(event.get("timezone"))  # the transcript speaks the chat's local time
    start = datetime.fromisoformat(event["start"]).astimezone(zone) if event["start"] else None
    day = start.date() if start else None
    # Each post kept as its line (unindented) and where it hangs, not as the whole
    # post: the document's posts may be made afresh on each pass (a PostStream).
    children: dict[str | None, list[tuple[str, str]]] = {}
    heads: list[tuple[str, str, str | None, str]] = []  # uri, line, parent, question
    for post in document["posts"]:
        if post["is_question"]:
            continue
        item = (post["uri"], _line(post, 0, zone, day))
        children.setdefault(post["parent_uri"], []).append(item)
        heads.append((*item, post["parent_uri"], post["question"]))
    present = {uri for uri, *_ in heads}
    title = heading(f"#{event['hashtag']}: {event['title']}")
    when = f"{start:%Y-%m-%d %H:%M %Z}" if start else ""
    where = ", ".join(event["networks"])
    yield f"# {title}"
    yield ""
    yield at_line_start(f"{when} · {where} · times in {zone.key}")
    yield ""
    yield at_line_start(counts_of(document).phrase())
    sections: dict[str | None, list[tuple[str, str]]] = {}
    for uri, line, parent, question in heads:
        if parent is None or parent not in present:
            sections.setdefault(question, []).append((uri, line))
    del heads, present
    labels = [q["label"] for q in document["questions"]]
    for question in document["questions"]:
        yield from ("", f"## {heading(question['label'] + ': ' + question['text'])}", "")
        yield from _section(sections.get(question["label"], []), children)
    extra = [label for label in sections if label not in labels]
    for label in sorted(extra, key=lambda x: (x is None, x or "")):
        yield from ("", f"## {heading(label) if label else 'Other posts'}", "")
        yield from _section(sections[label], children)


def _section(
    roots: list[tuple[str, str]], children: dict[str | None, list[tuple[str, str]]]
) -> Iterator[str]:
    if not roots:
        yield "_No answers collected._"
        return
    for uri, line in roots:
        yield line
        yield from _walk(uri, children, 1)


__all__ = ["escape", "iter_markdown", "link", "to_markdown"]
