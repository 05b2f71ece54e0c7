"""The realistic crowd as a labelled corpus: a seeded chat, collected for real, scored on its truth.

The chat runs on both sandbox networks with the real collector, as
``test_collect_sandbox`` runs it; the crowd's truth file says which question
every post belongs to (``true_question``). Scored: every collected post the
transcript could show, that is live and not the bot's. A post the review
export flags as spam counts as attributed to no question (method ``spam``),
as the transcript leaves it out; opted-out posts are shown nowhere and not
scored. Used by ``test_crowd_quality`` and ``benchmarks/attribution_quality.py``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from chatbot.collect import Collector
from chatbot.eventref import resolve_event
from chatbot.export import ExportOptions, build_document
from chatbot.models import Post, PostDelivery, ScheduledPost, utcnow
from tests.collect.chat import follow, start_chat
from tests.collect.scoring import by_ref_of, expected_attribution, index, stored_posts
from tests.labelled import Outcome, Score

QUESTIONS = (
    "What tools do you use for web archiving?",
    "How do you handle consent and ethics when collecting social media?",
    "Which budget or staffing barriers slow your team down?",
    "What training helped your volunteers most?",
    "How do you describe collections for researchers?",
    "What would you change about preservation policy?",
)
TOLD = ("prefix", "thread", "reply")  # a prefix or a question's thread tells (see scoring.py)


@dataclass(frozen=True)
class CrowdCorpus:
    """Which chat: the crowd's seed and size, and the questions' spacing."""

    seed: int = 21
    participants: int = 30
    posts_per_minute: float = 6.0
    questions: tuple[str, ...] = QUESTIONS
    spacing: timedelta = timedelta(minutes=6)
    # Off: a chat as it comes, not one made to show every behaviour at least once
    # (coverage opts out a sixth of the crowd, which a real chat never sees).
    coverage: bool = False
    # Between the sandbox's start and the chat's: time to load the event and create the
    # crowd's accounts on a busy machine before the first post is due (3 s at 200x).
    lead: timedelta = timedelta(minutes=10)
    phrasebook: str = "a"  # the crowd's phrase banks (chatbot.sandbox.crowd.phrasebooks)

    @property
    def name(self) -> str:
        book = "" if self.phrasebook == "a" else f", phrasebook {self.phrasebook!r}"
        return (
            f"crowd seed {self.seed} ({self.participants} people, {len(self.questions)} "
            f"questions {self.spacing.total_seconds() / 60:g} min apart{book})"
        )


REALISTIC = CrowdCorpus()
# A blind check: the crowd worded from phrasebook "b", which nobody looked at while
# tuning the attribution. Reported beside the tuned seeds, never given a floor to meet,
# and never read to tune by (a check one tunes against stops being blind).
HELD_OUT = CrowdCorpus(seed=31, phrasebook="b")


@dataclass
class CrowdRun:
    """What one chat left: the truth, the stored rows and the review export."""

    truth: dict[str, Any]
    rows: list[Post]
    review: dict[str, Any]
    # How late the bot's latest question post went out, in chat time. The crowd
    # answers on the plan's clock; on a loaded machine the sandbox clock (200x)
    # can run minutes ahead of the thread that posts the questions, and the
    # chat is then not the one the truth describes (answers before their question).
    question_lateness: timedelta = timedelta(0)


def collect_crowd(engine: Engine, folder: Path, corpus: CrowdCorpus = REALISTIC) -> CrowdRun:
    """Run the corpus's chat on a sandbox, collect it, and export it for review."""
    chat = start_chat(
        engine,
        seed=corpus.seed,
        participants=corpus.participants,
        posts_per_minute=corpus.posts_per_minute,
        questions=corpus.questions,
        spacing=corpus.spacing,
        coverage=corpus.coverage,
        lead=corpus.lead,
        phrasebook=corpus.phrasebook,
    )
    try:
        clock = chat.sandbox.clock
        collector = Collector(engine, chat.event_id, chat.platforms, clock, stream=True)
        reports = follow(chat, collector)
        collector.close()
        truth = chat.truth(folder / "truth.json")
    finally:
        chat.close()
    assert not any(r.errors for r in reports)
    with Session(engine) as session:
        event = resolve_event(session, str(chat.event_id), purpose="record", now=utcnow())
        review = build_document(session, event, ExportOptions(review=True), store=False)
        lateness = question_lateness(session, chat.event_id)
    return CrowdRun(truth, stored_posts(engine, chat.event_id), review, lateness)


def question_lateness(session: Session, event_id: int) -> timedelta:
    """The most any question post of the event went out after it was due (chat time)."""
    query = (
        select(PostDelivery.posted_at, PostDelivery.due_at)
        .join(ScheduledPost, col(ScheduledPost.id) == col(PostDelivery.scheduled_post_id))
        .where(col(PostDelivery.event_id) == event_id, col(ScheduledPost.kind) == "question")
    )
    late = [posted - due for posted, due in session.execute(query) if posted is not None]
    return max(late, default=timedelta(0))


@dataclass
class CrowdScore:
    """The transcript against the crowd's truth, overall and by what tells."""

    score: Score = field(default_factory=Score)
    kinds: dict[str, list[Outcome]] = field(default_factory=lambda: defaultdict(list))
    evidence: dict[str, list[Outcome]] = field(default_factory=lambda: defaultdict(list))
    not_scored: Counter[str] = field(default_factory=Counter)

    @property
    def told(self) -> list[Outcome]:
        """Posts whose question a prefix or a question's thread tells."""
        return [o for name in TOLD for o in self.evidence.get(name, [])]


def score_crowd(run: CrowdRun) -> CrowdScore:
    """Score every collected, live, shown post of ``run`` against its true question."""
    stored = index(run.rows)
    truth_by_ref = {(p["network"], p["ref"]): p for p in run.truth["posts"] if p["ref"]}
    question_refs = {ref for refs in run.truth["questions"].values() for ref in refs.values()}
    shown = by_ref_of(run.review)
    result = CrowdScore()
    for post in run.truth["posts"]:
        if post["status"] != "posted":
            continue
        key = (post["network"], post["ref"])
        row = stored.get(key)
        if post["deleted"] or post["visibility"] != "public":
            result.not_scored["deleted" if post["deleted"] else "unlisted"] += 1
            continue
        if row is None:
            result.not_scored["not collected"] += 1
            continue
        entry = shown.get(key)
        if entry is None:
            result.not_scored["opted out: shown nowhere"] += 1
            continue
        if entry["flags"]["spam"]:
            question, method, confidence = None, "spam", 0.0
        else:
            question = entry["question"] or None
            method, confidence = entry["method"] or "none", float(entry["confidence"])
        label = post["true_question"]
        outcome = Outcome(post["ref"], label, question, method, confidence)
        result.score.outcomes.append(outcome)
        result.kinds[post["kind"]].append(outcome)
        if post["is_spam"]:
            told = "spam"
        else:
            told = expected_attribution(post, truth_by_ref, stored, question_refs).evidence
        result.evidence[told].append(outcome)
    return result


def accuracy(outcomes: list[Outcome]) -> float:
    return sum(o.right for o in outcomes) / len(outcomes) if outcomes else 0.0


__all__ = [
    "HELD_OUT",
    "REALISTIC",
    "TOLD",
    "CrowdCorpus",
    "CrowdRun",
    "CrowdScore",
    "accuracy",
    "collect_crowd",
    "question_lateness",
    "score_crowd",
]
