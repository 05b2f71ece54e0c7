"""Ground truth of a crowd run: what every planned post really became, as JSON for scoring."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chatbot.sandbox.crowd.model import CrowdPlan

# 2 added true_question, about_plan_id, quote_question, quote_url, late;
# 3 added instance, ids_by_instance and a Mastodon post's ActivityPub uri.
TRUTH_VERSION = 3


@dataclass
class TruthPost:
    """One planned post and its fate on the network."""

    plan_id: str
    network: str
    author: str  # handle (Bluesky) or username (Mastodon)
    author_key: str  # plan-local participant key
    kind: str
    question: str | None  # the first question it answers
    questions: list[str]  # every question it answers ("A1 ... A2 ..." answers two)
    thread_question: str | None  # the question whose conversation it belongs to
    parent_plan_id: str | None
    parent_question: str | None  # label when it replies to a question post
    quote_plan_id: str | None
    is_spam: bool
    opted_out: bool
    opt_out: str | None  # how its author opted out
    visibility: str
    has_hashtag: bool
    hostile: bool
    unicode: str | None
    prefix: str
    mentions: list[str]  # handles @-mentioned
    planned_at: str
    depth: int = 0  # 0 top level, 1 a reply to a question or top-level post
    # The question a reader of the chat would put it under (None for none): see
    # chatbot.sandbox.crowd.model.true_question. What attribution is scored against.
    true_question: str | None = None
    # The post a mention_reply answers, a continuation continues or a spam copy copies.
    about_plan_id: str | None = None
    quote_question: str | None = None  # the question a link_quote links to
    quote_url: str | None = None  # the web address a link_quote put in its text
    late: bool = False  # an answer to an earlier question than the one open
    status: str = "pending"  # pending | posted | skipped
    skipped: str | None = None  # why it was never posted
    ref: str | None = None  # at:// URI (Bluesky) or status id (Mastodon)
    url: str | None = None
    author_id: str | None = None  # DID or account id
    parent: str | None = None  # the parent's ref
    quote: str | None = None  # the quoted post's ref
    text: str = ""  # as it stands now (after any edit)
    posted_at: str | None = None
    edited: bool = False
    edit_history: list[str] = field(default_factory=list)  # earlier texts
    deleted: bool = False
    deleted_at: str | None = None
    instance: str | None = None  # Mastodon: the domain of the instance it was posted on
    uri: str | None = None  # its at:// URI (Bluesky) or ActivityPub id (Mastodon)
    # Mastodon: its id on every instance that has (or had) it, its origin's included.
    ids_by_instance: dict[str, str] = field(default_factory=dict)


class GroundTruth:
    """Collects the fate of each planned post while a driver runs."""

    def __init__(self, plan: CrowdPlan):
        self.plan = plan
        self.accounts: dict[str, dict[str, Any]] = {}
        self.questions: dict[str, dict[str, str]] = {}  # label -> network -> ref
        self.question_waits: list[dict[str, str]] = []
        people = {p.key: p for p in plan.participants}
        depth_of = plan.depth()
        true_of = plan.true_questions()
        self.posts: dict[str, TruthPost] = {}
        for action in plan.posts():
            person = people[action.author]
            thread_question = action.parent_question or next(iter(action.answers), None)
            if action.parent:
                thread_question = self.posts[action.parent].thread_question
            self.posts[action.id] = TruthPost(
                plan_id=action.id,
                network=action.network,
                author=person.handle,
                author_key=person.key,
                kind=action.kind,
                question=next(iter(action.answers), None),
                questions=list(action.answers),
                thread_question=thread_question,
                parent_plan_id=action.parent,
                parent_question=action.parent_question,
                quote_plan_id=action.quote,
                is_spam=action.spam,
                opted_out=person.opt_out is not None,
                opt_out=person.opt_out,
                visibility=action.visibility,
                has_hashtag=action.has_hashtag,
                hostile=action.hostile,
                unicode=action.unicode,
                prefix=action.prefix,
                mentions=[people[key].handle for key in action.mentions],
                planned_at=action.at.isoformat(),
                text=action.text,
                depth=depth_of[action.id],
                true_question=true_of[action.id],
                about_plan_id=action.about,
                quote_question=action.quote_question,
                late=action.late,
            )

    def to_dict(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "version": TRUTH_VERSION,
            "seed": plan.config.seed,
            "hashtag": plan.schedule.hashtag,
            "start": plan.schedule.start.isoformat(),
            "end": plan.schedule.end.isoformat(),
            "accounts": self.accounts,
            "questions": self.questions,
            "question_waits": self.question_waits,
            "posts": [_with_ids(asdict(post)) for post in self.posts.values()],
        }

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1)
        # Whole or not at all: a reader (or a kill) never sees half a file.
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text + "\n", encoding="utf-8")
        partial.replace(path)
        return path


def _with_ids(post: dict[str, Any]) -> dict[str, Any]:
    """Add ``uri`` and ``id`` (Mastodon's, on its origin) beside the network-neutral ``ref``."""
    bluesky = post["network"] == "bluesky"
    uri = post["ref"] if bluesky else post["uri"]
    return post | {"uri": uri, "id": None if bluesky else post["ref"]}


def load_truth(path: str | Path) -> dict[str, Any]:
    """Read a truth file written by :meth:`GroundTruth.write`."""
    truth: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return truth


__all__ = ["TRUTH_VERSION", "GroundTruth", "TruthPost", "load_truth"]
