"""Co-hosts named in the question file reach the event, and their posts are never spam."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.bot.loading import load_event
from chatbot.collect.events import own_accounts
from chatbot.collect.moderation import refresh_flags
from chatbot.collect.store import upsert_posts
from chatbot.models import Event, Post
from chatbot.questionfile import parse_text
from tests.export.util import START, post

FILE = """---
hashtag: sm35
title: Test chat
start: 2030-12-03 12:00
timezone: America/New_York
networks: bluesky
moderators: "@mod.test"
cohosts: ["@cohost.test", "@other.example@example.social"]
---
Q1. What tools?
"""
LINK = "Our archiving guide is out, read it here https://guide.example #sm35"
WAVE = "Honestly the best archiving course I ever took, changed how my whole team works #sm35"


def test_cohosts_are_read_carried_to_the_event_and_never_flagged(engine: Engine) -> None:
    plan = parse_text(FILE, path="sm35.md", now=datetime(2030, 1, 1, tzinfo=UTC))
    assert plan.settings["cohosts"] == ["@cohost.test", "@other.example@example.social"]
    event_id = load_event(engine, plan, source_path="sm35.md").event_id
    posts = [
        post(1, LINK, author="cohost", minutes=2, links=("https://guide.example",)),
        post(2, LINK, author="drive", minutes=3, links=("https://guide.example",)),
        post(3, WAVE, author="cohost", minutes=4),
        post(4, WAVE, author="mod", minutes=5),
        post(5, WAVE, author="spam1", minutes=6),
        post(6, WAVE, author="spam2", minutes=7),
    ]
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None and event.settings["cohosts"] == plan.settings["cohosts"]
        connection = session.connection()
        upsert_posts(connection, posts, event_id=event_id, now=START)
        refresh_flags(connection, event, now=START, moderators=own_accounts(session, event))
        session.commit()
        flags = {
            row.author_handle + " " + row.text[:8]: row.spam_reason
            for row in session.execute(select(Post)).scalars()
        }
    first = "same text from 4 accounts (first by @cohost.test at 2030-12-03 17:04 UTC)"
    assert flags == {
        "cohost.test Our arch": None,
        "drive.test Our arch": "same text with a link from 2 accounts",
        "cohost.test Honestly": None,
        "mod.test Honestly": None,
        "spam1.test Honestly": first,
        "spam2.test Honestly": first,
    }
