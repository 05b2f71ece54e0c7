"""How often the transcript puts a post under the right question: labelled real chats and the crowd.

Each labelled #PSTweetChat day (tests/fixtures/labels, see LABELLING.md there)
is imported into a fresh SQLite database with ``chatbot.imports.import_file``,
as ``chatbot import`` does, and its transcript built with
``chatbot.export.build_document``; every labelled tweet's question is compared
with its label. Printed per chat: accuracy overall and per evidence kind (the
attribution's ``method``), and a calibration table (confidence bucket → posts
attributed to a question, and how many of them are right).

Then the sandbox crowd (``tests/collect/crowdquality.py``): for each seed in
``CROWD_SEEDS`` a realistic crowd chat runs on both sandbox networks, is
collected by the real collector as ``tests/collect/test_collect_sandbox.py``
does, and every collected post the transcript could show is scored against
the crowd's truth file (``true_question``), with the same figures plus
accuracy where a prefix or the question's thread tells, by what the truth
says tells, and by the crowd's kind of post; then all seeds pooled. Last,
held out: a crowd chat worded from phrasebook "b" (``HELD_OUT``), whose
phrases nobody looked at while tuning the attribution: a blind check of
whether it learnt the tuned crowd's wording. Its figures are recorded, never
tuned against and never given a floor. About 20 seconds a chat.

A crowd chat is only scored as planned when the bot's question posts went
out on time: the sandbox runs 200 times faster than the wall clock, so on a
loaded machine a stall of a second or two in the thread that posts the
questions puts them minutes late in chat time while the crowd answers on
schedule, and the truth no longer describes the chat. Such a chat (any
question more than ``LATE_LIMIT`` late), or one not collected to its end in
time, is said so and run again, up to ``TRIES`` times in all.

Run from the repository root: ``.venv/bin/python benchmarks/attribution_quality.py``
(``--no-crowd`` for the real chats only; ``--seeds 21,22`` for some crowd
seeds; ``--misses`` to print every crowd post placed under the wrong question).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.labelled

from dataclasses import replace

from chatbot.db import create_engine_for, migrate
from tests.collect.crowdquality import (
    HELD_OUT,
    REALISTIC,
    TOLD,
    CrowdCorpus,
    CrowdRun,
    CrowdScore,
    collect_crowd,
    score_crowd,
)
from tests.labelled import Outcome, Score, labelled_chats, score_chat

CROWD_SEEDS = tuple(range(21, 31))
LATE_LIMIT = timedelta(minutes=1)  # chat time; the questions are six minutes apart
TRIES = 3


def _share(outcomes: list[Outcome]) -> str:
    right = sum(o.right for o in outcomes)
    percent = f"{100 * right / len(outcomes):5.1f}%" if outcomes else "    -"
    return f"{right:3d}/{len(outcomes):<3d} {percent}"


def report(name: str, score: Score) -> str:
    """The figures of one chat as plain text."""
    lines = [f"== {name}: {len(score.outcomes)} labelled posts"]
    lines.append(f"overall          {_share(score.outcomes)}")
    for method, outcomes in score.by_method().items():
        lines.append(f"  {method:<14s} {_share(outcomes)}")
    lines.append("calibration (posts given a question)")
    for (low, high), outcomes in score.calibration():
        close = "]" if high == 1.0 else ")"
        lines.append(f"  [{low:.1f}, {high:.1f}{close}   {_share(outcomes)}")
    return "\n".join(lines)


def crowd_report(name: str, result: CrowdScore) -> str:
    """The figures of one crowd chat (or several pooled) as plain text."""
    skipped = ", ".join(f"{why} {count}" for why, count in sorted(result.not_scored.items()))
    lines = [report(name, result.score).replace(" labelled posts", " scored posts", 1)]
    lines.append(f"not scored: {skipped or 'none'}")
    lines.append(f"where a prefix or the question's thread tells  {_share(result.told)}")
    lines.append("by what tells (the truth's evidence)")
    for evidence, outcomes in sorted(result.evidence.items()):
        lines.append(f"  {_evidence_name(evidence):<14s} {_share(outcomes)}")
    lines.append("by the crowd's kind of post")
    for kind, outcomes in sorted(result.kinds.items()):
        lines.append(f"  {kind:<14s} {_share(outcomes)}")
    return "\n".join(lines)


def _evidence_name(evidence: str) -> str:
    if evidence in (*TOLD, "spam"):
        return evidence
    return "cut off" if evidence.startswith("a deleted") else "conversation"


def crowd_chat(corpus: CrowdCorpus, misses: bool = False) -> CrowdScore:
    """Run, collect and score one crowd chat, run again when its questions went out late."""
    for attempt in range(1, TRIES + 1):
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine_for(f"sqlite:///{folder}/chat.db")
            migrate(engine)
            try:
                run = collect_crowd(engine, Path(folder), corpus)
            except AssertionError as error:  # tests.collect.chat.follow ran out of time
                if attempt == TRIES:
                    raise
                print(f"({corpus.name}: not collected to its end in time, loaded: again)")
                print(f"  {error!s:.100}")
                continue
            finally:
                engine.dispose()
        late = run.question_lateness
        if late <= LATE_LIMIT or attempt == TRIES:
            break
        print(f"({corpus.name}: a question went out {late} late, the machine is loaded: again)")
    result = score_crowd(run)
    if late > LATE_LIMIT:
        print(f"({corpus.name}: questions still {late} late after {TRIES} tries; scored anyway)")
    if misses:
        print(_misses(run, result))
    return result


def _misses(run: CrowdRun, result: CrowdScore) -> str:
    posts: dict[str, dict[str, Any]] = {p["ref"]: p for p in run.truth["posts"] if p["ref"]}
    lines = []
    for outcome in result.score.outcomes:
        if outcome.right:
            continue
        post = posts[outcome.tweet_id]
        lines.append(
            f"  miss {post['kind']:<13s} true {outcome.label} given {outcome.question} "
            f"by {outcome.method} {outcome.confidence:.2f}: {post['text'][:100]!r}"
        )
    return "\n".join(lines)


def pooled(results: list[CrowdScore]) -> CrowdScore:
    total = CrowdScore()
    for result in results:
        total.score.outcomes += result.score.outcomes
        total.not_scored.update(result.not_scored)
        for name, outcomes in result.kinds.items():
            total.kinds[name] += outcomes
        for name, outcomes in result.evidence.items():
            total.evidence[name] += outcomes
    return total


def main() -> None:
    for chat in labelled_chats():
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine_for(f"sqlite:///{folder}/chat.db")
            migrate(engine)
            score = score_chat(engine, chat, Path(folder))
            engine.dispose()
        print(report(chat.name, score))
        print()
    if "--no-crowd" in sys.argv[1:]:
        return
    seeds = CROWD_SEEDS
    if "--seeds" in sys.argv[1:]:
        seeds = tuple(int(s) for s in sys.argv[sys.argv.index("--seeds") + 1].split(","))
    misses = "--misses" in sys.argv[1:]
    results = []
    for seed in seeds:
        corpus = replace(REALISTIC, seed=seed)
        results.append(crowd_chat(corpus, misses))
        print(crowd_report(corpus.name, results[-1]))
        print()
    print(crowd_report(f"crowd, seeds {', '.join(map(str, seeds))} pooled", pooled(results)))
    print()
    name = f"HELD OUT, never looked at while tuning: {HELD_OUT.name}"
    print(crowd_report(name, crowd_chat(HELD_OUT)))  # its misses are never printed


if __name__ == "__main__":
    main()
