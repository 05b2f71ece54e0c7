"""Plain status text to Mastodon's HTML: paragraphs, hashtag and mention links, linkified URLs."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from urllib.parse import quote

import regex

from chatbot.text.mastodon import (
    CHARACTERS_RESERVED_PER_URL,
    Entity,
    countable_length,
    extract_entities,
)

URL_PREFIX_RE = regex.compile(r"\Ahttps?://(www\.)?", regex.IGNORECASE)
URL_DISPLAY_CHARS = 30
_ASCII_SPACE = " \t\n\v\f\r\0"  # what Ruby's String#strip removes


def escape(text: str) -> str:
    """HTML-escape as Rails' ``h()`` does (``'`` becomes ``&#39;``, as in the recordings)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def prepare_text(text: str) -> str:
    """What the server keeps of a posted text: stripped as Ruby's strip does, without NULs
    (PostgreSQL can't store them; Mastodon fails on them, the sandbox drops them)."""
    return text.replace("\0", "").strip(_ASCII_SPACE)


def is_blank(text: str) -> bool:
    """Rails' blank?: only Unicode White_Space (Python's isspace also counts \x1c-\x1f)."""
    return regex.fullmatch(r"[\p{White_Space}\0]*", text) is not None


def normalize_tag(name: str) -> str:
    """The form Mastodon files a hashtag under: NFKC, lower case, no leading '#'."""
    return unicodedata.normalize("NFKC", name.lstrip("#")).lower()


def hashtags(text: str) -> list[str]:
    """Distinct normalised tag names in order of first use."""
    names: list[str] = []
    for entity in extract_entities(text):
        name = normalize_tag(entity.value) if entity.kind == "hashtag" else None
        if name and name not in names:
            names.append(name)
    return names


def mentions(text: str) -> list[str]:
    """Mentioned ``user`` or ``user@domain`` strings, in order, without duplicates."""
    seen: list[str] = []
    for entity in extract_entities(text):
        if entity.kind == "mention" and entity.value.lower() not in (s.lower() for s in seen):
            seen.append(entity.value)
    return seen


def _link_url(url: str) -> str:
    prefix_match = URL_PREFIX_RE.match(url)
    prefix = prefix_match.group(0) if prefix_match else ""
    rest = url[len(prefix) :]
    display, suffix = rest[:URL_DISPLAY_CHARS], rest[URL_DISPLAY_CHARS:]
    ellipsis = "ellipsis" if suffix else ""
    return (
        f'<a href="{escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{escape(prefix)}</span>'
        f'<span class="{ellipsis}">{escape(display)}</span>'
        f'<span class="invisible">{escape(suffix)}</span></a>'
    )


MentionResolver = Callable[[str], "tuple[str, str] | None"]  # "user[@domain]" -> (url, username)


def render_html(text: str, *, base_url: str, resolve_mention: MentionResolver | None = None) -> str:
    """Render plain ``text`` as Mastodon renders a local status's ``content``."""
    if is_blank(text):
        return ""
    out: list[str] = []
    last = 0
    for entity in extract_entities(text):
        out.append(escape(text[last : entity.start]))
        raw = text[entity.start : entity.end]
        if entity.kind == "url":
            out.append(_link_url(entity.value))
        elif entity.kind == "hashtag":
            href = f"{base_url}/tags/{quote(entity.value, safe='')}"
            out.append(
                f'<a href="{escape(href)}" class="mention hashtag" rel="tag">'
                f"#<span>{escape(entity.value)}</span></a>"
            )
        else:
            target = resolve_mention(entity.value) if resolve_mention else None
            if target is None:
                out.append(escape(raw))  # unknown accounts stay plain text, as on Mastodon
            else:
                url, username = target
                out.append(
                    f'<span class="h-card" translate="no"><a href="{escape(url)}" '
                    f'class="u-url mention">@<span>{escape(username)}</span></a></span>'
                )
        last = entity.end
    out.append(escape(text[last:]))
    return _paragraphs("".join(out))


def _paragraphs(html: str) -> str:
    """Rails' simple_format followed by dropping newlines, as Mastodon does."""
    html = regex.sub(r"\r\n?", "\n", html)
    parts = regex.split(r"\n\n+", html)
    while parts and parts[-1] == "":
        parts.pop()  # Ruby's split drops trailing empty fields
    paragraphs = [regex.sub(r"([^\n]\n)(?=[^\n])", r"\1<br />", part) for part in parts]
    return "".join(f"<p>{p}</p>" for p in paragraphs).replace("\n", "")


__all__ = [
    "CHARACTERS_RESERVED_PER_URL",
    "Entity",
    "countable_length",
    "escape",
    "extract_entities",
    "hashtags",
    "is_blank",
    "mentions",
    "normalize_tag",
    "prepare_text",
    "render_html",
]
