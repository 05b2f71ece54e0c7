"""Hand-labelled real #PSTweetChat days: the labels cover each chat, and accuracy does not fall.

The floors are today's measured accuracy rounded down to the whole percent
(``benchmarks/attribution_quality.py`` prints the figures); raise them when
attribution improves.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.labelled import LabelledChat, labelled_chats, score_chat, sheet_rows

ACCURACY_FLOOR = {
    "pstweetchat-2022-02-04": 0.92,  # 48 of 52
    "pstweetchat-2022-04-01": 0.90,  # 39 of 43
}
QUESTION = {"Q1", "Q2", "Q3", "Q4"}

CHATS = labelled_chats()


def test_every_labelled_chat_has_a_floor() -> None:
    assert {chat.name for chat in CHATS} == set(ACCURACY_FLOOR)


@pytest.mark.parametrize("chat", CHATS, ids=lambda chat: chat.name)
def test_labels_cover_the_chat_day(chat: LabelledChat) -> None:
    tweets = {row["Tweet ID"] for row in sheet_rows(chat.day)}
    assert set(chat.labels) == tweets  # every tweet of the day, and none of another
    asked = sorted(label.question or "" for label in chat.labels.values() if label.asks)
    assert asked == [f"Q{n}" for n in range(1, len(asked) + 1)]  # each question asked once
    for label in chat.labels.values():
        assert label.question is None or label.question in asked, label
        assert label.question is None or label.question in QUESTION


@pytest.mark.parametrize("chat", CHATS, ids=lambda chat: chat.name)
def test_transcript_accuracy_stays_above_the_floor(
    chat: LabelledChat, engine: Engine, tmp_path: Path
) -> None:
    score = score_chat(engine, chat, tmp_path)
    assert len(score.outcomes) == len(chat.labels)
    wrong = [o for o in score.outcomes if not o.right]
    assert score.accuracy >= ACCURACY_FLOOR[chat.name], wrong
    asked = [o for o in score.outcomes if chat.labels[o.tweet_id].asks]
    assert asked and all(o.right for o in asked)  # each question post is its own question
