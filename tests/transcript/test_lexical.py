"""The questions' telling words, and the asides that answer nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatbot.transcript.asides import (
    is_housekeeping,
    is_introduction,
    is_small_talk,
    may_greet,
    says_it_continues,
)
from chatbot.transcript.lexical import Vocabulary, words


def test_words_fold_endings_and_drop_the_rest() -> None:
    assert words("Any user group meeting announcements? #PowerShell https://x.org/a @bob") == {
        "user",
        "group",
        "meet",
        "announcement",
    }
    assert words("resources") == words("resource")
    assert words("studies") == words("study")
    assert words("the and of 2024 a1") == set()


def test_a_word_every_question_uses_tells_nothing() -> None:
    vocabulary = Vocabulary(
        {"Q1": ["Which archives do you build?"], "Q2": ["Which archives worry you?"]}
    )
    assert "archiv" not in vocabulary.weights
    assert vocabulary.scores("we build archives", ["Q1", "Q2"])[0][1] == "Q1"
    assert vocabulary.scores("we build archives", ["Q2"]) == []  # Q1 is not open yet


def test_words_the_whole_chat_uses_are_dropped() -> None:
    vocabulary = Vocabulary({"Q1": ["Tell us about PowerShell"], "Q2": ["Any meetings?"]})
    vocabulary.drop_common(
        ["PowerShell rocks", "PowerShell again", "more PowerShell", "PowerShell!"]
    )
    assert "powershell" not in vocabulary.weights
    assert "meet" in vocabulary.weights


def test_housekeeping_and_small_talk() -> None:
    assert is_housekeeping("You can find transcripts of past chats at https://x.org")
    assert is_housekeeping("Mark your calendars for next month's chat on 6 May")
    assert is_housekeeping("As a reminder for first-timers, we chat monthly")
    assert not is_housekeeping("Don't forget registration is open for the Summit")
    assert says_it_continues("(cont.) the hard part was getting everyone on board")
    assert says_it_continues("2/ and then we moved it all")
    assert says_it_continues("Plus: documenting everything as we went along")
    assert not says_it_continues("Continuity matters")
    assert not says_it_continues("2024 was a hard year")
    assert says_it_continues("Well, to expand on that: start small")
    assert says_it_continues("Tough one. (cont.) the hard part was buy-in")
    assert says_it_continues("Honestly, also, barriers made a huge difference")
    assert not says_it_continues("I also use Webrecorder")
    assert not says_it_continues("We run it 24/7, and 1/2 of it is manual")
    assert is_small_talk("I forgot today was #PSTweetChat ! Glad I made it")
    assert is_small_talk("Hi everyone!")
    assert is_small_talk("Gotta run, great chat")
    assert not is_small_talk(
        "Hi! We archive zines, flyers, posters, letters and oral histories of local bands"
    )
    assert is_small_talk("Sorry I'm late everyone!")
    assert is_small_talk("Just got out of a meeting, what did I miss? #chat")
    assert is_small_talk("#chat time! Coffee ready.")
    assert is_introduction("Hi #chat! Finn here, researcher, joining from Mexico City.")
    assert is_introduction("Hello all, I'm Ana, an archivist in Porto")
    assert not is_introduction("Hello! We use Webrecorder here, from the start")
    assert not is_introduction("Our researchers come from everywhere")
    assert is_small_talk("Hello #chat, community organiser from Osaka checking in")
    assert not is_small_talk("Our archive keeps tweets")


@given(st.text())
def test_any_text_is_read_without_error(text: str) -> None:
    found = words(text)
    assert all(word == word.lower() and len(word) >= 3 for word in found)
    is_housekeeping(text)
    is_small_talk(text)
    is_introduction(text)
    says_it_continues(text)


_GREETINGS = st.sampled_from(["hi", "hello", "hey", "hiya", "howdy", "welcome"])


@given(
    st.lists(st.from_regex(r"[ .,:;]*@[a-z0-9_.]{1,12}", fullmatch=True), max_size=3),
    _GREETINGS,
    st.lists(st.booleans(), min_size=7, max_size=7),
    st.from_regex(r"([^\w].*)?", fullmatch=True),
)
def test_every_greeting_passes_the_cheap_test(
    names: list[str], greeting: str, upper: list[bool], rest: str
) -> None:
    # The test before the greeting pattern may turn a post away only when
    # it cannot greet: any case, after any @names, before anything else.
    cased = "".join(c.upper() if up else c for c, up in zip(greeting, upper, strict=False))
    text = "".join(names) + " " * bool(names) + cased + rest
    assert may_greet(text)


def test_most_posts_fail_the_cheap_greeting_test() -> None:
    assert not may_greet("Our archive keeps tweets")
    assert not may_greet("Whole collections, hi")
    assert not may_greet("Ölprinzen say hello")
    assert may_greet("@finn Welcome back!")
    assert may_greet("¡Hi! Finn here")
    assert not may_greet("¡hola! hi")
