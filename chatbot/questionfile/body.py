"""Reads the body: the Welcome, the numbered questions and the Wrap-up."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from chatbot.questionfile.images import RawImage, take_images
from chatbot.questionfile.report import Report, did_you_mean
from chatbot.questionfile.timing import MAX_DURATION, parse_duration

_HEADING = re.compile(
    r"^ {0,3}(#{1,6})[ \t]+(?P<title>.*?)[ \t]*(?:\[(?P<offset>[^\]]*)\])?[ \t]*$"
)
_SECTIONS = {
    "welcome": "welcome", "introduction": "welcome", "intro": "welcome",
    "questions": "questions", "question": "questions",
    "wrapup": "wrapup", "wrap up": "wrapup", "wrap-up": "wrapup", "closing": "wrapup",
}  # fmt: skip
_SECTION_TITLES = {"welcome": "Welcome", "questions": "Questions", "wrapup": "Wrap-up"}
# `Q3`, `q3`, `Q 3`, `Q2a` or a bare `3` / `2a`, then what follows the number.
_QUESTION = re.compile(r"^ {0,3}(?P<q>[Qq] ?)?(?P<num>\d{1,6})(?P<suf>[a-zA-Z]?)(?![\w])")
_AFTER_Q = re.compile(
    r"^[ \t]*(?:\[(?P<o1>[ \t]*[+\d][^\]]*)\])?[ \t]*(?P<p>[.:)]|[-–—](?=[ \t]))?"
    r"(?=[ \t]|$)[ \t]*(?:\[(?P<o2>[ \t]*[+\d][^\]]*)\])?[ \t]*(?P<text>.*)$"
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass
class RawQuestion:
    number: int
    suffix: str
    offset: timedelta | None
    line: int
    column: int
    lines: list[tuple[int, str]] = field(default_factory=list)
    text: str = ""
    images: list[RawImage] = field(default_factory=list)


@dataclass
class Section:
    name: str
    line: int
    offset: timedelta | None = None
    lines: list[tuple[int, str]] = field(default_factory=list)
    text: str = ""
    images: list[RawImage] = field(default_factory=list)


@dataclass
class Body:
    welcome: Section | None = None
    questions: list[RawQuestion] = field(default_factory=list)
    wrapup: Section | None = None


def parse_body(lines: list[tuple[int, str]], after_line: int, report: Report) -> Body:
    """Split the body into sections and questions; report every structural mistake."""
    lines = _without_comments(lines, report)
    originals = dict(lines)
    body = Body()
    sections: dict[str, Section] = {}
    current = Section("questions", after_line)
    preamble = current
    # Without a `## Questions` heading, the first question line ends the Welcome.
    implicit_questions = not any(_section_of(text) == "questions" for _, text in lines)
    for number, text in lines:
        _check_characters(number, text, report)
        heading = _HEADING.match(text)
        if heading:
            current = _open_section(heading, number, sections, report) or Section("ignored", number)
            continue
        if current.name == "welcome" and implicit_questions and _is_question_line(text):
            current = sections["questions"] = Section("questions", number)
        current.lines.append((number, text))
    question_sections = [preamble] + ([sections["questions"]] if "questions" in sections else [])
    for section in question_sections:
        body.questions.extend(_questions(section, originals, report))
    for name in ("welcome", "wrapup"):
        named = sections.get(name)
        if named is None:
            continue
        for number, text in named.lines:
            if _is_question_line(text):
                report.error(
                    number,
                    1,
                    f"a question is inside the {_SECTION_TITLES[name]} section",
                    "put a `## Questions` heading before the questions",
                )
                break
        kept, named.images = take_images(named.lines, originals, report)
        named.text = join_paragraphs(kept)
        if not named.text:
            report.error(
                named.line,
                1,
                f"the {_SECTION_TITLES[name]} section is empty",
                "write its text under the heading, or delete the heading",
            )
        setattr(body, name, named)
    if not body.questions:
        report.error(
            after_line,
            1,
            "no questions found",
            "write the questions as numbered lines: `Q1. ...`, `Q2. ...`",
        )
    _check_numbering(body.questions, report)
    return body


def _is_question_line(text: str) -> bool:
    """A line that can only be a question: ``Q`` + number + ``.``/``:``/``)``/`` - ``."""
    found = _QUESTION.match(text)
    after = _AFTER_Q.match(text[found.end() :]) if found else None
    return bool(found and found.group("q") and after and after.group("p"))


def _section_of(text: str) -> str | None:
    """The section a heading line opens (None for other lines and unknown headings)."""
    heading = _HEADING.match(text)
    if heading is None:
        return None
    key = " ".join(heading.group("title").strip().lower().replace(":", " ").split())
    return _SECTIONS.get(key) or _SECTIONS.get(key.replace(" ", ""))


def _without_comments(lines: list[tuple[int, str]], report: Report) -> list[tuple[int, str]]:
    # Blank out <!-- comments --> but keep line numbers: a comment spanning
    # lines leaves those lines empty.
    text = "\n".join(t for _, t in lines)
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    kept = list(zip((n for n, _ in lines), text.split("\n"), strict=True)) if lines else []
    for number, line in kept:
        if "<!--" in line:
            # Otherwise the moderator's private notes would be posted.
            report.error(
                number,
                line.index("<!--") + 1,
                "this comment is never closed",
                "end it with -->",
            )
            return [(n, t) for n, t in kept if n < number] + [(number, line[: line.index("<!--")])]
    return kept


def _check_characters(number: int, text: str, report: Report) -> None:
    for column, char in enumerate(text, start=1):
        # Only controls and lone surrogates: unassigned code points may be
        # emoji newer than this Python's Unicode tables.
        if char != "\t" and unicodedata.category(char) in ("Cc", "Cs"):
            report.error(
                number,
                column,
                f"invisible control character U+{ord(char):04X} in the text",
                "delete it; the file may not be plain text",
            )
            return


def _open_section(
    heading: re.Match[str], number: int, sections: dict[str, Section], report: Report
) -> Section | None:
    title = heading.group("title").strip()
    name = _section_of(heading.group(0))
    if name is None:
        hint = did_you_mean(title, ["Welcome", "Questions", "Wrap-up"])
        report.error(
            number,
            1,
            f'unknown section "{title}"{hint}',
            "the sections are ## Welcome, ## Questions and ## Wrap-up; "
            "notes to yourself go in <!-- comments -->",
        )
        return None
    if name in sections:
        report.error(
            number,
            1,
            f"a second {_SECTION_TITLES[name]} section "
            f"(the first is on line {sections[name].line})",
            "merge them into one",
        )
        return None
    section = Section(name, number)
    if heading.group("offset") is not None:
        column = heading.start("offset")
        if name != "wrapup":
            report.error(
                number,
                column,
                f"only the Wrap-up heading can have a time; the {_SECTION_TITLES[name]} has none",
                "remove the [...]",
            )
        else:
            section.offset = parse_offset(heading.group("offset"), number, column, report)
    sections[name] = section
    return section


def parse_offset(text: str, line: int, column: int, report: Report) -> timedelta | None:
    """Read ``+25m`` (time after the start); report anything else."""
    stripped = text.strip()
    delta = parse_duration(stripped[1:]) if stripped.startswith("+") else None
    if delta is None:
        report.error(
            line,
            column,
            f'"[{text}]" is not a time offset',
            "write the time after the start in brackets, e.g. [+25m] or [+1h05m]",
        )
        return None
    if delta > MAX_DURATION:
        report.error(
            line,
            column,
            f"[{text}] is more than 7 days after the start",
            "a chat's posts must all be within 7 days of its start",
        )
        return None
    return delta


def _questions(section: Section, originals: dict[int, str], report: Report) -> list[RawQuestion]:
    found: list[RawQuestion] = []
    for number, text in section.lines:
        start = _QUESTION.match(text)
        after = _AFTER_Q.match(text[start.end() :]) if start else None
        if start and after and not start.group("q") and not after.group("p"):
            after = None  # a bare number needs `.`, `:` or `)`: "2026 was" is text
        if start and after:
            offset_group = "o1" if after.group("o1") is not None else "o2"
            offset = None
            if after.group(offset_group) is not None:
                column = start.end() + after.start(offset_group)
                offset = parse_offset(after.group(offset_group), number, column, report)
            question = RawQuestion(
                int(start.group("num")),
                start.group("suf").lower(),
                offset,
                number,
                start.start("q" if start.group("q") else "num") + 1,
            )
            question.lines.append((number, after.group("text")))
            found.append(question)
        elif found:
            found[-1].lines.append((number, text))
        elif text.strip():
            report.error(
                number,
                1,
                "expected a numbered question here",
                "start each question with its number, e.g. `Q1. ...`; put other "
                "text under ## Welcome or ## Wrap-up",
            )
    for question in found:
        kept, question.images = take_images(question.lines, originals, report)
        question.text = join_paragraphs(kept)
        if not question.text:
            report.error(
                question.line,
                question.column,
                f"Q{question.number}{question.suffix} has no text",
                "write the question after its number",
            )
    return found


def join_paragraphs(lines: list[tuple[int, str]]) -> str:
    """Markdown-style: lines of a paragraph join with a space; blank lines split paragraphs.

    A line ending in a backslash keeps its line break.
    """
    paragraphs: list[str] = []
    current = ""
    for _, raw in lines:
        text = raw.strip()
        if not text:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        hard = text.endswith("\\")
        text = text[:-1].rstrip() if hard else text
        if current and not current.endswith("\n"):
            current += " "
        current += text + ("\n" if hard else "")
    if current:
        paragraphs.append(current)
    return "\n\n".join(p.rstrip("\n") for p in paragraphs if p.strip())


def _check_numbering(questions: list[RawQuestion], report: Report) -> None:
    seen: dict[tuple[int, str], int] = {}
    previous: tuple[int, str] | None = None
    for q in questions:
        label, key = f"Q{q.number}{q.suffix}", (q.number, q.suffix)
        fix = "number the questions Q1, Q2, Q3, ... in order (Q2a, Q2b for parts of Q2)"
        if key in seen:
            report.error(q.line, q.column, f"{label} appears twice (also on line {seen[key]})", fix)
        elif previous is None:
            if q.number != 1 or q.suffix not in ("", "a"):
                report.error(q.line, q.column, f"the first question is {label}; start with Q1", fix)
        else:
            number, suffix = previous
            next_letter = chr(ord(suffix) + 1) if suffix else "a"
            ok = (q.number == number and q.suffix == next_letter) or (
                q.number == number + 1 and q.suffix in ("", "a")
            )
            if not ok:
                expected = f"Q{number + 1}" + (f" or Q{number}{next_letter}" if suffix else "")
                if q.number < number or (q.number == number and q.suffix < suffix):
                    what = f"{label} comes after Q{number}{suffix}; questions must be in order"
                else:
                    what = f"{label} follows Q{number}{suffix}: expected {expected}"
                report.error(q.line, q.column, what, fix)
        seen.setdefault(key, q.line)
        previous = key
