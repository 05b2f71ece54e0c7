"""The crowd's data: the chat it joins, its size, its participants and its timed actions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from chatbot.sandbox.crowd.phrasebooks import phrasebook

Op = Literal["post", "edit", "delete", "like", "repost"]
POST_KINDS: tuple[str, ...] = (
    "intro",  # hello, who I am (with the hashtag)
    "answer",  # a top-level answer with the hashtag
    "thread_answer",  # an answer in the question's own thread, usually without the hashtag
    "reply",  # a reply to another crowd post, mostly opening with @mentions of whom it answers
    "mention_reply",  # top level, opening with @mentions of whom it answers (no reply link)
    "continuation",  # its author's next words on their own earlier answer, without a prefix
    "quote",  # a quote post of another crowd post
    "link_quote",  # links a question or a crowd post only by its web address in the text
    "chatter",  # with the hashtag, answering nothing (greetings, small talk, thanks)
    "optout",  # an #optout post
    "spam",  # promotional text, hashtag stuffing, copies with a link, waves of one template
    "ask",  # a late joiner asking the bot for a question ("@bot Q2?"), without the hashtag
)
URL_SLOT = "<post-url>"  # in a link_quote's planned text: the driver puts the address here
BOT_SLOT = "<bot>"  # in an ask's planned text: the driver puts the bot's @handle here
OPT_OUTS: tuple[str, ...] = (
    "optout_post",  # posts "#optout" during the chat
    "nobot_bio",  # "#nobot" in the profile bio
    "noindex",  # Mastodon account with noindex
    "not_indexable",  # Mastodon account with indexable: false
    "self_label",  # Bluesky "!no-unauthenticated" self-label
)


@dataclass(frozen=True)
class ScheduledQuestion:
    """One question the bot will post: label ("Q2"), text and when it is due."""

    label: str
    text: str
    due_at: datetime


@dataclass(frozen=True)
class ChatSchedule:
    """The chat the crowd joins, as the moderator's question file describes it."""

    hashtag: str  # without '#'
    start: datetime
    end: datetime
    questions: tuple[ScheduledQuestion, ...]
    networks: tuple[str, ...] = ("bluesky", "mastodon")
    moderators: dict[str, str] = field(default_factory=dict)  # network -> handle (informational)

    @classmethod
    def from_event_plan(cls, plan: Any) -> ChatSchedule:
        """Build from a parsed question file (:class:`chatbot.questionfile.model.EventPlan`)."""
        questions = tuple(
            ScheduledQuestion(
                label=post.label,
                text=next(iter(post.texts.values()), post.label) if post.texts else post.label,
                due_at=post.due_at,
            )
            for post in plan.posts
            if post.kind == "question"
        )
        return cls(
            hashtag=plan.hashtag,
            start=plan.start,
            end=plan.end,
            questions=tuple(sorted(questions, key=lambda q: q.due_at)),
            networks=tuple(plan.networks),
            moderators=dict(plan.accounts),
        )


@dataclass(frozen=True)
class CrowdConfig:
    """How big and how busy the crowd is; the seed makes it repeatable."""

    seed: int = 0
    participants: int = 20
    posts_per_minute: float = 4.0
    spammers: int = 3
    hostile_posts: int = 5  # none in a showcase
    tail_minutes: float = 8.0  # late answers and goodbyes after the end
    coverage: bool = True  # make sure every behaviour shows up at least once
    bluesky_domain: str = "crowd.test"
    # Which phrase banks the posts are worded from: "a", those the attribution was tuned
    # while looking at, or "b", held out from tuning (a blind check); see crowd.phrasebooks.
    phrasebook: str = "a"
    # How many sandbox Mastodon instances the Mastodon participants spread over; with more
    # than one, some of them post unlisted (see crowd.people.spread_over_instances).
    mastodon_instances: int = 1
    # A crowd to show people (chatbot demo's showcase), not to test the bot with: no
    # hostile strings in posts or profiles (whatever hostile_posts says) and only the
    # Unicode people write (emoji, flags), not stress strings (stray RTL, combining marks).
    showcase: bool = False
    # Likes and reposts of each other's posts (crowd.reactions): off unless asked for, so
    # the crowd's test runs stay as light and as timed as they were.
    reactions: bool = False

    def __post_init__(self) -> None:
        if self.participants < 1:
            raise ValueError("a crowd needs at least one participant")
        if self.posts_per_minute < 0 or self.spammers < 0 or self.hostile_posts < 0:
            raise ValueError("crowd sizes and rates cannot be negative")
        if self.mastodon_instances < 1:
            raise ValueError("a crowd needs at least one Mastodon instance")
        phrasebook(self.phrasebook)  # a ValueError for an unknown name


@dataclass(frozen=True)
class Participant:
    """One simulated person (or spam account) on one network."""

    key: str  # plan-local, e.g. "u07"
    network: str
    handle: str  # Bluesky handle, or Mastodon username
    display_name: str
    bio: str
    spammer: bool = False
    opt_out: str | None = None  # one of OPT_OUTS
    followers: int = 0  # shown on the profile; the recap sums them as "potential reach"
    activity: float = 1.0
    hostile_profile: bool = False  # markup in the display name and bio
    instance: int = 0  # which sandbox Mastodon instance the account is on (0: the bot's)
    posts_unlisted: bool = False  # posts unlisted (a server's default they never changed)


@dataclass(frozen=True)
class CrowdAction:
    """One thing a participant does at a virtual time; ids are plan-local ("p0042")."""

    id: str
    at: datetime
    op: Op
    author: str  # Participant.key
    network: str
    kind: str = ""  # for posts: one of POST_KINDS
    text: str = ""  # for posts and edits
    answers: tuple[str, ...] = ()  # question labels this post answers
    parent: str | None = None  # plan id of the crowd post replied to
    parent_question: str | None = None  # label of the question replied to
    quote: str | None = None  # plan id of the quoted crowd post
    target: str | None = None  # plan id an edit or delete applies to
    visibility: str = "public"
    has_hashtag: bool = False
    hostile: bool = False
    spam: bool = False
    unicode: str | None = None  # which hard Unicode the text carries
    prefix: str = "none"  # the answer-prefix style used
    mentions: tuple[str, ...] = ()  # participant keys @-mentioned
    # Plan id a mention_reply answers, a continuation goes on from, a spam copy copies.
    about: str | None = None
    quote_question: str | None = None  # label of the question a link_quote links to
    late: bool = False  # answers an earlier question than the one open


@dataclass(frozen=True)
class CrowdPlan:
    """Everything the crowd will do, in time order; pure data, JSON-able."""

    config: CrowdConfig
    schedule: ChatSchedule
    participants: tuple[Participant, ...]
    actions: tuple[CrowdAction, ...]

    def participant(self, key: str) -> Participant:
        return self._by_key()[key]

    def _by_key(self) -> dict[str, Participant]:
        return {p.key: p for p in self.participants}

    def posts(self) -> list[CrowdAction]:
        return [a for a in self.actions if a.op == "post"]

    def action(self, action_id: str) -> CrowdAction:
        return next(a for a in self.actions if a.id == action_id)

    def depth(self) -> dict[str, int]:
        """Reply depth of each post: 0 top level, 1 a reply to a question or top-level post."""
        depth: dict[str, int] = {}
        for post in self.posts():
            if post.parent is not None:
                depth[post.id] = depth[post.parent] + 1
            else:
                depth[post.id] = 1 if post.parent_question else 0
        return depth

    def true_questions(self) -> dict[str, str | None]:
        """The question each post belongs to, as a reader of the chat would say (see below)."""
        found: dict[str, str | None] = {}
        for post in self.posts():
            found[post.id] = true_question(post, found)
        return found

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _jsonable(
            {
                "config": asdict(self.config),
                "schedule": asdict(self.schedule),
                "participants": [asdict(p) for p in self.participants],
                "actions": [asdict(a) for a in self.actions],
            }
        )
        return data


def true_question(post: CrowdAction, known: dict[str, str | None]) -> str | None:
    """The question ``post`` belongs to, given that of every earlier post in ``known``.

    An answer's is the first question it answers; a post in a question's
    thread, that question; a reply, a mention-led reply or a continuation,
    that of the post it answers or goes on from, however late it comes; a
    quote, that of the post it quotes (or the question it links to).
    Spam, greetings, small talk and opt-outs belong to none.
    """
    if post.spam or post.kind in ("intro", "chatter", "optout", "ask"):
        return None
    if post.answers:
        return post.answers[0]
    if post.parent_question:
        return post.parent_question
    for ref in (post.parent, post.about, post.quote):
        if ref:
            return known.get(ref)
    return post.quote_question


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


__all__ = [
    "BOT_SLOT",
    "OPT_OUTS",
    "POST_KINDS",
    "URL_SLOT",
    "ChatSchedule",
    "CrowdAction",
    "CrowdConfig",
    "CrowdPlan",
    "Participant",
    "ScheduledQuestion",
    "true_question",
]
