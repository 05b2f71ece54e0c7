"""Phrase banks and text builders that make the crowd's posts read like real chat answers."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

NAMES: tuple[str, ...] = (
    "Maya", "Tomasz", "Aisha", "Kenji", "Lucia", "Omar", "Priya", "Jonas", "Fatima", "Diego",
    "Ingrid", "Kwame", "Sofia", "Ravi", "Noor", "Elena", "Yusuf", "Hana", "Mateo", "Chloe",
    "Bergit", "Samir", "Leila", "Arjun", "Zanele", "Pavel", "Mei", "Tariq", "Rosa", "Finn",
    "Amara", "Dmitri", "Keiko", "Luis", "Nadia", "Oskar", "Thandi", "Wei", "Ines", "Hugo",
)  # fmt: skip
SURNAMES: tuple[str, ...] = (
    "Okafor", "Lindqvist", "Haddad", "Sato", "Moreau", "Novak", "Mensah", "Rossi", "Cohen",
    "Iyer", "Bauer", "Silva", "Nakamura", "Kowalski", "Osei", "Larsen", "Farah", "Park",
)  # fmt: skip
ROLES: tuple[str, ...] = (
    "archivist", "librarian", "PhD student", "developer", "teacher", "community organiser",
    "data journalist", "museum educator", "sysadmin", "researcher", "UX designer", "volunteer",
)  # fmt: skip
PLACES: tuple[str, ...] = (
    "Lagos", "Denver", "Mexico City", "Oslo", "Pune", "Leeds", "Osaka", "Nairobi", "Porto",
    "Winnipeg", "Beirut", "Melbourne", "a very rainy Glasgow", "my kitchen table",
)  # fmt: skip

ANSWERS: tuple[str, ...] = (
    "Honestly {kw} is where we struggle most. Small steps, lots of patience.",
    "For us it's mostly about {kw}. We started small and it grew from there.",
    "Still figuring out {kw}, to be honest. Would love to hear what works for others.",
    "{Kw}? Mostly trial and error so far, plus a lot of reading.",
    "We lean on the community for {kw}. Can't do it alone.",
    "Big one for me: {kw}. Nobody taught us this, we had to learn it on the job.",
    "I'd say {kw} first and {kw2} second.",
    "Time. It's always time. {Kw} would be easy if we had more of it.",
    "Our team wrote a short guide on {kw} last year, happy to share it.",
    "Depends on the week :) but mostly {kw}.",
    "We tried three different approaches to {kw} before one stuck.",
    "Short answer: {kw}. Long answer: ask me after coffee.",
    "Not much yet, but {kw} is on the list for next quarter.",
    "{Kw} matters more than people think. People first, then tools.",
    "Mostly {kw}, with a side of {kw2}.",
    "Asking the people we work with about {kw} changed everything for us.",
    "I think {kw} gets easier once you stop aiming for perfect.",
    "We keep a shared doc about {kw} and {kw2}. Messy, but it works.",
    "My answer changes every year. Right now: {kw}.",
    "Budget, then {kw}. In that order, sadly.",
    "Started with {kw} as a side project, now it's half my job.",
    "Great question. {Kw} is the thing I'd tell my younger self about.",
)
REPLIES: tuple[str, ...] = (
    "Same here!",
    "That's a great point, hadn't thought of it that way.",
    "How did you get buy-in for that?",
    "+1, this.",
    "Would love to read that guide!",
    "Do you have a link?",
    "Ha, exactly my week too.",
    "Agreed. The hard part is keeping it going.",
    "Interesting! What did you end up using?",
    "We should compare notes after the chat.",
    "Yes! And it gets easier once you start.",
    "I'm stealing this idea.",
    "Not sure I agree, but I see why.",
    "That's been our experience as well.",
    "Thanks for sharing this.",
    "Good question, I'd like to know too.",
    "Ooh, tell me more about that.",
    "So true. Nobody budgets for the boring parts.",
    "Did that work with a small team?",
    "Right?! It took us ages to figure out.",
)
# A reply to someone's hello: people greet back, they do not discuss it ({name}).
WELCOMES: tuple[str, ...] = (
    "Welcome, {name}!",
    "Hi {name}! Glad you're here.",
    "Hey, good to see you!",
    "Welcome back! 👋",
    "Hello hello! Grab a coffee.",
    "Hi! So glad you could join.",
)
CHATTER: tuple[str, ...] = (
    "Hi {tag}! {name} here, {role}, joining from {place}.",
    "Hello {tag}, {role} from {place} checking in",
    "Late to {tag} as usual, catching up now",
    "Great questions today {tag}",
    "Loving this chat {tag}",
    "Lurking today but reading everything {tag}",
    "{tag} time! Coffee ready.",
    "So many good ideas in {tag} today, my notes are a mess",
    "hi all, glad I made it {tag}",
    "Sorry I'm late everyone! {tag}",
    "Good morning from {place} {tag}",
    "Just got out of a meeting, what did I miss? {tag}",
    "Waving hello from the back row {tag}",
)
# A reply that takes up the thread's topic: lexical evidence has the question's words to find.
TOPICAL_REPLIES: tuple[str, ...] = (
    "we use {kw} too!",
    "{Kw} is exactly where we got stuck as well.",
    "how long did {kw} take you to set up?",
    "yes, {kw} first. Everything else follows.",
    "did you write anything up about {kw}? Would love to read it.",
    "same with {kw} here, plus {kw2}.",
)
# A participant's next posts on their own answer: no prefix, sometimes the question's words.
CONTINUATIONS: tuple[str, ...] = (
    "Also, {kw} made a huge difference for us.",
    "And to be fair, {kw2} helped too.",
    "Plus: documenting everything as we went along.",
    "...and that's before we even talk about {kw}.",
    "Should add: we only got there with a lot of help from colleagues.",
    "Forgot to mention: {kw} is still a work in progress for us.",
    "(cont.) the hard part was getting everyone on board.",
    "To expand on that: start small, then grow once it works.",
    "Oh and one more thing about {kw}: ask early, ask often.",
    "The other half of it is {kw2}, honestly.",
)
LINK_QUOTES: tuple[str, ...] = (
    "This 👇",
    "Great answer from earlier:",
    "Came here to say exactly this",
    "So much this.",
    "Worth a read if you missed it",
    "This one deserves more attention",
    "Bookmarking this answer",
)
QUESTION_LINKS: tuple[str, ...] = (
    "Still thinking about this one:",
    "Going back to this question for a sec",
    "My favourite question today:",
    "Catching up on this one",
)
QUOTES: tuple[str, ...] = (
    "This is such a good point.",
    "Came here to say exactly this.",
    "Worth reading, from earlier in the chat.",
    "Yes! This matches what we've seen.",
    "Saving this one for our next team meeting.",
    "Boosting because more people should hear it.",
)
# Each person words things their own way: two people rarely post the same long sentence,
# and a spam check for copies must not take them for a wave.
OPENERS: tuple[str, ...] = (
    "Honestly,", "For me,", "Hmm.", "Good one!", "Ooh.", "Easy:", "Tough one.", "In my org,",
    "Speaking for my team:", "Ok so", "Well,", "Oh, this.", "Quick answer:", "Ha,", "Right,",
    "From the archive side:", "As a newcomer:", "Personally,", "Where to start.", "So:",
)  # fmt: skip
CLOSERS: tuple[str, ...] = (
    "Anyone else?", "Curious what others think.", "🙂", "#lessons", "YMMV.", "Still learning!",
    "More on that later.", "Happy to chat after.", "Long story!", "Fingers crossed.",
    "That's my two cents.", "We'll see how it goes.", "Ask me anything.", "😅", "🙌",
)  # fmt: skip
THANKS: tuple[str, ...] = (
    "Thanks for hosting, see you next month {tag}",
    "Great chat everyone, thank you {tag}",
    "That hour flew by. Thanks all! {tag}",
)
SPAM_PROMO = (
    "Get 10,000 real followers in 24 hours! Best prices guaranteed "
    "https://followers-boost.example/deal"
)
SPAM_COPY_LINK = "https://cheap-likes.example/?ref=chat"
# Waves: one template posted by several accounts within minutes, a word swapped per copy
# (at least twelve distinct words, as real waves are); the first template carries a link.
SPAM_WAVES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Earn 500 dollars every single day from home with this {w} trick, "
        "message me now and start today https://quick-cash.example/join",
        ("simple", "easy", "quick", "secret", "proven"),
    ),
    (
        "Our {w} crypto signals group doubled every member's savings this month, "
        "join before the doors close tonight",
        ("exclusive", "private", "premium", "famous", "trusted"),
    ),
)
STUFFING_TAGS: tuple[str, ...] = (
    "AI", "crypto", "NFT", "followback", "giveaway", "win", "trending", "viral", "news", "deal",
)  # fmt: skip
STUFFING = "Check this out!! {tag} {tags} https://spam-hub.example/win"
AGREE = ("Agree with {mention}! {text}",)  # an answer that names someone first
EDITS: tuple[str, ...] = (
    " (edit: typo)",
    " Edit: forgot to say, it took us two years.",
    " [edited for clarity]",
)
OPTOUT = "Please leave me out of the recap today, thanks! #optout {tag}"
# Sign-offs a person adds to keep their post from reading as someone else's (crowd.voices).
SIGN_OFFS: tuple[str, ...] = (
    "That's my two cents.",
    "We'll see how it goes.",
    "Happy to chat after the hour.",
    "More on that another time.",
    "Still learning every week!",
    "Ask me anything about it.",
    "Long story, ask me later.",
    "Anyway, back to lurking.",
    "Would love other views on this.",
    "Just my experience, of course.",
)


@dataclass(frozen=True)
class Phrasebook:
    """Every phrase bank the crowd words its posts from.

    Two books exist (``phrasebooks.PHRASEBOOKS``): "a", the banks above, which
    the attribution was tuned while looking at, and "b", written apart with
    other wording (``crowd.heldout``), so a chat worded from it is a blind
    check of whether the attribution learnt the words of "a" rather than how
    people chat. Templates take ``{kw}``/``{Kw}``/``{kw2}`` (a question's
    words), ``{tag}``, ``{name}``, ``{role}``, ``{place}``, ``{mention}``,
    ``{text}``, ``{tags}`` or ``{w}`` as their bank's comment says.
    """

    name: str
    answers: tuple[str, ...]  # {kw} {Kw} {kw2}
    replies: tuple[str, ...]
    welcomes: tuple[str, ...]  # {name}: a reply to a hello
    topical_replies: tuple[str, ...]  # {kw} {Kw} {kw2}
    continuations: tuple[str, ...]  # {kw} {Kw} {kw2}, no prefix
    chatter: tuple[str, ...]  # {tag} {name} {role} {place}
    roles: tuple[str, ...]
    places: tuple[str, ...]
    thanks: tuple[str, ...]  # {tag}
    link_quotes: tuple[str, ...]  # a comment beside a post's address
    question_links: tuple[str, ...]  # a comment before a question's address
    quotes: tuple[str, ...]  # a quote post's text
    openers: tuple[str, ...]
    closers: tuple[str, ...]
    sign_offs: tuple[str, ...]
    agree: tuple[str, ...]  # {mention} {text}
    edits: tuple[str, ...]  # appended by an edit
    optout: str  # {tag}; must carry "#optout"
    spam_promo: str
    spam_copy_link: str
    spam_waves: tuple[tuple[str, tuple[str, ...]], ...]  # {w}; the first with a link
    stuffing_tags: tuple[str, ...]
    stuffing: str  # {tag} {tags}


BOOK_A = Phrasebook(
    name="a",
    answers=ANSWERS,
    replies=REPLIES,
    welcomes=WELCOMES,
    topical_replies=TOPICAL_REPLIES,
    continuations=CONTINUATIONS,
    chatter=CHATTER,
    roles=ROLES,
    places=PLACES,
    thanks=THANKS,
    link_quotes=LINK_QUOTES,
    question_links=QUESTION_LINKS,
    quotes=QUOTES,
    openers=OPENERS,
    closers=CLOSERS,
    sign_offs=SIGN_OFFS,
    agree=AGREE,
    edits=EDITS,
    optout=OPTOUT,
    spam_promo=SPAM_PROMO,
    spam_copy_link=SPAM_COPY_LINK,
    spam_waves=SPAM_WAVES,
    stuffing_tags=STUFFING_TAGS,
    stuffing=STUFFING,
)

EMOJI: tuple[str, ...] = (
    "👩\u200d💻", "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", "🧑🏽\u200d🔬",
    "🤷🏽\u200d♀\ufe0f", "❤\ufe0f\u200d🔥", "🇧🇷", "🇯🇵", "🇺🇦", "🇳🇬",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
)  # fmt: skip
RTL: tuple[str, ...] = (
    "مرحبا بالجميع",
    "شكرا على السؤال الرائع",
    "שלום לכולם",
    "תודה רבה על השאלה",
)
RTL_NAMES: tuple[str, ...] = ("ليلى حداد", "عمر فرح", "נועה כהן", "יונתן לוי")
COMBINING: tuple[str, ...] = (
    "cafe\u0301 chats",
    "nai\u0308ve question",
    "Z\u0324\u0354\u0367a\u0308\u0316l\u036eg\u030co\u0319",
    "Ång\u0301stro\u0308m",
)
UNICODE_KINDS = ("emoji", "flag", "rtl", "combining")
SHOWCASE_UNICODE_KINDS = ("emoji", "flag")  # people's own; the others are stress strings

_STOP_WORDS = (
    "a an and are as at be by can do does for from have how i if in is it its of on or our "
    "the this to was we what when where which who why will with you your would could should "
    "about into most more one some that they them their there these those has had did any "
    "been being just so than then too very get got us my me use used using handle help helped "
    "helps change describe slow down make think want need like tell keep"
)
_STOP = frozenset(_STOP_WORDS.split())
_FULLWIDTH = str.maketrans("0123456789Aa", "０１２３４５６７８９Ａａ")


def keywords(question: str) -> list[str]:
    """The words of a question worth echoing in an answer, longest first."""
    plain = re.sub(r"[#@]\S+|https?://\S+", " ", question)
    words = re.findall(r"[A-Za-z][A-Za-z'-]{2,}", plain)
    seen: list[str] = []
    for word in words:
        low = word.lower()
        if low not in _STOP and low not in seen:
            seen.append(low)
    seen.sort(key=len, reverse=True)
    return seen[:6] or ["this", "that"]


def answer_body(rng: random.Random, question: str, book: Phrasebook = BOOK_A) -> str:
    """One answer to ``question`` in a participant's own words."""
    words = keywords(question)
    kw = rng.choice(words[:3])
    others = [w for w in words if w != kw] or ["everything else"]
    text = rng.choice(book.answers).format(kw=kw, Kw=kw.capitalize(), kw2=rng.choice(others))
    return in_own_words(rng, text, book)


def in_own_words(rng: random.Random, text: str, book: Phrasebook = BOOK_A) -> str:
    """``text`` with the opener or sign-off a person might add, so few texts repeat."""
    if len(text.split()) < 6:
        return text
    opener = rng.choice(book.openers)
    if rng.random() < 0.6 and opener.split()[0].strip(",.:!") not in text.split()[0]:
        lower = opener.endswith(",") and text[1:2].islower()
        text = f"{opener} {text[0].lower()}{text[1:]}" if lower else f"{opener} {text}"
    if rng.random() < 0.45:
        text += " " + rng.choice(book.closers)
    return text


def reply_body(rng: random.Random, question: str | None = None, book: Phrasebook = BOOK_A) -> str:
    """A reply; now and then on the topic of ``question`` (the thread's), in its words."""
    if question is None or rng.random() < 0.6:
        return in_own_words(rng, rng.choice(book.replies), book)
    template = rng.choice(book.topical_replies)
    return in_own_words(rng, _with_keywords(rng, template, question), book)


def welcome_body(rng: random.Random, name: str, book: Phrasebook = BOOK_A) -> str:
    """A reply to ``name``'s hello: a greeting back."""
    return rng.choice(book.welcomes).format(name=name)


def continuation_body(rng: random.Random, question: str, book: Phrasebook = BOOK_A) -> str:
    """More words on one's own answer to ``question``, with no prefix."""
    template = rng.choice(book.continuations)
    return in_own_words(rng, _with_keywords(rng, template, question), book)


def _with_keywords(rng: random.Random, template: str, question: str) -> str:
    words = keywords(question)
    kw = rng.choice(words[:3])
    others = [w for w in words if w != kw] or ["everything else"]
    return template.format(kw=kw, Kw=kw.capitalize(), kw2=rng.choice(others))


def wave_text(rng: random.Random, template: str, words: tuple[str, ...]) -> str:
    """One copy of a spam wave's template."""
    return template.format(w=rng.choice(words))


def chatter_text(rng: random.Random, tag: str, name: str, book: Phrasebook = BOOK_A) -> str:
    template = rng.choice(book.chatter)
    role, place = rng.choice(book.roles), rng.choice(book.places)
    return template.format(tag=tag, name=name, role=role, place=place)


def one_of(rng: random.Random, options: tuple[str, ...]) -> str:
    """One of ``options``; a bank of one draws nothing (book "a" keeps its seeds' chats)."""
    return options[0] if len(options) == 1 else rng.choice(options)


def answer_label(question_label: str, *, fullwidth: bool = False) -> str:
    """``Q2a`` -> ``A2a`` (or ``Ａ２ａ``)."""
    label = "A" + question_label[1:]
    return label.translate(_FULLWIDTH) if fullwidth else label


PREFIX_STYLES: tuple[str, ...] = (
    "none", "A1", "A1:", "a1 -", "A 1", "A1.", "A1)", "A1a", "fullwidth", "A1/A2", "A1..A2",
)  # fmt: skip


def prefixed(style: str, labels: list[str], bodies: list[str]) -> str:
    """Join answer bodies with the prefixes of ``style`` (one or two questions)."""
    first = answer_label(labels[0])
    if style == "none":
        return " ".join(bodies)
    if style == "A1/A2":
        return f"{first}/{answer_label(labels[1])} {bodies[0]}"
    if style == "A1..A2":
        return f"{first} {bodies[0]} {answer_label(labels[1])} {bodies[1]}"
    simple = {
        "A1": f"{first} ",
        "A1:": f"{first}: ",
        "a1 -": f"{first.lower()} - ",
        "A 1": f"{first[0]} {first[1:]} ",
        "A1.": f"{first}. ",
        "A1)": f"{first}) ",
        "A1a": f"{first}a " if first[-1].isdigit() else f"{first} ",
        "fullwidth": f"{answer_label(labels[0], fullwidth=True)} ",
    }
    return simple[style] + bodies[0]


def tag_variant(rng: random.Random, hashtag: str) -> str:
    """The hashtag as people type it: mostly as written, sometimes all lower case."""
    roll = rng.random()
    if roll < 0.7:
        return f"#{hashtag}"
    if roll < 0.9:
        return f"#{hashtag.lower()}"
    return f"#{hashtag.upper()}"


def with_hashtag(rng: random.Random, text: str, hashtag: str, *, first: bool = True) -> str:
    """Place the hashtag where people put it: at the end, the start or mid-sentence.

    ``first=False`` keeps it off the start (a text that opens with @mentions).
    """
    tag = tag_variant(rng, hashtag)
    roll = rng.random()
    if roll < 0.8 or (roll < 0.9 and not first):
        return f"{text} {tag}"
    if roll < 0.9:
        return f"{tag} {text}"
    head, dot, tail = text.partition(". ")
    return f"{head}. {tag} {tail}" if dot and tail else f"{text} {tag}"


def decorate(rng: random.Random, text: str, kind: str) -> str:
    """Add hard Unicode of ``kind`` (emoji ZWJ sequences, flags, RTL, combining marks)."""
    if kind == "emoji":
        return f"{text} {rng.choice(EMOJI[:6])}"
    if kind == "flag":
        return f"{rng.choice(EMOJI[6:])} {text}"
    if kind == "rtl":
        return f"{text} {rng.choice(RTL)}"
    return f"{text} ({rng.choice(COMBINING)})"


def stuffing_text(hashtag: str, book: Phrasebook = BOOK_A) -> str:
    tags = " ".join(f"#{tag}" for tag in book.stuffing_tags)
    return book.stuffing.format(tag=f"#{hashtag}", tags=tags)


def edit_text(rng: random.Random, text: str, book: Phrasebook = BOOK_A) -> str:
    """What a participant's edit does: fix a typo or add an afterthought."""
    return text + rng.choice(book.edits)


__all__ = [
    "BOOK_A",
    "PREFIX_STYLES",
    "SHOWCASE_UNICODE_KINDS",
    "UNICODE_KINDS",
    "Phrasebook",
    "answer_body",
    "answer_label",
    "chatter_text",
    "continuation_body",
    "decorate",
    "edit_text",
    "in_own_words",
    "keywords",
    "one_of",
    "prefixed",
    "reply_body",
    "stuffing_text",
    "wave_text",
    "welcome_body",
    "with_hashtag",
]
