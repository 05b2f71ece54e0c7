"""Small builders of chats for the transcript tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatbot.transcript import ChatPost, ChatQuestion, ModeratorAccount

START = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
HOST = ModeratorAccount("bluesky", "did:plc:host", "host.bsky.social")


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def uri(name: str) -> str:
    return f"at://did:plc:x/app.bsky.feed.post/{name}"


def question_posts(count: int = 4, every: float = 10.0) -> list[ChatPost]:
    """The host's "Qn" posts, every ``every`` minutes from START."""
    return [
        ChatPost(
            "bluesky",
            uri(f"q{n}"),
            HOST.account_id,
            at(every * (n - 1)),
            f"Q{n}. Why?",
            HOST.handle,
        )
        for n in range(1, count + 1)
    ]


def questions(count: int = 4, every: float = 10.0) -> list[ChatQuestion]:
    """The same questions as the plan knows them (times and URIs)."""
    return [
        ChatQuestion(
            n,
            "",
            "Why?",
            {"bluesky": at(every * (n - 1))},
            {"bluesky": uri(f"q{n}")},
        )
        for n in range(1, count + 1)
    ]


def post(
    name: str,
    minutes: float,
    text: str = "",
    *,
    author: str = "alice",
    parent: str | None = None,
    root: str | None = None,
    quote: str | None = None,
    mentions: tuple[str, ...] = (),
) -> ChatPost:
    return ChatPost(
        "bluesky",
        uri(name),
        f"did:plc:{author}",
        at(minutes),
        text,
        f"{author}.bsky.social",
        uri(parent) if parent else None,
        uri(root) if root else (uri(parent) if parent else None),
        uri(quote) if quote else None,
        mentions,
    )
