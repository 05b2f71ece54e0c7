"""Is a post that mentions the bot asking for a question, and which one? (pure)

A late joiner writes "@bot Q3?", "what's the current question?", "cuál es la
pregunta?"; the bot answers with the question.  Most posts that mention the
bot do not ask for anything ("thanks @bot!", "A3 @bot great chat"), and a
wrong reply in a live chat is worse than none, so a post counts as a request
only when *every* word of it belongs to the small vocabulary of such requests
(greetings, "please", "what is", "current", "question", a question label...)
once mentions, hashtags and links are taken out.  One word outside it ("Q3
was great") and the post is not a request.

:func:`parse_request` reads one post; :func:`pick_question` chooses the
question it asks for among those already posted; :func:`reply_text` writes
the answer.  Nothing here does I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

# "Q3", "q 12", "Q2a"; "question 3", "question #3", "question number 3", and the same
# in Spanish, French, German, Portuguese, Italian and Dutch.
_QUESTION_WORDS = ("question", "pregunta", "frage", "pergunta", "domanda", "vraag")
_NUMBER_WORDS = r"(?:number|no\.?|nr\.?|n[º°]\.?|núm(?:ero)?\.?|num(?:ero)?\.?|numéro|nummer)"
_LABEL = re.compile(
    r"(?<![\w#])(?:q\s?(?P<n>\d{1,3})(?P<s>[a-z]?)"
    rf"|(?:{'|'.join(_QUESTION_WORDS)})\s*(?:#|{_NUMBER_WORDS}\s*)?(?P<m>\d{{1,3}}))(?!\w)"
)
_MENTION = re.compile(r"(?<![\w@])@[\w.\-]+(?:@[\w.\-]+)?")
_HASHTAG = re.compile(r"(?<![\w&])#\w+")
_LINK = re.compile(r"https?://\S+|\b[\w\-]+(?:\.[\w\-]+)+/\S*")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?|<label>")
# A text longer than this is a message, not a request for a question.
MAX_REQUEST_WORDS = 24


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


QUESTION = frozenset(_QUESTION_WORDS) | {"q", "questions"}
# Words that say "the one being asked now".
CURRENT = _words(
    "current currently now latest last newest recent this right actual actuelle actuel "
    "cours aktuelle aktuell gerade jetzt atual agora attuale ora adesso huidige nu ahora "
    "ultima última dernière derniere letzte"
)
# Words that ask.
ASKING = _words(
    "what whats what's where's wheres which where repeat resend share post send show tell "
    "remind link find cuál cual qué que repite repetir repetirías dime quelle quel "
    "laquelle répéter repeter quoi qu'est was welche wiederholen qual quale ripeti wat "
    "welke herhalen please pls plz por favor svp stp bitte favore alsjeblieft graag"
)
# Everything else a request may say: articles, verbs, greetings, apologies.
FILLER = _words(
    "is was are were s the a an one on at up to of for in it me us we you u i i'm im am "
    "just joined joining late missed miss here so far again and or thanks thank ty sorry "
    "hi hey hello hiya yo oh ok okay can could would will do does did get have see lost "
    "there pls bot chat link to its it's what's where's which's that whats wheres es la "
    "el de en estamos llegué tarde perdón hola gracias me cuál's est le les on c'est s'il "
    "vous plaît plait bonjour salut merci à j'ai raté ist die der wir sind bei hallo "
    "nochmal danke sorry é e o a estamos olá ola oi obrigado obrigada è e la il siamo "
    "ciao grazie is de het zijn we hoi dank"
)
VOCABULARY = QUESTION | CURRENT | ASKING | FILLER


@dataclass(frozen=True)
class Request:
    """What a post asks for: one question by its label, or the current one."""

    number: int | None = None  # None: the current question
    suffix: str = ""  # "a" of Q2a

    @property
    def current(self) -> bool:
        return self.number is None

    @property
    def label(self) -> str:
        return "current" if self.number is None else f"Q{self.number}{self.suffix}"


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("\u2019", "'").replace("\u02bc", "'").replace("`", "'")
    for pattern in (_LINK, _MENTION):
        text = pattern.sub(" ", text)
    return text


def parse_request(text: str) -> Request | None:
    """The question ``text`` asks for, or None when it asks for none.

    ``text`` is a post's plain text (mentions, tags and links in it are
    ignored).  A request names at most one question label; a label alone
    ("Q3", "Q3?") asks for that question; otherwise the words must ask
    ("what", "please", "repeat", a "?") about "the question" or "the current
    one", and every word must be one such requests use.
    """
    clean = _normalise(text[:2000])
    labels: list[tuple[int, str]] = []

    def label(match: re.Match[str]) -> str:
        number = match.group("n") or match.group("m")
        labels.append((int(number), match.group("s") or ""))
        return " <label> "

    clean = _HASHTAG.sub(" ", _LABEL.sub(label, clean))  # "question #5" is a label, not a tag
    words = _WORD.findall(clean)
    if not words or len(words) > MAX_REQUEST_WORDS:
        return None
    if any(word != "<label>" and word not in VOCABULARY for word in words):
        return None
    asks = "?" in clean or "¿" in clean or any(word in ASKING for word in words)
    if labels:
        if len(set(labels)) != 1:
            return None  # "Q2 or Q3?": not one question
        number, suffix = labels[0]
        if number < 1:
            return None
        only_label = all(word == "<label>" for word in words)
        return Request(number, suffix) if asks or only_label else None
    if not any(word in QUESTION for word in words):
        return None
    if asks or any(word in CURRENT for word in words):
        return Request()
    return None


@dataclass(frozen=True)
class PostedQuestion:
    """A question as posted on one network: its label, text, address and when."""

    label: str  # "Q3", "Q2a"
    number: int
    suffix: str
    text: str
    url: str
    position: int  # order in the plan


def pick_question(request: Request, posted: Sequence[PostedQuestion]) -> PostedQuestion | None:
    """The posted question ``request`` means, or None (not posted yet, or never planned).

    "Current" is the last question posted; "Q2" is Q2 itself, else the first of
    Q2a, Q2b... that is posted.  A question not posted yet is never told early.
    """
    if not posted:
        return None
    ordered = sorted(posted, key=lambda q: q.position)
    if request.current:
        return ordered[-1]
    exact = [q for q in ordered if q.number == request.number and q.suffix == request.suffix]
    if exact:
        return exact[0]
    if request.suffix:
        return None
    same = [q for q in ordered if q.number == request.number]
    return same[0] if same else None


_TAGS_AT_END = re.compile(r"(?:\s+#\w+)+\s*$")


def reply_text(
    handle: str,
    question: PostedQuestion,
    *,
    fits: Callable[[str], bool],
    hashtag: str = "",
) -> str:
    """The reply to ``handle``: the question's text and a link to the question post.

    The text is shortened (ending in "…") until ``fits`` says the network takes
    it; the chat's hashtag is left out, so the reply is not taken for a chat post.
    """
    body = question.text.strip()
    if hashtag:
        body = re.sub(rf"(?<!\w)#{re.escape(hashtag)}(?!\w)", "", body, flags=re.IGNORECASE)
    body = _TAGS_AT_END.sub("", body).strip()
    if not body.casefold().startswith(question.label.casefold()):
        body = f"{question.label}: {body}"
    mention = f"@{handle.lstrip('@')} " if handle else ""
    link = f"\n{question.url}" if question.url else ""

    def compose(text: str) -> str:
        return f"{mention}{text}{link}"

    if fits(compose(body)):
        return compose(body)
    # Cut whole graphemes from the end until it fits (a binary search over the length).
    clusters = _graphemes(body)
    low, high = 0, len(clusters)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(compose("".join(clusters[:middle]).rstrip() + "…")):
            low = middle
        else:
            high = middle - 1
    return compose("".join(clusters[:low]).rstrip() + "…")


def _graphemes(text: str) -> list[str]:
    return list(regex.findall(r"\X", text))


__all__ = [
    "MAX_REQUEST_WORDS",
    "VOCABULARY",
    "PostedQuestion",
    "Request",
    "parse_request",
    "pick_question",
    "reply_text",
]
