"""Plain status text to Mastodon's HTML: paragraphs, hashtag and mention links, linkified URLs."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import regex

# Mastodon's extractor patterns, simplified: a tag needs at least one letter or underscore
# (so "#1" is not a tag) and must not follow a word character, "=", "/" or ")" (so URL
# fragments and "a#b" are not tags). Mastodon also allows "·", "・" and ZWNJ inside a tag.
_TAG_MIDDLE = r"[[:word:]_\u00b7\u30fb\u200c]"
HASHTAG_RE = regex.compile(
    rf"(?<![=/)\p{{Alnum}}])#((?:[[:word:]_]{_TAG_MIDDLE}*)?[[:alpha:]_](?:{_TAG_MIDDLE}*[[:word:]_])?)",
    regex.IGNORECASE,
)
MENTION_RE = regex.compile(
    r"(?<![=/[:word:]])@(([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@([[:word:].-]+[[:word:]]+))?)",
    regex.IGNORECASE,
)
# Only URLs with a scheme are linked (Mastodon passes extract_url_without_protocol: false).
URL_RE = regex.compile(
    r"(?<![\w@$#/])(https?://[^\s<>\"'/?#]+(?:[/?#][^\s<>\"]*)?)", regex.IGNORECASE
)
_TRAILING_PUNCTUATION = ".,:;!?'\"*"
URL_PREFIX_RE = regex.compile(r"\Ahttps?://(www\.)?", regex.IGNORECASE)
URL_DISPLAY_CHARS = 30
CHARACTERS_RESERVED_PER_URL = 23
_ASCII_SPACE = " \t\n\v\f\r\0"  # what Ruby's String#strip removes


@dataclass(frozen=True)
class Entity:
    kind: str  # "url", "hashtag" or "mention"
    start: int
    end: int
    value: str  # the URL, the tag name, or the mention without "@"


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


def _trim_url(url: str) -> str:
    # A sentence's closing punctuation or an unbalanced ")" is not part of the link.
    while url and (
        url[-1] in _TRAILING_PUNCTUATION or (url[-1] == ")" and url.count("(") < url.count(")"))
    ):
        url = url[:-1]
    return url


def extract_entities(text: str) -> list[Entity]:
    """URLs, hashtags and mentions in ``text``, in order, never overlapping (URLs win)."""
    found: list[Entity] = []
    for match in URL_RE.finditer(text):
        url = _trim_url(match.group(1))
        if len(url) > len("https://"):
            found.append(Entity("url", match.start(1), match.start(1) + len(url), url))
    for match in HASHTAG_RE.finditer(text):
        found.append(Entity("hashtag", match.start(), match.end(), match.group(1)))
    for match in MENTION_RE.finditer(text):
        found.append(Entity("mention", match.start(), match.end(), match.group(1)))
    order = {"url": 0, "mention": 1, "hashtag": 2}
    found.sort(key=lambda e: (e.start, order[e.kind]))
    result: list[Entity] = []
    for entity in found:
        if result and entity.start < result[-1].end:
            continue
        result.append(entity)
    return result


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


def countable_length(text: str, spoiler_text: str = "") -> int:
    """Length as Mastodon's validator counts it: graphemes; a URL is 23; @user@host is @user."""
    pieces: list[str] = []
    last = 0
    for entity in extract_entities(text):
        if entity.kind == "hashtag":
            continue
        pieces.append(text[last : entity.start])
        if entity.kind == "url":
            pieces.append("x" * CHARACTERS_RESERVED_PER_URL)
        else:
            pieces.append("@" + entity.value.split("@")[0])
        last = entity.end
    pieces.append(text[last:])
    return len(regex.findall(r"\X", spoiler_text + "".join(pieces)))


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
