"""The crowd planner: a pure, seeded function from a chat's schedule to timed actions."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from chatbot.sandbox.crowd import texts
from chatbot.sandbox.crowd.hostile import HOSTILE_PAYLOADS
from chatbot.sandbox.crowd.model import (
    BOT_SLOT,
    URL_SLOT,
    ChatSchedule,
    CrowdAction,
    CrowdConfig,
    CrowdPlan,
    Participant,
    ScheduledQuestion,
    true_question,
)
from chatbot.sandbox.crowd.people import make_people, spread_over_instances
from chatbot.sandbox.crowd.phrasebooks import phrasebook
from chatbot.sandbox.crowd.reactions import plan_reactions
from chatbot.sandbox.crowd.revisions import edits_and_deletes, renumbered
from chatbot.sandbox.crowd.voices import Voices

NETWORKS = ("bluesky", "mastodon")
_STYLE_WEIGHTS = {"none": 60.0} | {s: 4.0 for s in texts.PREFIX_STYLES if s != "none"}
_LATE_STYLE_WEIGHTS = {s: w for s, w in _STYLE_WEIGHTS.items() if s != "none"}
# Shares of a slot's post once a question is out (the rest are top-level answers, four in
# ten with a prefix). Real chats are mostly conversation: replies that open with @mentions,
# often minutes late; few posts carry "A1".
_SHARES: tuple[tuple[str, float], ...] = (
    ("reply", 0.30),
    ("mention_reply", 0.07),
    ("continuation", 0.08),
    ("thread_answer", 0.08),
    ("link_quote", 0.05),
    ("quote", 0.02),
    ("chatter", 0.06),
)
_LOOK_BACK = timedelta(minutes=12)  # how far back a reply or a quote goes for its post
_CONTINUE_WITHIN = timedelta(minutes=6)  # a continuation follows its author's post this soon
# What late joiners ask the bot, one wording each ({bot}: its @handle; {n}: a question).
_ASKS = (
    "{bot} what's the current question?",
    "hi {bot}, just joined! which question are we on?",
    "{bot} Q{n}?",
)
_HELLOS = ("intro", "chatter")  # greetings and small talk: answered with a greeting
_ANSWERING = ("answer", "thread_answer", "continuation", "link_quote", "reply", "mention_reply")

TEXT_LIMIT = 300  # characters: the shortest post limit of the networks (Bluesky)


def plan_crowd(config: CrowdConfig, schedule: ChatSchedule) -> CrowdPlan:
    """Plan everything a seeded crowd does during ``schedule``; same input, same plan."""
    return _Planner(config, schedule).build()


class _Planner:
    def __init__(self, config: CrowdConfig, schedule: ChatSchedule):
        self.config = config
        self.schedule = schedule
        self.rng = random.Random(f"crowd:{config.seed}")
        self.networks = [n for n in NETWORKS if n in schedule.networks] or ["bluesky"]
        self.questions = sorted(schedule.questions, key=lambda q: q.due_at)
        self.finish = schedule.end + timedelta(minutes=config.tail_minutes)
        if self.finish <= schedule.start:
            self.finish = schedule.start + timedelta(minutes=max(config.tail_minutes, 1.0))
        self.people: list[Participant] = []
        self.spammers: list[Participant] = []
        self.actions: list[CrowdAction] = []
        self.depth: dict[str, int] = {}
        self.true: dict[str, str | None] = {}  # plan id -> the question it belongs to
        self.question_text = {q.label: q.text for q in self.questions}
        self.seq = 0
        self._pools: dict[str | None, tuple[list[Participant], list[float]]] = {}
        self._by_key: dict[str, Participant] = {}
        self._by_id = _Lookup(self.actions)
        self.book = phrasebook(config.phrasebook)
        self.voices = Voices(self.book)

    # -- helpers --------------------------------------------------------
    def _new_id(self) -> str:
        self.seq += 1
        return f"x{self.seq:05d}"

    def _due(self, at: datetime) -> list[ScheduledQuestion]:
        return [q for q in self.questions if q.due_at <= at]

    def _pick_author(self, network: str | None = None, exclude: str = "") -> Participant | None:
        """A participant (weighted by activity), optionally on ``network`` and not ``exclude``."""
        if network not in self._pools:
            pool = [p for p in self.people if network in (None, p.network)]
            self._pools[network] = (pool, list(accumulate(p.activity for p in pool)))
        pool, weights = self._pools[network]
        if not pool or (len(pool) == 1 and pool[0].key == exclude):
            return None
        for _ in range(20):
            chosen = self.rng.choices(pool, cum_weights=weights)[0]
            if chosen.key != exclude:
                return chosen
        return next(p for p in pool if p.key != exclude)

    def _mention(self, person: Participant) -> str:
        return f"@{person.handle}"

    def _add(self, at: datetime, author: Participant, kind: str, text: str, **extra: Any) -> str:
        if not extra.get("spam"):
            text = self.voices.own(self.rng, text, author.key)
        if author.posts_unlisted:
            extra["visibility"] = "unlisted"  # everything they post
        action_id = self._new_id()
        self.actions.append(
            action := CrowdAction(
                id=action_id,
                at=at,
                op="post",
                author=author.key,
                network=author.network,
                kind=kind,
                text=text,
                has_hashtag=f"#{self.schedule.hashtag.lower()}" in text.lower(),
                **extra,
            )
        )
        self.true[action_id] = true_question(action, self.true)
        parent = extra.get("parent")
        if parent:
            self.depth[action_id] = self.depth[parent] + 1
        else:
            self.depth[action_id] = 1 if extra.get("parent_question") else 0
        return action_id

    def _recent(self, at: datetime, within: timedelta = _LOOK_BACK) -> list[CrowdAction]:
        """Posts of the last ``within`` before ``at`` someone might answer, likeliest first.

        Newer posts come first more often, but a post some minutes old (from
        before the current question, say) is often enough picked too.
        """
        found: list[tuple[float, CrowdAction]] = []
        for action in reversed(self.actions):
            if action.op != "post" or action.kind in ("spam", "optout") or action.at >= at:
                continue
            age = (at - action.at).total_seconds()
            if age > within.total_seconds():
                break  # slots are filled in time order: everything further back is older
            weight = 1.0 if age < 90 else 0.35 if age < 240 else 0.08
            found.append((self.rng.random() ** (1 / weight), action))
        found.sort(key=lambda pair: (-pair[0], pair[1].id))
        return [action for _, action in found]

    def _topic(self, action_id: str) -> str | None:
        """The text of the question a planned post belongs to (None for none)."""
        label = self.true.get(action_id)
        return self.question_text.get(label) if label else None

    # -- slots ----------------------------------------------------------
    def _slots(self) -> list[datetime]:
        start, rng = self.schedule.start, self.rng
        span = (self.finish - start).total_seconds()
        count = round(self.config.posts_per_minute * span / 60)
        return sorted(
            start + timedelta(seconds=round(rng.uniform(0, span), 3)) for _ in range(count)
        )

    def _forced_specs(self) -> list[dict[str, Any]]:
        hostile = 0 if self.config.showcase else self.config.hostile_posts
        specs: list[dict[str, Any]] = [{"hostile": True} for _ in range(hostile)]
        if not self.config.coverage:
            return specs
        two = len(self.questions) >= 2
        styles = [s for s in texts.PREFIX_STYLES if s != "none" and (two or "A2" not in s)]
        specs += [{"prefix": style} for style in styles]
        specs += [{"unicode": kind} for kind in self._unicode_kinds()]
        specs += [
            {"kind": "thread_answer", "network": n, "question": q.label}
            for n in self.networks
            for q in self.questions
        ]
        specs += [{"kind": "quote"}]
        specs += [{"kind": "reply", "mention": True}, {"mention": True}]
        specs += [{"kind": "mention_reply"}, {"kind": "link_quote", "question": False}]
        specs += [{"kind": "link_quote", "question": True}]
        specs += [{"kind": "continuation", "self_reply": b} for b in (False, True)]
        if two:
            specs.append({"late": True})
        if "mastodon" in self.networks:
            specs.append({"network": "mastodon", "visibility": "unlisted"})
        return specs

    def _unicode_kinds(self) -> tuple[str, ...]:
        """Hard Unicode the posts carry: in a showcase, only what people write anyway."""
        if self.config.showcase:
            return texts.SHOWCASE_UNICODE_KINDS
        return texts.UNICODE_KINDS

    def _fill(self) -> None:
        rng = self.rng
        slots = self._slots()
        first_due = self.questions[0].due_at if self.questions else self.finish
        specs = self._forced_specs() if self.questions else []
        eligible = [i for i, at in enumerate(slots) if at >= first_due]
        extra = max(0, len(specs) - len(eligible))
        span = max((self.finish - first_due).total_seconds(), 1.0)
        for _ in range(extra):
            slots.append(first_due + timedelta(seconds=round(rng.uniform(0, span), 3)))
        slots.sort()
        eligible = [i for i, at in enumerate(slots) if at >= first_due]
        chosen = dict(zip(sorted(rng.sample(eligible, len(specs))), specs, strict=True))
        pending: list[dict[str, Any]] = []
        for index, at in enumerate(slots):
            if index in chosen:
                pending.append(chosen[index])
            if pending:
                if self._compose(at, pending[0]):
                    pending.pop(0)
                    continue
                pending.append(pending.pop(0))  # not possible yet: try it at a later slot
            self._compose(at, self._random_spec(at))

    def _random_spec(self, at: datetime) -> dict[str, Any]:
        roll = self.rng.random()
        if not self._due(at):
            return {"kind": "chatter"}
        for kind, share in _SHARES:
            if roll < share:
                return {"kind": kind}
            roll -= share
        return {"kind": "answer"}

    # -- composing one post --------------------------------------------
    def _compose(self, at: datetime, spec: dict[str, Any]) -> bool:
        kind = spec.get("kind", "answer")
        if kind == "chatter":
            return self._chatter(at)
        due = self._due(at)
        if not due:
            return False
        if kind in ("reply", "quote", "mention_reply"):
            return self._reply(at, kind, spec)
        if kind == "link_quote":
            return self._link_quote(at, due, spec)
        if kind == "continuation":
            return self._continuation(at, spec)
        author = self._pick_author(spec.get("network"))
        if author is None:
            return False
        question = due[-1]
        if (spec.get("late") or self.rng.random() < 0.2) and len(due) >= 2:
            question = self.rng.choice(due[:-1])
        if "question" in spec:  # a given question, once it is out
            wanted = [q for q in due if q.label == spec["question"]]
            if not wanted:
                return False
            question = wanted[0]
        if spec.get("late") and question is due[-1]:
            return False
        if kind == "thread_answer":
            return self._thread_answer(at, author, question)
        return self._answer(at, author, question, due, spec)

    def _answer(
        self,
        at: datetime,
        author: Participant,
        question: ScheduledQuestion,
        due: list[ScheduledQuestion],
        spec: dict[str, Any],
    ) -> bool:
        rng = self.rng
        # After the host's wrap-up, whoever still answers names the question.
        weights = _LATE_STYLE_WEIGHTS if at > self.schedule.end else _STYLE_WEIGHTS
        style = spec.get("prefix") or rng.choices(list(weights), list(weights.values()))[0]
        labels = [question.label]
        if style == "A1a" and any(q.label == f"{question.label}a" for q in self.questions):
            style = "A1"  # "A1a" would name the sub-question Q1a
        if style in ("A1/A2", "A1..A2"):
            if len(due) < 2:
                return False
            index = due.index(question)
            other = due[index - 1] if index > 0 else due[1]
            pair = sorted((question, other), key=lambda q: q.due_at)
            labels = [q.label for q in pair]
            bodies = [texts.answer_body(rng, q.text, self.book) for q in pair]
        else:
            bodies = [texts.answer_body(rng, question.text, self.book)]
        text = texts.prefixed(style, labels, bodies)
        mentions: tuple[str, ...] = ()
        if spec.get("mention") or rng.random() < 0.08:
            other_person = self._pick_author(author.network, exclude=author.key)
            if other_person:
                agree = texts.one_of(rng, self.book.agree)
                text = agree.format(mention=self._mention(other_person), text=text)
                mentions = (other_person.key,)
        unicode = spec.get("unicode") or (
            rng.choice(self._unicode_kinds()) if rng.random() < 0.08 else None
        )
        if unicode:
            text = texts.decorate(rng, text, unicode)
        hostile = bool(spec.get("hostile"))
        if hostile:
            payload = rng.choice(HOSTILE_PAYLOADS)
            # Room for the payload and the tag: every network takes 300 characters.
            room = TEXT_LIMIT - len(payload) - len(self.schedule.hashtag) - 3
            text = f"{text[:room].rstrip()} {payload}"
        text = texts.with_hashtag(rng, text, self.schedule.hashtag)
        visibility = spec.get("visibility") or self._visibility(author)
        self._add(
            at, author, "answer", text, answers=tuple(labels), prefix=style, mentions=mentions,
            unicode=unicode, hostile=hostile, visibility=visibility, late=question is not due[-1],
        )  # fmt: skip
        return True

    def _visibility(self, author: Participant) -> str:
        if author.network == "mastodon" and self.rng.random() < 0.04:
            return "unlisted"
        return "public"

    def _thread_answer(
        self, at: datetime, author: Participant, question: ScheduledQuestion
    ) -> bool:
        rng = self.rng
        style = "none" if rng.random() < 0.7 else rng.choice(("A1", "A1:"))
        body = texts.answer_body(rng, question.text, self.book)
        text = texts.prefixed(style, [question.label], [body])
        if rng.random() < 0.15:
            text = texts.with_hashtag(rng, text, self.schedule.hashtag)
        self._add(
            at, author, "thread_answer", text, answers=(question.label,),
            parent_question=question.label, prefix=style, visibility=self._visibility(author),
            late=question is not self._due(at)[-1],
        )  # fmt: skip
        return True

    def _reply(self, at: datetime, kind: str, spec: dict[str, Any]) -> bool:
        """A reply, a quote or a top-level post that @mentions whom it answers."""
        rng = self.rng
        parents = self._recent(at)
        replies = [p for p in parents if p.kind == "reply"]
        if kind == "reply" and replies and rng.random() < 0.3:
            parents = replies  # carry an ongoing conversation on
        for parent in parents:
            hello = parent.kind in _HELLOS
            if hello and (kind == "quote" or parent.at > self.schedule.end):
                continue  # nobody quotes a hello, nor greets a goodbye
            author = self._pick_author(parent.network, exclude=parent.author)
            if author is None:
                continue
            if kind == "quote":
                quote = rng.choice(self.book.quotes)
                text = texts.with_hashtag(rng, quote, self.schedule.hashtag)
                self._add(at, author, "quote", text, quote=parent.id, visibility="public")
                return True
            if hello:  # a hello is answered with a greeting, not a discussion
                name = self._person(parent.author).display_name.split()[0]
                text = texts.welcome_body(rng, name, self.book)
            else:
                text = texts.reply_body(rng, self._topic(parent.id), self.book)
            mentions: tuple[str, ...] = ()
            if kind == "mention_reply" or spec.get("mention") or rng.random() < 0.9:
                mentions = self._answered(parent, author)
                text = " ".join(f"@{self._person(key).handle}" for key in mentions) + " " + text
            if kind == "mention_reply":
                # No reply link: only the @mention says whom it answers (and it needs
                # the hashtag, or nobody finds it).
                text = texts.with_hashtag(rng, text, self.schedule.hashtag, first=False)
                self._add(
                    at, author, "mention_reply", text, about=parent.id, mentions=mentions,
                    visibility=self._visibility(author),
                )  # fmt: skip
                return True
            if rng.random() < 0.7:
                text = texts.with_hashtag(rng, text, self.schedule.hashtag, first=not mentions)
            visibility = "unlisted" if parent.visibility == "unlisted" else self._visibility(author)
            self._add(
                at, author, "reply", text, parent=parent.id, mentions=mentions,
                visibility=visibility,
            )  # fmt: skip
            return True
        return False

    def _answered(self, post: CrowdAction, author: Participant) -> tuple[str, ...]:
        """Whom a reply to ``post`` @mentions: its author, now and then the one it answered."""
        keys = [post.author]
        above = post.parent or post.about
        if above and self.rng.random() < 0.3:
            other = self._by_id[above].author
            if other not in (author.key, post.author) and not self._person(other).spammer:
                keys.append(other)
        return tuple(keys)

    def _continuation(self, at: datetime, spec: dict[str, Any]) -> bool:
        """A participant's next words on their own recent answer, without a prefix."""
        rng = self.rng
        for before in self._recent(at, _CONTINUE_WITHIN):
            if before.kind not in ("answer", "continuation") or before.hostile:
                continue
            topic = self._topic(before.id)
            if topic is None:
                continue
            author = self._person(before.author)
            text = texts.continuation_body(rng, topic, self.book)
            self_reply = spec.get("self_reply", rng.random() < 0.3)
            if self_reply:  # threaded under their own post, as people do on both networks
                if rng.random() < 0.5:
                    text = texts.with_hashtag(rng, text, self.schedule.hashtag)
                self._add(
                    at, author, "continuation", text, parent=before.id,
                    visibility=before.visibility,
                )  # fmt: skip
            else:
                text = texts.with_hashtag(rng, text, self.schedule.hashtag)
                self._add(
                    at, author, "continuation", text, about=before.id,
                    visibility=self._visibility(author),
                )  # fmt: skip
            return True
        return False

    def _link_quote(self, at: datetime, due: list[ScheduledQuestion], spec: dict[str, Any]) -> bool:
        """A post that links a question or someone's post only by its web address."""
        rng = self.rng
        tag = self.schedule.hashtag
        if spec.get("question", rng.random() < 0.25):
            author = self._pick_author()
            if author is None:
                return False
            question = due[-1] if rng.random() < 0.5 else rng.choice(due)
            text = f"{rng.choice(self.book.question_links)} {URL_SLOT}"
            if rng.random() < 0.5:
                text += " " + texts.answer_body(rng, question.text, self.book)
            text = texts.with_hashtag(rng, text, tag)
            self._add(at, author, "link_quote", text, quote_question=question.label)
            return True
        for quoted in self._recent(at):
            if quoted.kind not in _ANSWERING or quoted.hostile:
                continue
            author = self._pick_author(quoted.network, exclude=quoted.author)
            if author is None:
                continue
            comment = rng.choice(self.book.link_quotes)
            text = f"{comment} {URL_SLOT}" if rng.random() < 0.7 else f"{URL_SLOT} {comment}"
            text = texts.with_hashtag(rng, text, tag)
            self._add(at, author, "link_quote", text, quote=quoted.id)
            return True
        return False

    def _chatter(self, at: datetime) -> bool:
        author = self._pick_author()
        if author is None:
            return False
        tag = texts.tag_variant(self.rng, self.schedule.hashtag)
        if at > self.schedule.end:
            text = self.rng.choice(self.book.thanks).format(tag=tag)
        else:
            name = author.display_name.split()[0]
            text = texts.chatter_text(self.rng, tag, name, self.book)
        kind = (
            "chatter"
            if self._due(at) or at > self.schedule.start + timedelta(minutes=3)
            else "intro"
        )
        self._add(at, author, kind, text)
        return True

    def _person(self, key: str) -> Participant:
        return self._by_key[key]

    # -- the rest -------------------------------------------------------
    def _deepen(self) -> None:
        """Make sure some conversation runs five and more replies deep."""
        if not self.config.coverage or max(self.depth.values(), default=0) >= 5:
            return
        posts = [a for a in self.actions if a.kind in ("answer", "thread_answer", "reply")]
        for leaf in sorted(posts, key=lambda a: -self.depth[a.id]):
            other = self._pick_author(leaf.network, exclude=leaf.author)
            if other is None:
                continue
            pair = [self._person(leaf.author), other]
            current, at = leaf, leaf.at
            while self.depth[current.id] < 6:
                at += timedelta(seconds=self.rng.randint(15, 50))
                author = pair[(self.depth[current.id] - self.depth[leaf.id] + 1) % 2]
                replied = self._person(current.author)
                body = texts.reply_body(self.rng, self._topic(current.id), self.book)
                text = f"{self._mention(replied)} {body}"
                new_id = self._add(
                    at, author, "reply", text, parent=current.id, mentions=(replied.key,),
                    visibility=current.visibility,
                )  # fmt: skip
                current = self.actions[-1]
                assert current.id == new_id
            return

    def _late_joiners(self) -> None:
        """One person per network who arrives late and asks the bot for a question.

        On the bot's own server (a local @mention), after the second question is
        out, without the hashtag: the bot answers them (``chatbot.bot.latejoiners``).
        """
        if not self.config.coverage or len(self.questions) < 2:
            return
        rng = random.Random(f"late-joiners:{self.config.seed}")
        for index, network in enumerate(self.networks):
            people = [
                p for p in self.people
                if p.network == network and p.instance == 0 and p.opt_out is None
                and not p.posts_unlisted
            ]  # fmt: skip
            if not people:
                continue
            author = rng.choice(people)
            second, last = self.questions[1].due_at, self.questions[-1].due_at
            span = max((last - second).total_seconds(), 60.0)
            at = second + timedelta(seconds=round(rng.uniform(20, span), 3))
            asked = rng.choice(self._due(at))
            number = asked.label[1:].rstrip("abcdefghijklmnopqrstuvwxyz") or "1"
            text = _ASKS[(index + rng.randrange(len(_ASKS))) % len(_ASKS)]
            self._add(at, author, "ask", text.format(bot=BOT_SLOT, n=number))

    def _opt_out_posts(self) -> None:
        for person in self.people:
            if person.opt_out == "optout_post":
                span = (self.schedule.end - self.schedule.start).total_seconds()
                at = self.schedule.start + timedelta(seconds=round(self.rng.uniform(0, span), 3))
                tag = texts.tag_variant(self.rng, self.schedule.hashtag)
                text = self.book.optout.format(tag=tag)
                self._add(at, person, "optout", text)

    def _spam(self) -> None:
        rng, tag = self.rng, self.schedule.hashtag
        begin = self.questions[0].due_at if self.questions else self.schedule.start
        span = max((self.schedule.end - begin).total_seconds(), 1.0)

        def when() -> datetime:
            return begin + timedelta(seconds=round(rng.uniform(0, span), 3))

        for index, spammer in enumerate(self.spammers):
            for _ in range(rng.randint(1, 2)):
                text = f"{self.book.spam_promo} {texts.tag_variant(rng, tag)}"
                self._add(when(), spammer, "spam", text, spam=True)
            if index == 0:
                self._add(when(), spammer, "spam", texts.stuffing_text(tag, self.book), spam=True)
            answers = [a for a in self.actions if a.kind == "answer" and not a.hostile]
            # A copy of a post the collection sees: public, by someone who did not opt out.
            answers = [
                a
                for a in answers
                if a.network == spammer.network
                and a.visibility == "public"
                and self._person(a.author).opt_out is None
            ]
            if index == 1 and answers:
                source = rng.choice(answers)
                text = f"{source.text} {self.book.spam_copy_link}"
                at = source.at + timedelta(seconds=rng.randint(30, 300))
                # ``about``: what it copies, so the driver posts the copy only once
                # the original is out (it may wait for its question on a busy bot).
                self._add(at, spammer, "spam", text, spam=True, about=source.id)
        # Waves: every spam account posts its copy of one template within minutes.
        for template, words in self.book.spam_waves if len(self.spammers) >= 2 else ():
            first = when()
            for spammer in self.spammers:
                at = first + timedelta(seconds=rng.randint(5, 240))
                text = f"{texts.wave_text(rng, template, words)} {texts.tag_variant(rng, tag)}"
                self._add(at, spammer, "spam", text, spam=True)

    def build(self) -> CrowdPlan:
        self.people, self.spammers = make_people(self.rng, self.config, self.networks)
        spread_over_instances(self.config, self.people, self.spammers)
        self._by_key = {p.key: p for p in self.people + self.spammers}
        self._fill()
        self._deepen()
        self._opt_out_posts()
        self._spam()
        self.actions += edits_and_deletes(
            self.rng, self.actions, self._new_id, self.config.coverage, self.book
        )
        self._late_joiners()  # last, on a random stream of its own: the rest stays as it was
        if self.config.reactions:
            self.actions += plan_reactions(
                self.config.seed, self.people, self.actions, self._new_id
            )
        return CrowdPlan(
            config=self.config,
            schedule=self.schedule,
            participants=tuple(self.people + self.spammers),
            actions=renumbered(self.actions),
        )


class _Lookup:
    """Planned actions by id, kept up to date as the planner appends to its list."""

    def __init__(self, actions: list[CrowdAction]):
        self.actions = actions
        self.index: dict[str, CrowdAction] = {}

    def __getitem__(self, action_id: str) -> CrowdAction:
        if action_id not in self.index:
            self.index.update((a.id, a) for a in self.actions)
        return self.index[action_id]


__all__ = ["plan_crowd"]
