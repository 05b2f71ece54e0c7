"""The crowd planner: deterministic, covers every behaviour, and keeps its invariants."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.sandbox.crowd import (
    HOSTILE_PAYLOADS,
    OPT_OUTS,
    ChatSchedule,
    CrowdConfig,
    CrowdPlan,
    ScheduledQuestion,
    plan_crowd,
)
from chatbot.sandbox.crowd.model import BOT_SLOT, URL_SLOT
from chatbot.sandbox.crowd.texts import PREFIX_STYLES, keywords
from chatbot.sandbox.crowd.voices import words_of

START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
TOPICS = (
    "What tools do you use for web archiving?",
    "How do you handle consent and ethics when collecting posts?",
    "Which budget or staffing barriers slow your team down?",
    "What training helped your volunteers most?",
    "How do you describe collections for researchers?",
    "What would you change about preservation policy?",
)


def schedule(questions: int = 6, minutes: int = 55, networks=("bluesky", "mastodon")):
    step = max(1, (minutes - 5) // max(questions, 1))
    items = tuple(
        ScheduledQuestion(
            f"Q{i + 1}",
            f"Q{i + 1}: {TOPICS[i % len(TOPICS)]} #DocNowChat",
            START + timedelta(minutes=2 + step * i),
        )
        for i in range(questions)
    )
    return ChatSchedule("DocNowChat", START, START + timedelta(minutes=minutes), items, networks)


@pytest.fixture(scope="module")
def medium() -> CrowdPlan:
    return plan_crowd(CrowdConfig(seed=7, participants=30, posts_per_minute=6), schedule())


def test_same_seed_same_plan_and_texts():
    one = plan_crowd(CrowdConfig(seed=3), schedule())
    two = plan_crowd(CrowdConfig(seed=3), schedule())
    assert one == two
    assert one.to_dict() == two.to_dict()


def test_different_seed_different_plan():
    one = plan_crowd(CrowdConfig(seed=3), schedule())
    two = plan_crowd(CrowdConfig(seed=4), schedule())
    assert [a.text for a in one.actions] != [a.text for a in two.actions]
    assert [p.handle for p in one.participants] != [p.handle for p in two.participants]


def test_participants_on_both_networks_and_spammers_take_no_other_part(medium):
    people = [p for p in medium.participants if not p.spammer]
    assert {p.network for p in people} == {"bluesky", "mastodon"}
    spammers = {p.key for p in medium.participants if p.spammer}
    by_spammers = [a for a in medium.actions if a.author in spammers]
    assert by_spammers and all(a.kind == "spam" and a.spam for a in by_spammers)
    assert all(a.author in spammers for a in medium.actions if a.spam)


def test_every_prefix_style_and_most_answers_unprefixed(medium):
    answers = [a for a in medium.posts() if a.kind in ("answer", "thread_answer")]
    styles = Counter(a.prefix for a in answers)
    assert set(PREFIX_STYLES) <= set(styles)
    assert styles["none"] > len(answers) / 2
    texts = [a.text for a in answers]
    for pattern in (r"\bA\d: ", r"\ba\d - ", r"\bA \d ", r"\bA\da ", r"A\d/A\d", "Ａ[０-９]"):
        assert any(re.search(pattern, t) for t in texts), pattern
    two = [a for a in answers if len(a.answers) == 2]
    assert any(re.search(r"A\d.* A\d", a.text) for a in two)


def test_late_answers_thread_answers_replies_and_quotes(medium):
    questions = medium.schedule.questions
    late = [
        a
        for a in medium.posts()
        if a.kind == "answer"
        and a.answers[-1] != [q.label for q in questions if q.due_at <= a.at][-1]
    ]
    assert late
    threaded = [a for a in medium.posts() if a.kind == "thread_answer"]
    assert any(not a.has_hashtag for a in threaded)
    assert all(a.parent_question and a.parent is None for a in threaded)
    assert any(a.kind == "quote" and a.quote for a in medium.posts())
    assert max(medium.depth().values()) >= 5


def test_edits_deletes_and_unlisted(medium):
    edits = [a for a in medium.actions if a.op == "edit"]
    assert edits and all(a.network == "mastodon" for a in edits)
    assert [a for a in medium.actions if a.op == "delete"]
    unlisted = [a for a in medium.posts() if a.visibility == "unlisted"]
    assert unlisted and all(a.network == "mastodon" for a in unlisted)


def test_every_kind_of_opt_out(medium):
    kinds = {p.opt_out for p in medium.participants} - {None}
    assert kinds == set(OPT_OUTS)
    for person in medium.participants:
        assert ("#nobot" in person.bio) == (person.opt_out == "nobot_bio")
    optout = [a for a in medium.posts() if a.kind == "optout"]
    assert optout and all("#optout" in a.text for a in optout)
    assert all(medium.participant(a.author).opt_out == "optout_post" for a in optout)
    networks = {p.opt_out: p.network for p in medium.participants if p.opt_out}
    assert networks["self_label"] == "bluesky"
    assert networks["noindex"] == networks["not_indexable"] == "mastodon"


def test_spam_shapes(medium):
    spam = [a for a in medium.posts() if a.spam]
    promo = Counter(re.sub(r"#\w+", "", a.text).strip() for a in spam)
    text, _ = promo.most_common(1)[0]
    assert "https://" in text
    assert len({a.author for a in spam if text in a.text}) >= 2
    assert any(a.text.count("#") >= 8 for a in spam)  # hashtag stuffing
    genuine = {a.text for a in medium.posts() if not a.spam}
    assert any(a.text.rsplit(" ", 1)[0] in genuine for a in spam)  # a copy with a link added


def test_hard_unicode_hostile_content_and_mentions(medium):
    texts = [a.text for a in medium.posts()]
    assert any("\u200d" in t for t in texts)  # ZWJ sequence
    assert any(any(0x1F1E6 <= ord(c) <= 0x1F1FF for c in t) for t in texts)  # flags
    assert any(any(unicodedata.bidirectional(c) in ("R", "AL") for c in t) for t in texts)
    assert any(any(unicodedata.combining(c) for c in t) for t in texts)
    hostile = [a for a in medium.posts() if a.hostile]
    assert len(hostile) >= 5
    assert all(any(p in a.text for p in HOSTILE_PAYLOADS) for a in hostile)
    handles = {p.key: p.handle for p in medium.participants}
    mentioning = [a for a in medium.posts() if a.mentions]
    assert mentioning
    assert all(f"@{handles[key]}" in a.text for a in mentioning for key in a.mentions)
    assert any(a.kind == "answer" and a.mentions for a in mentioning)


def test_hostile_corpus_is_large_and_distinct():
    assert len(HOSTILE_PAYLOADS) >= 50
    assert len(set(HOSTILE_PAYLOADS)) == len(HOSTILE_PAYLOADS)
    joined = " ".join(HOSTILE_PAYLOADS).lower()
    for needle in ("<script", "onerror=", "javascript:", "<svg", "data:text/html", "<iframe"):
        assert needle in joined


def test_answers_echo_their_question(medium):
    by_label = {q.label: set(keywords(q.text)) for q in medium.schedule.questions}
    answers = [a for a in medium.posts() if a.kind == "answer" and len(a.answers) == 1]
    echoing = [a for a in answers if any(w in a.text.lower() for w in by_label[a.answers[0]])]
    assert len(echoing) > 0.8 * len(answers)


def check_invariants(plan: CrowdPlan) -> None:
    """What must hold for any crowd: ordering, references, times, consistency."""
    index = {a.id: i for i, a in enumerate(plan.actions)}
    assert len(index) == len(plan.actions)
    assert [a.at for a in plan.actions] == sorted(a.at for a in plan.actions)
    people = {p.key: p for p in plan.participants}
    due = {q.label: q.due_at for q in plan.schedule.questions}
    tag = "#" + plan.schedule.hashtag.lower()
    deleted: dict[str, int] = {}
    for i, action in enumerate(plan.actions):
        person = people[action.author]
        assert person.network == action.network
        for ref in (action.parent, action.quote, action.target, action.about):
            if ref:
                target = plan.actions[index[ref]]
                assert index[ref] < i and target.op == "post"
                assert target.network == action.network and target.at <= action.at
                assert ref not in deleted, "nothing refers to a post after its deletion"
        if action.op == "delete":
            deleted[action.target] = i
        if action.op == "edit":
            assert action.network == "mastodon"
        if action.op != "post":
            continue
        assert action.text.strip() and len(action.text) <= 300
        assert action.has_hashtag == (tag in action.text.lower())
        for label in action.answers:
            assert due[label] <= action.at
        if action.parent_question:
            assert action.parent_question in due and action.parent is None
        assert action.spam == person.spammer
        assert (URL_SLOT in action.text) == (action.kind == "link_quote")
        if action.kind == "link_quote":  # a link to exactly one post: a question or a crowd post
            assert (action.quote is None) != (action.quote_question is None)
        if action.kind in ("mention_reply", "continuation"):
            assert (action.parent is None) != (action.about is None)
        if action.kind == "mention_reply":
            assert action.mentions and action.text.startswith("@")
        assert (BOT_SLOT in action.text) == (action.kind == "ask")
        if action.kind == "ask":  # a late joiner: to the bot, not to the chat
            assert not action.has_hashtag and not action.answers
            assert action.at > sorted(due.values())[1]  # after the second question
            assert person.instance == 0 and action.visibility == "public"
        elif action.parent is None and not action.parent_question:
            assert action.has_hashtag  # top level: found by its hashtag, or never
        assert action.visibility in ("public", "unlisted")
        if action.visibility == "unlisted":
            assert action.network == "mastodon"
    assert len(plan.depth()) == len(plan.posts())  # every parent precedes its reply


def test_medium_plan_invariants(medium):
    check_invariants(medium)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    participants=st.integers(1, 25),
    rate=st.floats(0, 8),
    questions=st.integers(0, 7),
    minutes=st.integers(1, 70),
    networks=st.sampled_from([("bluesky",), ("mastodon",), ("bluesky", "mastodon")]),
    spammers=st.integers(0, 4),
    coverage=st.booleans(),
    phrasebook=st.sampled_from(["a", "b"]),
)
def test_any_crowd_keeps_the_invariants(
    seed, participants, rate, questions, minutes, networks, spammers, coverage, phrasebook
):
    config = CrowdConfig(
        seed=seed,
        participants=participants,
        posts_per_minute=rate,
        spammers=spammers,
        coverage=coverage,
        phrasebook=phrasebook,
    )
    plan = plan_crowd(config, schedule(questions, minutes, networks))
    check_invariants(plan)
    assert {p.network for p in plan.participants} <= set(networks)


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="at least one participant"):
        CrowdConfig(participants=0)
    with pytest.raises(ValueError, match="negative"):
        CrowdConfig(posts_per_minute=-1)


def test_schedule_from_a_question_file():
    from chatbot.questionfile import load_plan

    event = load_plan("tests/data/questions/valid/multiline-and-subquestions.md", allow_past=True)
    chat = ChatSchedule.from_event_plan(event)
    assert chat.hashtag == "test1"
    assert [q.label for q in chat.questions] == ["Q1", "Q2a", "Q2b", "Q3"]
    assert chat.questions[1].text.startswith("Q2a")
    plan = plan_crowd(CrowdConfig(seed=1), chat)
    check_invariants(plan)
    # "A2a" names the sub-question; nobody answers Q2 with a made-up "A2aa".
    assert not any("A2aa" in a.text for a in plan.posts())


def test_profiles_carry_hostile_markup_and_rtl_names():
    plan = plan_crowd(CrowdConfig(seed=11, participants=40), schedule())
    hostile = [p for p in plan.participants if p.hostile_profile]
    assert len(hostile) == 1
    assert "<b onclick" in hostile[0].display_name and len(hostile[0].display_name) <= 30
    assert "<script>" in hostile[0].bio
    assert any(
        any(unicodedata.bidirectional(c) in ("R", "AL") for c in p.display_name)
        for p in plan.participants
    )


def test_conversation_as_real_chats_have_it(medium):
    """Mostly conversation: replies opening with @mentions, often minutes late; few prefixes."""
    posts = [a for a in medium.posts() if not a.spam]
    kinds = Counter(a.kind for a in posts)
    replies = [a for a in posts if a.kind == "reply"]
    mention_led = [a for a in replies + [a for a in posts if a.kind == "mention_reply"]
                   if a.text.startswith("@")]  # fmt: skip
    assert len(mention_led) > len(posts) / 4
    during = [a for a in posts if a.at <= medium.schedule.end]
    assert sum(a.prefix != "none" for a in during) < len(during) / 5
    # After the host's wrap-up, whoever still answers says which question.
    late_answers = [a for a in posts if a.at > medium.schedule.end and a.kind == "answer"]
    assert late_answers and all(a.prefix != "none" for a in late_answers)
    assert kinds["mention_reply"] and kinds["continuation"] and kinds["link_quote"]
    by_id = {a.id: a for a in medium.posts()}
    truth = medium.true_questions()
    open_at = {
        a.id: [q.label for q in medium.schedule.questions if q.due_at <= a.at] for a in posts
    }
    # Replies and mention-led posts answer a post some minutes old, often under an earlier question.
    answering = [a for a in posts if a.kind in ("reply", "mention_reply")]
    late = [a for a in answering if truth[a.id] and truth[a.id] != open_at[a.id][-1]]
    # About half of them across seeds (38-66% of seeds 1-20); never all.
    assert late and len(late) < len(answering) * 2 / 3
    assert any((a.at - by_id[a.parent or a.about].at) > timedelta(minutes=3) for a in answering)
    # Continuations: their author's own answer, without a prefix, sometimes as a self-reply.
    goes_on = [a for a in posts if a.kind == "continuation"]
    assert all(by_id[a.parent or a.about].author == a.author for a in goes_on)
    assert all(a.prefix == "none" and truth[a.id] for a in goes_on)
    assert any(a.parent for a in goes_on) and any(a.about for a in goes_on)
    # Late prefixed answers and answers to two questions.
    assert any(a.late and a.prefix != "none" for a in posts)
    assert any(len(a.answers) == 2 for a in posts)
    # Links to a question and to someone's post.
    links = [a for a in posts if a.kind == "link_quote"]
    assert any(a.quote_question for a in links) and any(a.quote for a in links)


def test_true_question_follows_what_each_post_answers(medium):
    truth = medium.true_questions()
    by_id = {a.id: a for a in medium.posts()}
    for post in medium.posts():
        want = truth[post.id]
        if post.spam or post.kind in ("intro", "chatter", "optout", "ask"):
            assert want is None
        elif post.answers:
            assert want == post.answers[0]  # "A1 ... A2 ...": the first
        elif post.parent_question:
            assert want == post.parent_question
        elif post.kind == "link_quote" and post.quote_question:
            assert want == post.quote_question
        else:
            answered = post.parent or post.about or post.quote
            assert answered and want == truth[by_id[answered].id]
    assert sum(v is None for v in truth.values()) < len(truth) / 2


def test_spam_waves_and_no_genuine_copies(medium):
    spam = [a for a in medium.posts() if a.spam]
    waves = Counter(" ".join(sorted(set(words_of(a.text)))[:6]) for a in spam)
    near = [a for a in spam if "crypto signals" in a.text]
    assert len({a.author for a in near}) >= 2 and len({a.text for a in near}) >= 2
    assert waves
    # Two people never post the same words (what a copy check would call a wave).
    seen: dict[tuple[str, ...], str] = {}
    for post in medium.posts():
        words = tuple(words_of(post.text))
        if post.spam or len(words) < 8:
            continue
        assert seen.setdefault(words, post.author) == post.author, post.text


@pytest.mark.parametrize("seed", [7, 11])
def test_a_showcase_crowd_has_no_test_strings_and_every_behaviour(seed: int) -> None:
    """chatbot demo's crowd reads as people: the hostile corpus stays in the test crowds."""
    config = CrowdConfig(seed=seed, participants=30, posts_per_minute=6)
    tested = plan_crowd(config, schedule())
    shown = plan_crowd(replace(config, showcase=True), schedule())
    assert any(a.hostile for a in tested.posts()) and not any(a.hostile for a in shown.posts())
    profiles = [f"{p.display_name} {p.bio}" for p in shown.participants]
    for text in [
        a.text.replace(URL_SLOT, "").replace(BOT_SLOT, "") for a in shown.posts()
    ] + profiles:
        assert "<" not in text and "javascript:" not in text.lower(), text
        assert not any(payload in text for payload in HOSTILE_PAYLOADS), text
        assert not any(unicodedata.combining(c) for c in text), text
        assert not set(text) & set("\u200b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    # Everything else a real chat has is still there, emoji and flags included.
    kinds = Counter(a.kind for a in tested.posts())
    assert {a.kind for a in shown.posts()} == set(kinds)
    assert {a.op for a in shown.actions} == {a.op for a in tested.actions}
    assert {p.opt_out for p in shown.participants} == {p.opt_out for p in tested.participants}
    texts = [a.text for a in shown.posts()]
    assert any("\u200d" in t for t in texts)
    assert any(any(0x1F1E6 <= ord(c) <= 0x1F1FF for c in t) for t in texts)
