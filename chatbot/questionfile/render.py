"""Turns settings and questions into timed posts with their exact text, and checks lengths."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatbot.questionfile.body import Body
from chatbot.questionfile.model import Image, PlannedPost, PostKind
from chatbot.questionfile.reader import Settings
from chatbot.questionfile.report import Report, did_you_mean
from chatbot.questionfile.timing import format_duration
from chatbot.text.length import (
    BLUESKY_MAX_BYTES,
    BLUESKY_MAX_GRAPHEMES,
    bluesky_length,
    mastodon_length,
)

# Without a template of its own, a post gets the hashtag appended when its
# text does not already carry it (see docs/question-files.md).
DEFAULT_TEMPLATES = {
    "welcome": "{text}",
    "question": "{label}: {text}",
    "reminder": 'Reminder: answer {label} with "{answer_prefix} ..." and {hashtag}',
    "wrapup": "{text}",
}
_QUESTION_FIELDS = ("n", "label", "text", "hashtag", "title", "answer_prefix")
PLACEHOLDERS = {
    "welcome": ("text", "hashtag", "title"),
    "question": _QUESTION_FIELDS,
    "reminder": _QUESTION_FIELDS,
    "wrapup": ("text", "hashtag", "title"),
}
# Names moderators reach for first, and the placeholder they mean.
_ALIASES = {
    "number": "n",
    "num": "n",
    "question": "text",
    "tag": "hashtag",
    "answer": "answer_prefix",
}
NETWORK_NAMES = {"bluesky": "Bluesky", "mastodon": "Mastodon"}


@dataclass
class _Draft:
    kind: PostKind
    label: str
    number: int | None
    suffix: str
    offset: timedelta
    values: dict[str, str]
    line: int


def check_templates(settings: Settings, report: Report) -> dict[str, str]:
    """Validate the moderator's templates; return the ones that can be used."""
    usable: dict[str, str] = {}
    for kind, template in settings.templates.items():
        line, column = settings.where.get(f"templates.{kind}", (1, 1))
        allowed = PLACEHOLDERS[kind]
        try:
            pieces = list(string.Formatter().parse(template))
        except ValueError as error:
            report.error(
                line,
                column,
                f"the {kind} template has unbalanced braces ({error})",
                "placeholders look like {text}; write {{ or }} for a literal brace",
            )
            continue
        good = True
        for _, name, spec, conversion in pieces:
            if name is None:
                continue
            if name not in allowed or spec or conversion:
                shown = (
                    "{"
                    + name
                    + (f"!{conversion}" if conversion else "")
                    + (f":{spec}" if spec else "")
                    + "}"
                )
                alias = _ALIASES.get(name.lower())
                suggestion = (
                    f' (did you mean "{alias}"?)'
                    if alias in allowed
                    else did_you_mean(name, allowed)
                    if name not in allowed
                    else ""
                )
                report.error(
                    line,
                    column,
                    f"the {kind} template uses {shown}, which is not a placeholder{suggestion}",
                    "the placeholders here are " + ", ".join("{" + a + "}" for a in allowed),
                )
                good = False
        if good:
            usable[kind] = template
    return usable


def draft_posts(
    settings: Settings, body: Body, templates: dict[str, str], report: Report
) -> list[_Draft]:
    """Give every post its time offset from the start; report times out of order."""
    base = {"hashtag": "#" + (settings.hashtag or ""), "title": settings.title or ""}
    drafts: list[_Draft] = []
    for kind, section, title in (
        ("welcome", body.welcome, "Welcome"),
        ("wrapup", body.wrapup, "Wrap-up"),
    ):
        if section is None and "{text}" in templates.get(kind, ""):
            report.error(
                *settings.where.get(f"templates.{kind}", (1, 1)),
                f"the {kind} template uses {{text}} but there is no ## {title} section",
                "add the section, or write the whole text in the template",
            )
    if body.welcome is not None or "welcome" in templates:
        text = body.welcome.text if body.welcome else ""
        line = body.welcome.line if body.welcome else settings.where.get("templates", (1, 1))[0]
        drafts.append(
            _Draft("welcome", "welcome", None, "", timedelta(0), base | {"text": text}, line)
        )
    interval, reminder = settings.interval, settings.reminder
    previous: _Draft | None = drafts[-1] if drafts else None
    question_offsets: list[timedelta] = []
    for q in body.questions:
        label, n = f"Q{q.number}{q.suffix}", f"{q.number}{q.suffix}"
        if q.offset is not None:
            offset = q.offset
            if previous is not None and offset <= previous.offset:
                report.error(
                    q.line,
                    q.column,
                    f"{label} at +{format_duration(offset)} is not after {previous.label} "
                    f"(+{format_duration(previous.offset)})",
                    "offsets count from the start and must increase",
                )
        elif question_offsets:
            offset = question_offsets[-1] + interval
        else:
            offset = interval if drafts else timedelta(0)
        values = base | {"n": n, "label": label, "text": q.text, "answer_prefix": f"A{n}"}
        draft = _Draft("question", label, q.number, q.suffix, offset, values, q.line)
        drafts.append(draft)
        question_offsets.append(offset)
        previous = draft
        if reminder is not None:
            drafts.append(
                _Draft(
                    "reminder",
                    f"A{n} reminder",
                    q.number,
                    q.suffix,
                    offset + reminder,
                    values,
                    q.line,
                )
            )
    _check_reminders(drafts, report)
    wrapup = body.wrapup
    if wrapup is not None or "wrapup" in templates:
        last = max((d.offset for d in drafts), default=timedelta(0))
        offset = question_offsets[-1] + interval if question_offsets else last + interval
        line = wrapup.line if wrapup else settings.where.get("templates", (1, 1))[0]
        if wrapup is not None and wrapup.offset is not None:
            offset = wrapup.offset
            if offset <= last:
                report.error(
                    wrapup.line,
                    1,
                    f"the Wrap-up at +{format_duration(offset)} is not "
                    f"after the last post (+{format_duration(last)})",
                    "give the Wrap-up a later time, or remove its [+...]",
                )
        elif offset <= last:
            offset = last + interval  # after the last reminder, one interval on
        text = wrapup.text if wrapup else ""
        drafts.append(_Draft("wrapup", "wrapup", None, "", offset, base | {"text": text}, line))
    return drafts


def _check_reminders(drafts: list[_Draft], report: Report) -> None:
    # A reminder that lands on or after the next question would answer the
    # wrong question in participants' timelines.
    for index, draft in enumerate(drafts):
        if draft.kind != "reminder":
            continue
        following = next((d for d in drafts[index + 1 :] if d.kind == "question"), None)
        if following is not None and draft.offset >= following.offset:
            report.error(
                following.line,
                1,
                f"the reminder for Q{draft.values['n']} (+{format_duration(draft.offset)}) "
                f"would not come before {following.label} (+{format_duration(following.offset)})",
                "use a shorter `reminder:` delay, or leave more time between the questions",
            )


def render(
    drafts: list[_Draft],
    settings: Settings,
    templates: dict[str, str],
    start_utc: datetime,
    mastodon_limit: int,
    report: Report,
    media: dict[int, tuple[Image, ...]] | None = None,
) -> list[PlannedPost]:
    """Fill the templates for every network and check each text's length there.

    ``media`` are the checked images by the line a post's text starts on; a
    reminder shares its question's line but carries no image.
    """
    posts: list[PlannedPost] = []
    hashtag = "#" + (settings.hashtag or "")
    missing_reported: set[str] = set()
    for draft in drafts:
        custom = templates.get(draft.kind)
        text = (custom or DEFAULT_TEMPLATES[draft.kind]).format(**draft.values).strip()
        if settings.hashtag and not has_hashtag(text, settings.hashtag):
            if custom is None:
                text = f"{text} {hashtag}".strip()
            elif draft.kind not in missing_reported:
                missing_reported.add(draft.kind)
                line, column = settings.where.get(f"templates.{draft.kind}", (draft.line, 1))
                report.error(
                    line,
                    column,
                    f"{draft.label} would be posted without {hashtag}: the "
                    f"{draft.kind} template leaves it out",
                    "add {hashtag} to the template; followers of the chat see only "
                    "posts that carry the hashtag",
                )
        texts = {network: text for network in settings.networks}
        for network, body in texts.items():
            for message, hint in length_problems(draft.label, network, body, mastodon_limit):
                report.error(draft.line, 1, message, hint)
        posts.append(
            PlannedPost(
                draft.kind,
                draft.label,
                draft.number,
                draft.suffix,
                start_utc + draft.offset,
                texts,
                draft.line,
                () if draft.kind == "reminder" else (media or {}).get(draft.line, ()),
            )
        )
    posts.sort(key=lambda p: p.due_at)
    return posts


def has_hashtag(text: str, tag: str) -> bool:
    """True when ``#tag`` stands in ``text`` as a whole hashtag (any letter case)."""
    return re.search(rf"(?<![\w#&])#{re.escape(tag)}(?![\w])", text, re.IGNORECASE) is not None


def length_of(network: str, text: str, mastodon_limit: int) -> tuple[int, int]:
    """The ``(length, limit)`` a preview shows: graphemes on Bluesky, characters on Mastodon."""
    if network == "bluesky":
        return bluesky_length(text)[0], BLUESKY_MAX_GRAPHEMES
    return mastodon_length(text), mastodon_limit


def length_problems(
    label: str, network: str, text: str, mastodon_limit: int
) -> list[tuple[str, str]]:
    """Every way ``text`` is too long for ``network``, as (message, fix)."""
    name = "the welcome" if label == "welcome" else "the wrap-up" if label == "wrapup" else label
    what = name[0].upper() + name[1:]
    fix = f"shorten {name} by at least {{over}} {{unit}}"
    found: list[tuple[str, str]] = []
    if network == "bluesky":
        graphemes, size = bluesky_length(text)
        if graphemes > BLUESKY_MAX_GRAPHEMES:
            over = graphemes - BLUESKY_MAX_GRAPHEMES
            found.append(
                (
                    f"{what} is {graphemes} graphemes on Bluesky (limit "
                    f"{BLUESKY_MAX_GRAPHEMES}): {over} over",
                    fix.format(over=over, unit="characters") + " (the count includes the "
                    "label and the hashtag)",
                )
            )
        if size > BLUESKY_MAX_BYTES:
            over = size - BLUESKY_MAX_BYTES
            found.append(
                (
                    f"{what} is {size} bytes on Bluesky (limit {BLUESKY_MAX_BYTES} bytes "
                    f"of UTF-8): {over} over",
                    fix.format(over=over, unit="bytes") + "; emoji and non-Latin letters "
                    "take 2-4 bytes each",
                )
            )
    else:
        length = mastodon_length(text)
        if length > mastodon_limit:
            over = length - mastodon_limit
            found.append(
                (
                    f"{what} is {length} characters on Mastodon (limit {mastodon_limit}): "
                    f"{over} over",
                    fix.format(over=over, unit="characters") + ", or set max_characters: "
                    "{mastodon: N} if your instance allows more",
                )
            )
    return found
