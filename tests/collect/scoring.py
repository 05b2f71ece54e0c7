"""Comparing a collected event with the crowd's ground truth."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.models import Post

# Every kind of opt-out the crowd uses is honoured by the bot (none is exempt).
NOT_AN_OPT_OUT: set[str] = set()


def stored_posts(engine: Engine, event_id: int) -> list[Post]:
    with Session(engine) as session:
        query = select(Post).where(Post.event_id == event_id)
        return list(session.execute(query).scalars())


def row_of(rows: dict[tuple[str, str], Post], post: dict[str, Any]) -> Post | None:
    return rows.get((post["network"], post["ref"] or ""))


def index(rows: list[Post]) -> dict[tuple[str, str], Post]:
    """Rows by (network, truth ref): at:// URI on Bluesky, status id on Mastodon."""
    found: dict[tuple[str, str], Post] = {}
    for row in rows:
        key = (row.network, row.uri if row.network == "bluesky" else row.remote_id)
        assert key not in found, f"stored twice: {key}"
        found[key] = row
    return found


@dataclass
class Coverage:
    """What of the truth was collected."""

    expected: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    unreachable_missing: list[dict[str, Any]] = field(default_factory=list)
    not_marked_deleted: list[dict[str, Any]] = field(default_factory=list)
    stale_edits: list[tuple[str, str]] = field(default_factory=list)
    thread_answers_without_tag: int = 0
    # Posted after the collection window closed (a crowd thread starved on a busy machine
    # posts late on the sandbox's clock): no collector is meant to find them.
    after_window: list[dict[str, Any]] = field(default_factory=list)


def asks_the_bot(post: dict[str, Any]) -> bool:
    """A late joiner's request to the bot, untagged and top-level: not a post of the chat."""
    return post["kind"] == "ask" and not post["has_hashtag"] and not post["parent_plan_id"]


def unreachable(post: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> bool:
    """True when a deleted ancestor cut the post off from every tagged post and question."""
    parent = by_id.get(post["parent_plan_id"] or "")
    while parent is not None:
        if parent["deleted"]:
            return True
        parent = by_id.get(parent["parent_plan_id"] or "")
    return False


def coverage(truth: dict[str, Any], rows: list[Post], until: datetime | None = None) -> Coverage:
    """What of ``truth`` the stored ``rows`` hold; ``until``: when collection ended."""
    by_id = {p["plan_id"]: p for p in truth["posts"]}
    stored = index(rows)
    result = Coverage()
    for post in truth["posts"]:
        if post["status"] != "posted":
            continue
        row = row_of(stored, post)
        if post["deleted"]:
            if row is not None and row.deleted_at is None:
                result.not_marked_deleted.append(post)
            continue
        if post["visibility"] != "public":
            continue
        if asks_the_bot(post):
            continue
        posted = post.get("posted_at")
        if until is not None and posted and datetime.fromisoformat(posted) > until:
            result.after_window.append(post)
            continue
        result.expected.append(post)
        if row is None:
            cut = not post["has_hashtag"] and unreachable(post, by_id)
            (result.unreachable_missing if cut else result.missing).append(post)
            continue
        if post["kind"] == "thread_answer" and not post["has_hashtag"]:
            result.thread_answers_without_tag += 1
        if post["edited"] and row.text.strip() != post["text"].strip():
            result.stale_edits.append((row.text, post["text"]))
    return result


def describe(posts: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(p["network"], p["kind"], p["text"][:40]) for p in posts]


# Why a post's question is not checked. Only these two: the evidence that would
# place the post is missing from what was collected, so any answer is a guess.
NO_EVIDENCE = "no prefix and no question or prefixed answer above it: only time or mentions"
CUT_OFF = "a deleted or never-collected post cuts its reply chain: nothing collected links it"


@dataclass(frozen=True)
class Expected:
    """What the transcript must say of one truth post, and the evidence that makes it certain."""

    evidence: str  # "prefix", "thread", "reply", or why it is not checked (NO_EVIDENCE, CUT_OFF)
    question: str | None = None
    questions: tuple[str, ...] | None = None  # every question, when the post names them

    @property
    def checked(self) -> bool:
        return self.evidence in ("prefix", "thread", "reply")


def live(stored: dict[tuple[str, str], Post], network: str, ref: str) -> bool:
    row = stored.get((network, ref))
    return row is not None and row.deleted_at is None


def expected_attribution(
    post: dict[str, Any],
    truth_by_ref: dict[tuple[str, str], dict[str, Any]],
    stored: dict[tuple[str, str], Post],
    question_refs: set[str],
) -> Expected:
    """The question(s) a participant's post must be attributed to, when that is unambiguous.

    Unambiguous: the crowd wrote an answer prefix (all of its questions must be
    read), or the post's reply chain, through collected live posts, reaches a
    question post ("thread") or an answer with a prefix ("reply").
    """
    if post["prefix"] != "none":
        return Expected("prefix", post["question"], tuple(post["questions"]))
    network, current = post["network"], post
    while True:
        parent = current["parent"]
        if parent is None:
            return Expected(NO_EVIDENCE)
        if parent in question_refs:
            return Expected("thread", post["thread_question"])
        above = truth_by_ref.get((network, parent))
        if above is None or not live(stored, network, parent):
            return Expected(CUT_OFF)
        if above["prefix"] != "none" and not above["is_spam"]:
            return Expected("reply", post["thread_question"])
        current = above


def expected_parent(
    post: dict[str, Any],
    truth_by_ref: dict[tuple[str, str], dict[str, Any]],
    stored: dict[tuple[str, str], Post],
    exported: dict[tuple[str, str], dict[str, Any]],
) -> str | None:
    """The URI an export must hang ``post`` under: its nearest exported true ancestor.

    Ancestors collected but left out (spam, hidden, opted out) are passed over,
    as the export does; a deleted or never-collected one ends the chain, since
    nothing collected names what lies above it: the post is then a root.
    """
    network, ref = post["network"], post["parent"]
    while ref is not None:
        key = (network, ref)
        if key in exported:
            return exported[key]["uri"]
        above = truth_by_ref.get(key)
        if above is None or not live(stored, network, ref):
            return None
        ref = above["parent"]
    return None


def by_ref_of(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A document's posts by (network, truth ref), the bot's own included."""
    return {
        (p["network"], p["uri"] if p["network"] == "bluesky" else p["id"]): p
        for p in document["posts"]
    }


@dataclass
class AttributionScore:
    """Every way a document's attribution and threading disagree with the truth."""

    checked: Counter[str] = field(default_factory=Counter)  # evidence -> posts checked
    unchecked: Counter[str] = field(default_factory=Counter)  # reason -> posts
    wrong_question: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    wrong_parent: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    false_prefix: list[tuple[str, str]] = field(default_factory=list)
    wrong_stored_parent: list[tuple[str, str | None, str]] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, list[Any]]:
        found = {
            "wrong_question": self.wrong_question,
            "wrong_parent": self.wrong_parent,
            "false_prefix": self.false_prefix,
            "wrong_stored_parent": self.wrong_stored_parent,
        }
        return {name: items for name, items in found.items() if items}


def score_attribution(
    truth: dict[str, Any], rows: list[Post], document: dict[str, Any]
) -> AttributionScore:
    """Check every crowd post against the truth: its question(s) and where it hangs.

    ``document`` gives the questions and parents of the posts it holds (a
    review export holds spam and hidden posts too); ``rows``, read after an
    export stored its attribution, give the question of the rest (opted out).
    """
    stored = index(rows)
    truth_by_ref = {(p["network"], p["ref"]): p for p in truth["posts"] if p["ref"]}
    question_refs = {ref for refs in truth["questions"].values() for ref in refs.values()}
    exported = by_ref_of(document)
    score = AttributionScore()
    for post in truth["posts"]:
        key = (post["network"], post["ref"] or "")
        row = stored.get(key)
        if row is None or row.deleted_at is not None:
            continue
        entry = exported.get(key)
        if entry is not None:
            want_parent = expected_parent(post, truth_by_ref, stored, exported)
            if entry["parent_uri"] != want_parent:
                score.wrong_parent.append((entry["text"][:60], entry["parent_uri"], want_parent))
        # Every stored reply (whatever an export does with it) names its true parent.
        parent_row = stored.get((post["network"], post["parent"] or ""))
        if parent_row is not None and row.parent_uri != parent_row.uri:
            score.wrong_stored_parent.append((row.text[:60], row.parent_uri, parent_row.uri))
        if post["is_spam"]:  # spam copies answers, prefixes and all; it answers nothing
            score.unchecked["spam"] += 1
            continue
        if entry is not None:
            method, got = entry["method"], (entry["question"], tuple(entry["questions"]))
        else:
            method, got = row.attribution_method, (row.question_label, None)
        if post["prefix"] == "none" and method == "prefix":
            score.false_prefix.append((row.text[:60], got[0]))
        expected = expected_attribution(post, truth_by_ref, stored, question_refs)
        if not expected.checked:
            score.unchecked[expected.evidence] += 1
            continue
        score.checked[expected.evidence] += 1
        wrong = got[0] != expected.question
        if expected.questions is not None and got[1] is not None:
            wrong = wrong or got[1] != expected.questions
        if wrong:
            want = (expected.question, expected.questions)
            score.wrong_question.append((row.text[:60], method, got, want))
    return score
