"""The example in docs/question-files.md is a valid file and does what the page says."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from chatbot.questionfile import parse_text

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "question-files.md"


def test_the_complete_example_makes_the_posts_the_page_describes():
    example = re.search(r"```markdown\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert example is not None
    plan = parse_text(example.group(1), now=datetime(2026, 11, 1, tzinfo=UTC))
    local = [(p.label, f"{p.due_at.astimezone(plan.start.tzinfo):%H:%M}") for p in plan.posts]
    assert local == [
        ("welcome", "12:00"),
        ("Q1", "12:10"),
        ("Q2", "12:20"),
        ("Q3", "12:35"),
        ("wrapup", "12:45"),
    ]
    assert plan.networks == ("bluesky",)
    assert all("#sm35" in p.texts["bluesky"] for p in plan.posts)
