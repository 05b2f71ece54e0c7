"""Posts that answer no question: a host's housekeeping, a participant's hello and goodbye.

Every chat has them: the host reminds people of the tag, links last month's
transcript, announces the next date and thanks everyone; participants say
hello, that they are lurking, that they must leave. Put under whatever
question was open, they crowd the transcript with noise and skew its counts.
The phrases are English and deliberately narrow: a post is only set aside
when it says one of them and little else (a host's news or a participant's
answer stays attributed).
"""

from __future__ import annotations

import re

from .lexical import words

__all__ = [
    "is_greeting",
    "is_housekeeping",
    "is_introduction",
    "is_small_talk",
    "may_greet",
    "says_it_continues",
]

# A moderator's post about the chat itself rather than about a question.
_HOUSEKEEPING = re.compile(
    r"\btranscripts?\b|\breminder\b|\bfirst[- ]tim(?:e|ers?)\b|\bmark your calendar"
    r"|\bnext (?:month|week|time|chat|session)|\b(?:thanks?|thank you) (?:all |everyone |so much )?"
    r"for (?:joining|coming|hanging|taking part|taking the time|participating|being here)"
    r"|\bhope to see\b|\bsee (?:you|y'all|everyone) (?:all )?(?:next|soon|again|then)"
    r"|\buse the (?:#|tag|hashtag)|\b(?:remember|don'?t forget) to (?:use|include|add) "
    r"|\bno (?:real )?agenda\b|\bground ?rules\b|\btop of the hour\b"
    r"|\b(?:chat|we)(?:'re| are| is) (?:starting|about to start|wrapping up)\b",
    re.IGNORECASE,
)

# A participant's greeting or farewell.
_SMALL_TALK = re.compile(
    r"^\W*(?:hi|hello|hey|howdy|greetings|good (?:morning|afternoon|evening)|hiya)\b"
    r"|\bglad (?:i|to have) made it\b|\bjust (?:joining|joined|lurking)\b|\blurking\b"
    r"|\b(?:sorry,? )?(?:i'?m |i am )?(?:late to|joining late)\b|\bi'?m late\b"
    r"|\b(?:gotta|got to|have to|need to) (?:run|go|drop|leave)\b|\bbye\b"
    r"|\b(?:great|fun|good) chat\b|\bthanks? (?:all|everyone|everybody|y'all)\b"
    r"|\bchecking in\b|\b(?:love|loving|enjoying) (?:this|the) chat\b|\bwaving\b"
    r"|\b(?:great|good) (?:questions|discussion|conversation)\b|\bsay(?:ing)? hi\b"
    r"|\bso many (?:good|great) (?:ideas|answers|thoughts)\b|\bwhat did i miss\b"
    r"|\bcatching up\b|^\W*#\w+ time\b|\b(?:coffee|tea) (?:ready|in hand)\b",
    re.IGNORECASE,
)
# A reply that greets: it opens with the greeting and says little else.
_GREETING_WORDS = r"\W*(?:hi|hello|hey|hiya|howdy|welcome)\b"
_GREETING = re.compile(_GREETING_WORDS, re.IGNORECASE)
# The same after any @names: a test a post must pass to be a greeting once its
# names are taken off, cheap enough to run on every reply first.
_MAY_GREET = re.compile(r"(?:[\s.,:;]*@[\w.@\-]+)*" + _GREETING_WORDS, re.IGNORECASE)
GREETING_LENGTH = 60  # characters: a greeting back is short
# A participant introducing themselves: "Finn here, researcher, joining from Leeds".
_LEAD = " \t\n#@!.,:;-"
_INTRODUCTION = re.compile(
    r"\b(?:joining|checking in|here|waving(?: hello)?) from\b"
    r"|^\W*(?:hi|hello|hey)\b[^.!?]{0,40}?\b(?:i'?m|i am|\w+ here)\b",
    re.IGNORECASE,
)
# Words that say a post carries on the author's previous one, at its start or
# after a short lead-in ("Well, to expand on that: ..."): "(cont.)", "2/",
# "Plus:", "Also,", "Should add:", "The other half of it".
_CONTINUES = re.compile(
    r"\(cont(?:\.|'d|inued)?\)|\bcont(?:'d|inued)[.:,]|^\W*\d{1,2}/(?:\d{1,2})?(?![\d/])"
    r"|\b(?:also|plus)[,:]|\bp\.?s\.?(?!\w)|\b(?:i )?should (?:also )?add\b|\bto add\b"
    r"|\bone more thing\b|\bto expand on (?:that|this)\b|\bthe other half\b"
    r"|\band another thing\b|\bon top of that\b",
    re.IGNORECASE,
)
# Every continuation phrase has one of these: a cheap test before the pattern.
_CONTINUES_CUES = (
    *("cont", "/", "also", "plus", "ps", "p.s", "add", "thing", "expand", "half", "top of"),
)
CONTINUES_WITHIN = 40  # characters from the start where the words count
SMALL_TALK_WORDS = 8  # more telling words than this and it is an answer that says hello
SMALL_TALK_LENGTH = 160  # characters: longer posts say more than hello
# Every small-talk phrase has one of these words: a cheap test before the pattern.
_SMALL_TALK_CUES = frozenset(
    {"hi", "hello", "hey", "howdy", "greetings", "good", "hiya", "glad", "just", "lurking"}
    | {"late", "joining", "gotta", "got", "have", "need", "bye", "great", "fun", "thanks", "thank"}
    | {"checking", "love", "loving", "enjoying", "waving", "say", "saying", "many", "i'm", "im"}
    | {"what", "catching", "coffee", "tea", "time"}
)
_TOKEN = re.compile(r"[a-z']+")
# For bytes.translate: every ASCII character _TOKEN does not take becomes a
# space. The ASCII text's bytes, translated and split, give _TOKEN's words as
# bytes: one C pass, and bytes split cheaper than str (the cues come as bytes too).
_NOT_TOKEN = bytes(ord(char) if _TOKEN.match(char) else ord(" ") for char in map(chr, range(256)))
_SMALL_TALK_CUE_BYTES = frozenset(cue.encode() for cue in _SMALL_TALK_CUES)


def is_housekeeping(text: str) -> bool:
    """A moderator's post about the chat: tag, transcript, schedule, welcome back, thanks."""
    return _HOUSEKEEPING.search(text) is not None


def is_small_talk(text: str, lowered: str | None = None) -> bool:
    """A short greeting or farewell with little else to say.

    The caller also checks that it shares no telling word with a question: a
    hello that names the topic is an answer. ``lowered``, ``text.lower()``
    when the caller has it already.
    """
    if len(text) > SMALL_TALK_LENGTH:
        return False
    if lowered is None:
        lowered = text.lower()
    # The words, as _TOKEN finds them: in ASCII text, the runs left between
    # spaces once every other character is a space (one C pass, not a match each).
    if lowered.isascii():
        if _SMALL_TALK_CUE_BYTES.isdisjoint(lowered.encode().translate(_NOT_TOKEN).split()):
            return False
    elif _SMALL_TALK_CUES.isdisjoint(_TOKEN.findall(lowered)):
        return False
    return _SMALL_TALK.search(text) is not None and len(words(text)) <= SMALL_TALK_WORDS


def is_greeting(text: str) -> bool:
    """A short post that opens with a greeting ("Welcome back!", "Hi Finn! Glad you're here").

    For replies, after the @names they begin with: answering someone's hello
    answers no question, whatever question that hello was put under.
    """
    return len(text) <= GREETING_LENGTH and _GREETING.match(text) is not None


def may_greet(text: str) -> bool:
    """False when ``text`` is no greeting with or without the @names it begins with."""
    first = text[:1]
    if first.isalnum() and first not in "hHwW":
        # Neither an @name nor a greeting word can begin here, and the
        # greeting would have to (the pattern's case folding maps no other
        # letter to an h or a w): most replies, without the pattern.
        return False
    return _MAY_GREET.match(text) is not None


def is_introduction(text: str, lowered: str | None = None) -> bool:
    """A short post introducing its author ("Hi! Finn here, researcher, joining from Leeds").

    Unlike other small talk it may name the topic (a role, a field) and still
    answer no question. ``lowered``, ``text.lower()`` when the caller has it already.
    """
    if len(text) > SMALL_TALK_LENGTH:
        return False
    if lowered is None:
        lowered = text.lower()
    if "from" not in lowered and not lowered.lstrip(_LEAD).startswith(("hi", "hello", "hey")):
        return False  # the cheap test first: most posts are neither
    return _INTRODUCTION.search(text) is not None


def says_it_continues(text: str) -> bool:
    """The post says it carries on the author's previous one ("(cont.)", "2/", "Plus:")."""
    start = text[:CONTINUES_WITHIN]
    lowered = start.lower()
    if not any(cue in lowered for cue in _CONTINUES_CUES):
        return False  # the cheap test first: the pattern's alternatives cost more
    return _CONTINUES.search(start) is not None
