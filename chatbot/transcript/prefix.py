"""Reads which question(s) a post says it answers: "A1: ...", "@bob A2 ...", "A 3 ...", "A1/A2"."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

__all__ = [
    "DEFAULT_LIMIT",
    "MARGIN",
    "PREFIX_HINT",
    "PrefixMatch",
    "fold",
    "labels",
    "read_prefixes",
]

# Questions a post may plausibly name beyond the known count (late Q9 from a
# moderator who improvised); also the bound when the count is unknown.
MARGIN = 2
DEFAULT_LIMIT = 30

# Confidence of each way of writing a prefix (the attribution layer uses them
# as the post's confidence). A later sentence or an inline "A2:" is a little
# less certain than a prefix opening the post; a participant's "Q3" usually
# means "about Q3" but is sometimes a quotation of the question itself.
CONF_START = 0.95
CONF_LATER = 0.9
CONF_INLINE = 0.85
Q_FACTOR = 0.85
_CONF = {"start": CONF_START, "sentence": CONF_LATER, "inline": CONF_INLINE}
_CONF_Q = {at: round(conf * Q_FACTOR, 2) for at, conf in _CONF.items()}
CONF_START_Q = _CONF_Q["start"]
# The spaced form with nothing but a space after it ("A 1 For us...") might
# still be English ("A 1 Time...", a capitalised unit the reader lets pass).
SPACED_PENALTY = 0.1
_CONF_SPACED = {at: round(conf - SPACED_PENALTY, 2) for at, conf in _CONF.items()}
CONF_START_SPACED = _CONF_SPACED["start"]
# The largest number the spaced form may name when the question count is
# unknown (no margin either way: "A 25 minute walk" is never an answer).
SPACED_LIMIT = 20


class PrefixMatch(NamedTuple):
    """One question reference found in a post; positions index the original text."""

    kind: str  # "A" (an answer) or "Q" (a participant naming the question)
    number: int
    suffix: str  # "" or a sub-question letter, lower case
    start: int  # the token, brackets included: text[start:end] == "(A1)"
    end: int
    body_start: int  # the answer text this reference introduces
    body_end: int
    confidence: float
    at: str  # "start" of the post, a later "sentence" or line, or "inline" ("A2:")

    @property
    def label(self) -> str:
        return f"Q{self.number}{self.suffix}"


def _build_fold() -> tuple[dict[int, str], re.Pattern[str]]:
    # Map every character whose NFKC form is a single ASCII character to it
    # (full-width "Ａ１", mathematical bold "𝐀𝟏", circled "①", superscripts).
    # One character for one keeps every position valid in the original text,
    # which whole-string NFKC would not ("…" becomes three characters).
    table: dict[int, str] = {0x3000: " "}
    ranges = ((0xA0, 0x2500), (0xFF00, 0xFFF0), (0x1D400, 0x1D800), (0x1F100, 0x1F200))
    for low, high in ranges:
        for code in range(low, high):
            norm = unicodedata.normalize("NFKC", chr(code))
            if len(norm) == 1 and norm.isascii() and norm != chr(code):
                table[code] = norm
    chars = "".join(re.escape(chr(code)) for code in sorted(table))
    return table, re.compile(f"[{chars}]")


_FOLD_TABLE, _FOLD_HINT = _build_fold()


def fold(text: str) -> str:
    """Return ``text`` with look-alike letters and digits made ASCII, same length."""
    if text.isascii() or _FOLD_HINT.search(text) is None:
        return text
    return text.translate(_FOLD_TABLE)


# What may stand before a prefix at the start of a post or sentence: spaces,
# @mentions (Mastodon's @user@host too), hashtags, emoji and punctuation.
# Possessive so a long run of mentions can never backtrack exponentially.
_LEAD = r"(?:\s|@[\w.\-]+|\#\w+|[^\w\s(\[])*+"
# The token itself: optional bracket, letter, optional single space, number,
# optional sub-question letter, and no letter or digit glued after it
# ("A10-year" fails later on its separator, "A1am" fails here).
_TOKEN = (
    r"(?P<open>[(\[])?(?P<kind>[AaQq])(?P<space>\x20?)(?P<num>[0-9]{1,3})"
    r"(?P<suf>[a-z]?)(?![A-Za-z0-9])(?P<close>[)\]])?"
)
_ITEM = r"[(\[]?[AaQq]\x20?[0-9]{1,3}[a-z]?(?![A-Za-z0-9])[)\]]?"
# More questions named in the same breath: "A1/A2", "A1 & A2", "A1, A2 and A3".
_MORE = rf"(?P<more>(?:\s*(?:/|&|\+|,|and)\s*{_ITEM})*)"
# What may follow (after the closing stars of "**A1**"): a colon, glued or
# not; a dash/dot run ending in a space or the end; plain space; the end; or
# an emoji. "A1.5" and "A10-year" fail here: the dot or dash is glued to a word.
_SEP = (
    r"(?P<sep>\**(?:\s*:\s*|\s*[.\-–—=>~,;|]+(?:\s+|$)|\s+|$"
    r"|(?=[\u2190-\u2BFF\U0001F000-\U0001FAFF])))"
)

# Every prefix contains this; a text without it (and all ASCII, so nothing to
# fold) has none. Public so a caller's hot loop can skip the call.
PREFIX_HINT = _HINT = re.compile(r"[AaQq]\x20?[0-9]")
_START = re.compile(_LEAD + _TOKEN + _MORE + _SEP)
# A later sentence or line: after . ! ? … and whitespace, or a line break.
# Starting with that character (not a lookbehind) lets the engine skip fast.
_LATER = re.compile(r"[.!?…\n](?P<cut>)(?:(?<=\n)|(?=\s))" + _LEAD + _TOKEN + _MORE + _SEP)
# Mid-sentence only in the unmistakable "A2:" form, and only in a post that
# already opened with a prefix ("A1: yes A2: no").
_INLINE = re.compile(r"\s(?=[(\[AaQq])" + _TOKEN + _MORE + r"(?P<sep>\s*:\s*)")
_ITEM_RE = re.compile(
    r"(?P<open>[(\[])?(?P<kind>[AaQq])(?P<space>\x20?)(?P<num>[0-9]{1,3})(?P<suf>[a-z]?)"
)
_WORD = re.compile(r"[A-Za-z]+")

# Words that turn "A1" into a thing rather than an answer ("A1 sauce is the
# best"), checked only when nothing but a space follows the token.
_NOT_ANSWERS = frozenset(
    {"sauce", "steak", "steaks", "paper", "papers", "size", "sized", "format", "road", "grade"}
)


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _plurals(words: str) -> frozenset[str]:
    singular = _words(words)
    return frozenset([*singular, *(w + "s" for w in singular), *(w + "es" for w in singular)])


# The spaced form "A 5 minute walk" is English when a lower-case unit or
# counter follows the number ("a 2 hour wait", "a 3 star review"): an answer's
# text starts a sentence of its own and is capitalised ("A 1 Time. It's...").
_UNITS = _plurals(
    "minute min hour hr day week month year yr second sec night weekend decade century "
    "percent pct star page point person man woman player member seater step stage level part "
    "piece way time course bed bedroom room door car seat wheel hole pack tier act phase "
    "letter word line digit figure inch foot feet meter metre mile km kg lb pound dollar euro "
    "cent degree click factor hit shot round game match set lap episode chapter volume book "
    "item question ish odd something am pm k m sided off liner"
)
# ...or when a linking word and another number follow: "a 1 in 10 chance",
# "a 2 for 1 deal", "a 9 to 5 job", "a 10 out of 10", "a 3 and a half".
_LINKS = _words("in of out to for on or and by per x from over plus than vs")
_A_LINKS = _words("in of and or")
_COUNTS = _words("half quarter of one two three four five six seven eight nine ten dozen")
_NEXT = re.compile(r"(?P<word>[A-Za-z]+)(?:\x20+(?P<then>[A-Za-z]+|[0-9]))?")
_SYMBOLS = frozenset("0123456789%°/×*+=^")


def _spaced_answer(text: str, end: int, number: int, limit: int) -> bool:
    """Whether "A 1" + space, ending at ``end``, opens an answer rather than English."""
    if number > limit:
        return False
    if end >= len(text):
        return True
    if text[end] in _SYMBOLS:  # "A 1 2 3", "A 5 % rise"
        return False
    following = _NEXT.match(text, end)
    if following is None:
        return True  # an emoji, a mention, a quote mark...
    word, then = following.group("word", "then")
    lower = word.lower()
    if lower in _NOT_ANSWERS:
        return False
    if not word.islower():
        return True
    if lower in _UNITS:
        return False
    if lower not in _LINKS or then is None:
        return True
    if then in ("a", "an"):  # "a 1 in a million", "a 3 and a half", not "a 1 for a team"
        return lower not in _A_LINKS
    return not (then.isdigit() or then in _COUNTS)


def _accept(match: re.Match[str], text: str, limit: int, spaced_limit: int) -> int:
    """0 to refuse a candidate, else 1 (the usual forms) or 2 (the bare spaced form)."""
    num, sep, space, close = match.group("num", "sep", "space", "close")
    number = int(num)
    if not 0 < number <= limit:
        return 0
    if sep and not sep.isspace():
        return 1
    # The spaced form ("A 1 For us...") followed by nothing but a space: only
    # an answer (not a question reference, not a sub-question) within the
    # question count, and only when the words after it are no English phrase.
    if space and not close:
        if match.group("suf") or match.group("kind") in "Qq":
            return 0
        return 2 if _spaced_answer(text, match.end(), number, spaced_limit) else 0
    if sep:
        word = _WORD.match(text, match.end())
        if word is not None and word.group().lower() in _NOT_ANSWERS:
            return 0
    return 1


_Raw = tuple[str, int, str, int, int, int, int, float, str]


def _emit(
    match: re.Match[str], text: str, limit: int, at: str, out: list[_Raw], form: int = 1
) -> None:
    # Plain tuples while collecting; PrefixMatch objects are made once, at the end.
    kind, open_, suffix, close = match.group("kind", "open", "suf", "close")
    kind = kind.upper()
    scale = _CONF_SPACED if form == 2 else _CONF
    conf = _CONF_Q[at] if kind == "Q" else scale[at]
    body = match.end()
    token_start = match.start("open") if open_ else match.start("kind")
    end = match.end("close") if close else match.end("suf")
    # Where this reference's sentence begins, ending the previous body (just
    # after the full stop of a later sentence, so the stop stays with it).
    cut = match.start("cut") if at == "sentence" else match.start()
    out.append((kind, int(match.group("num")), suffix, token_start, end, body, cut, conf, at))
    more_start, more_end = match.span("more")
    if more_start == more_end:
        return
    for item in _ITEM_RE.finditer(text, more_start, more_end):
        number = int(item.group("num"))
        if 1 <= number <= limit:
            item_kind = item.group("kind").upper()
            item_conf = _CONF_Q[at] if item_kind == "Q" else scale[at]
            start = item.start("open") if item.group("open") else item.start("kind")
            stop = item.end()
            if stop < more_end and text[stop] in ")]":
                stop += 1
            out.append(
                (item_kind, number, item.group("suf"), start, stop, body, cut, item_conf, at)
            )


def read_prefixes(
    text: str, max_number: int | None = None, *, hinted: bool = False
) -> tuple[PrefixMatch, ...]:
    """Find the questions ``text`` says it answers, in order, with positions.

    A prefix counts at the start of the post (after mentions, hashtags, emoji
    and punctuation) or at the start of a later sentence or line; mid-sentence
    only as "A2:" after an opening prefix. ``max_number`` is the number of
    questions when known: larger numbers beyond a small margin are not
    answers ("A10-year plan" in an 8-question chat). The spaced form with only
    a space after it ("A 1 For us...") names at most ``max_number`` (20 when
    unknown), is refused before a lower-case unit ("A 5 minute walk") or a
    linked number ("a 1 in 10 chance"), and is a little less certain.
    ``hinted``: the caller's hot loop found ``PREFIX_HINT`` in ``text``
    already, so it is not searched for again.
    """
    if hinted or _HINT.search(text) is not None:
        folded = fold(text)
    else:
        folded = fold(text)
        if folded is text or _HINT.search(folded) is None:
            return ()
    limit = DEFAULT_LIMIT if max_number is None else max_number + MARGIN
    spaced = SPACED_LIMIT if max_number is None else max_number
    found: list[_Raw] = []
    first = _START.match(folded)
    pos = 0
    if first is not None and (form := _accept(first, folded, limit, spaced)):
        pos = first.end()
        # Most posts name one question: look for more only if a candidate
        # follows (the later-sentence and inline scans cost far more).
        if _HINT.search(folded, pos) is None and first.start("more") == first.end("more"):
            return _single(first, folded, form)
        _emit(first, folded, limit, "start", found, form)
    again = _HINT.search(folded, pos) is not None
    if again:
        for later in _LATER.finditer(folded, pos):
            later_form = _accept(later, folded, limit, spaced)
            if later_form:
                _emit(later, folded, limit, "sentence", found, later_form)
    if not found:
        return ()
    extra: list[_Raw] = []
    if again:
        for inline in _INLINE.finditer(folded, pos):
            if inline.group("kind") in "Aa" and _accept(inline, folded, limit, spaced):
                _emit(inline, folded, limit, "inline", extra)
    if extra:
        seen = {raw[3] for raw in found}
        found.extend(raw for raw in extra if raw[3] not in seen)
        found.sort(key=_token_start)
    return _close_bodies(found, folded)


def _single(match: re.Match[str], text: str, form: int) -> tuple[PrefixMatch, ...]:
    # The hot path: one reference opening the post, its body running to the end.
    kind, open_, num, suffix, close = match.group("kind", "open", "num", "suf", "close")
    kind = kind.upper()
    start = match.start("open") if open_ else match.start("kind")
    end = match.end("close") if close else match.end("suf")
    body = match.end()
    stop = max(len(text.rstrip()), body)
    conf = CONF_START_Q if kind == "Q" else CONF_START_SPACED if form == 2 else CONF_START
    fields = (kind, int(num), suffix, start, end, body, stop, conf, "start")
    return (tuple.__new__(PrefixMatch, fields),)


def _token_start(raw: _Raw) -> int:
    return raw[3]


def _close_bodies(found: list[_Raw], text: str) -> tuple[PrefixMatch, ...]:
    # Each answer runs until the next group's cut; items of one "A1/A2" group
    # share a body. Trailing space is trimmed.
    make = tuple.__new__  # skips NamedTuple's Python-level __new__: this is the hot path
    if len(found) == 1:
        kind, number, suffix, start, end, body, _cut, conf, at = found[0]
        stop = max(len(text.rstrip()), body)
        return (make(PrefixMatch, (kind, number, suffix, start, end, body, stop, conf, at)),)
    result: list[PrefixMatch] = []
    stop = len(text)
    index = len(found) - 1
    while index >= 0:
        body = found[index][5]
        first = index
        while first > 0 and found[first - 1][5] == body:
            first -= 1
        end = stop
        while end > body and text[end - 1].isspace():
            end -= 1
        end = max(end, body)
        for raw in reversed(found[first : index + 1]):
            kind, number, suffix, start, token_end, _body, _cut, conf, at = raw
            result.append(
                make(PrefixMatch, (kind, number, suffix, start, token_end, body, end, conf, at))
            )
        stop = min(found[first][6], found[first][3])
        index = first - 1
    result.reverse()
    return tuple(result)


def labels(matches: tuple[PrefixMatch, ...]) -> tuple[str, ...]:
    """The distinct labels of ``matches``, in order."""
    if len(matches) == 1:
        return (matches[0].label,)
    return tuple(dict.fromkeys(m.label for m in matches))
