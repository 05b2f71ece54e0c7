"""How often the transcript puts a post under the right question, on hand-labelled real chats.

Each labelled #PSTweetChat day (tests/fixtures/labels, see LABELLING.md there)
is imported into a fresh SQLite database with ``chatbot.imports.import_file``,
as ``chatbot import`` does, and its transcript built with
``chatbot.export.build_document``; every labelled tweet's question is compared
with its label. Printed per chat: accuracy overall and per evidence kind (the
attribution's ``method``), and a calibration table (confidence bucket → posts
attributed to a question, and how many of them are right).

Run from the repository root: ``.venv/bin/python benchmarks/attribution_quality.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.labelled

from chatbot.db import create_engine_for, migrate
from tests.labelled import Outcome, Score, labelled_chats, score_chat


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


def main() -> None:
    for chat in labelled_chats():
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine_for(f"sqlite:///{folder}/chat.db")
            migrate(engine)
            score = score_chat(engine, chat, Path(folder))
            engine.dispose()
        print(report(chat.name, score))
        print()


if __name__ == "__main__":
    main()
