"""Transcript documents for the recap tests, built from a seeded sandbox crowd's plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig, ScheduledQuestion, plan_crowd

START = datetime(2027, 12, 7, 17, 0, tzinfo=UTC)
INSTANCE = "social.example"
HOST = {"bluesky": "sm35chat.bsky.social", "mastodon": "sm35chat"}


@dataclass
class Chat:
    """A transcript document and what a correct recap must show of it."""

    document: dict[str, Any]
    shown: dict[str, str] = field(default_factory=dict)  # url -> question label ("" for none)
    parent: dict[str, str | None] = field(default_factory=dict)  # url -> shown parent url
    left_out: set[str] = field(default_factory=set)  # urls that must not appear


def _uri(network: str, handle: str, ident: str) -> tuple[str, str]:
    if network == "bluesky":
        return f"at://did:plc:{handle}/app.bsky.feed.post/{ident}", (
            f"https://bsky.app/profile/{handle}/post/{ident}"
        )
    url = f"https://{INSTANCE}/@{handle}/{ident}"
    return f"https://{INSTANCE}/users/{handle}/statuses/{ident}", url


def crowd_chat(
    seed: int = 1,
    participants: int = 20,
    *,
    questions: int = 3,
    rate: float = 4.0,
    hostile: int = 5,
    raw_html: bool = False,
    coverage: bool = True,
) -> Chat:
    """A chat with ``questions`` questions every 10 minutes, on Bluesky and Mastodon.

    Deleted and opted-out posts stay in the document, flagged, so the tests
    see the recap leave them out. Mastodon content is given as HTML: escaped
    text, or with ``raw_html`` the text itself as markup (hostile payloads).
    """
    scheduled = tuple(
        ScheduledQuestion(
            f"Q{n}", f"Question {n}: what did you learn?", START + timedelta(minutes=10 * n - 5)
        )
        for n in range(1, questions + 1)
    )
    end = START + timedelta(minutes=10 * questions + 5)
    schedule = ChatSchedule("sm35", START, end, scheduled, ("bluesky", "mastodon"))
    config = CrowdConfig(
        seed=seed,
        participants=participants,
        posts_per_minute=rate,
        hostile_posts=hostile,
        coverage=coverage,
    )
    plan = plan_crowd(config, schedule)
    people = {p.key: p for p in plan.participants}
    chat = Chat(document={})
    doc_questions: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    question_uri: dict[tuple[str, str], str] = {}
    for q in scheduled:
        posted: dict[str, Any] = {}
        for network in ("bluesky", "mastodon"):
            uri, url = _uri(network, HOST[network], q.label.lower())
            question_uri[(network, q.label)] = uri
            posted[network] = {"uri": uri, "url": url, "at": q.due_at.isoformat()}
            posts.append(
                _post(
                    network, uri, url, HOST[network], "sm35 chat", q.due_at, f"{q.label}. {q.text}"
                )
                | {"question": q.label, "method": "moderator"}
            )
        doc_questions.append(
            {"label": q.label, "number": int(q.label[1:]), "text": q.text, "posted": posted}
        )
    deleted = {a.target for a in plan.actions if a.op == "delete"}
    edits = {a.target: a.text for a in plan.actions if a.op == "edit"}
    label_of: dict[str, str | None] = {}
    url_of: dict[str, str] = {}
    uri_of: dict[str, str] = {}
    for action in plan.posts():
        person = people[action.author]
        uri, url = _uri(action.network, person.handle, action.id)
        uri_of[action.id], url_of[action.id] = uri, url
        label = action.parent_question or next(iter(action.answers), None)
        if action.parent:
            label = label_of[action.parent]
        label_of[action.id] = label
        parent_uri = None
        if action.parent:
            parent_uri = uri_of[action.parent]
        elif action.parent_question:
            parent_uri = question_uri[(action.network, action.parent_question)]
        text = edits.get(action.id, action.text)
        flags = {
            "spam": action.spam,
            "edited": action.id in edits,
            "deleted": action.id in deleted,
            "opted_out": person.opt_out is not None,
        }
        item = _post(action.network, uri, url, person.handle, person.display_name, action.at, text)
        item |= {"question": label, "method": "prefix", "parent_uri": parent_uri, "flags": flags}
        if action.network == "mastodon":
            item["html"] = text if raw_html else f"<p>{escape(text)}</p>"
        posts.append(item)
        if action.spam or action.id in deleted or person.opt_out is not None:
            chat.left_out.add(url)
            continue
        chat.shown[url] = label or ""
        parent = action.parent
        chat.parent[url] = url_of[parent] if parent and url_of[parent] in chat.shown else None
    chat.document = {
        "format": "chatbot-transcript",
        "version": 1,
        "event": {
            "hashtag": "sm35",
            "title": "Conversations, not campaigns",
            "start": START.isoformat(),
            "end": end.isoformat(),
            "timezone": "America/New_York",
            "networks": ["bluesky", "mastodon"],
            "moderators": ["@sm35host.bsky.social"],
            "accounts": HOST,
        },
        "questions": doc_questions,
        "posts": posts,
    }
    return chat


def _post(
    network: str, uri: str, url: str, handle: str, name: str, at: datetime, text: str
) -> dict[str, Any]:
    return {
        "network": network,
        "uri": uri,
        "url": url,
        "author": {"handle": handle, "display_name": name},
        "created_at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "text": text,
        "question": None,
        "method": "none",
        "confidence": 0.0,
        "parent_uri": None,
        "depth": 0,
        "flags": {"spam": False, "hidden": False, "edited": False},
    }
