"""Plays a crowd plan against the sandbox stores on the (accelerated) clock, recording the truth."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chatbot.clock import Clock, SystemClock
from chatbot.sandbox.crowd.model import BOT_SLOT, URL_SLOT, CrowdAction, CrowdPlan, Participant
from chatbot.sandbox.crowd.truth import GroundTruth
from chatbot.text.posturls import bluesky_post_url

NO_UNAUTHENTICATED = "!no-unauthenticated"
CROWD_PASSWORD = "crowd-sandbox-only"  # a throwaway for sandbox accounts
_TAGS = re.compile(r"<[^>]+>")

# What one step does with an action: it ran, it must wait, or it can never run.
_DONE, _WAIT = "done", "wait"


class CrowdDriver:
    """Executes a :class:`CrowdPlan` against in-process sandbox stores.

    Call :meth:`run_due` with a time to play step by step, or :meth:`run` /
    :meth:`start` to follow the clock.  Question posts are found in the stores
    (the moderator's posts whose text starts with the label, e.g. ``Q2:``); an
    answer in a question's thread (or a post linking to a question) waits up
    to ``question_grace`` of virtual time for its question and is then
    skipped, which the truth records. ``web`` is the base of Bluesky's post
    pages in the links the crowd writes (the sandbox serves them itself).

    ``mastodon_stores`` (the bot's instance first) and ``federation`` spread the
    Mastodon participants over several instances: each posts on its own, and
    replies to or quotes of a status from elsewhere go to the copy on the
    author's instance, fetched there if it has not arrived.
    """

    def __init__(
        self,
        plan: CrowdPlan,
        bluesky_store: Any = None,
        mastodon_store: Any = None,
        clock: Clock | None = None,
        *,
        moderators: dict[str, str] | None = None,
        question_grace: timedelta = timedelta(minutes=3),
        web: str = "https://bsky.app",
        mastodon_stores: Sequence[Any] | None = None,
        federation: Any = None,
    ):
        self.plan = plan
        self.mastodon_stores = list(mastodon_stores or ([mastodon_store] if mastodon_store else []))
        self.federation = federation
        first = self.mastodon_stores[0] if self.mastodon_stores else None
        self.stores: dict[str, Any] = {"bluesky": bluesky_store, "mastodon": first}
        self.clock: Clock = clock or SystemClock()
        self.moderators = dict(moderators or {})  # network -> DID / account id
        self.question_grace = question_grace
        self.web = web
        self.truth = GroundTruth(plan)
        self._queue: list[CrowdAction] = list(plan.actions)
        self._people = {p.key: p for p in plan.participants}
        self._account_ids: dict[str, str] = {}
        self._refs: dict[str, str] = {}  # plan id -> at:// URI or status id
        self._homes: dict[str, int] = {}  # plan id -> the Mastodon instance it is on
        self._skipped: set[str] = set()
        self._never: set[tuple[str, str]] = set()  # (network, label) given up on
        self._lock = threading.RLock()
        self._ready = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- accounts ----------------------------------------------------------
    def setup(self) -> None:
        """Create every participant's account (idempotent)."""
        with self._lock:
            if self._ready:
                return
            for person in self.plan.participants:
                store = self.store_of(person)
                if store is not None:
                    self._account_ids[person.key] = self._create_account(store, person)
                    self.truth.accounts[person.key] = {
                        "network": person.network,
                        "handle": person.handle,
                        "id": self._account_ids[person.key],
                        "display_name": person.display_name,
                        "spammer": person.spammer,
                        "opt_out": person.opt_out,
                        "hostile_profile": person.hostile_profile,
                        "instance": getattr(store, "domain", None)
                        if person.network == "mastodon"
                        else None,
                        "posts_unlisted": person.posts_unlisted,
                    }
            self._ready = True

    def store_of(self, person: Participant) -> Any:
        """The store ``person`` posts to: their Mastodon instance's, or Bluesky's."""
        if person.network != "mastodon":
            return self.stores.get(person.network)
        if not self.mastodon_stores:
            return None
        return self.mastodon_stores[person.instance % len(self.mastodon_stores)]

    def _instance(self, person: Participant) -> int:
        return person.instance % len(self.mastodon_stores) if self.mastodon_stores else 0

    def _here(self, ref: str, home: int, instance: int) -> str:
        """Status ``ref`` of instance ``home`` as instance ``instance`` knows it (fetched)."""
        if home == instance or self.federation is None:
            return ref
        local = self.federation.resolve(self.federation.uri_of(home, ref), instance)
        if local is None:
            raise LookupError(f"status {ref} is gone from its instance")
        return str(local)

    def _create_account(self, store: Any, person: Participant) -> str:
        if person.network == "bluesky":
            existing = store.account(person.handle)
            if existing is not None:
                return str(existing.did)
            account = store.create_account(
                person.handle,
                CROWD_PASSWORD,
                display_name=person.display_name,
                description=person.bio,
                followers_count=person.followers,
            )
            if person.opt_out == "self_label":
                store.set_self_labels(account.did, [NO_UNAUTHENTICATED])
            return str(account.did)
        existing = store.lookup_account(person.handle)
        if existing is not None:
            return str(existing.id)
        account = store.create_account(
            person.handle,
            display_name=person.display_name,
            note=person.bio,
            noindex=person.opt_out == "noindex",
            indexable=person.opt_out != "not_indexable",
            followers_count=person.followers,
        )
        return str(account["id"])

    # -- running -----------------------------------------------------------
    @property
    def finished(self) -> bool:
        with self._lock:
            return not self._queue

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._queue)

    def run_due(self, now: datetime | None = None) -> int:
        """Do every action due by ``now`` (default: the clock); returns how many ran."""
        now = now or self.clock.now()
        done = 0
        with self._lock:
            self.setup()
            waiting: list[CrowdAction] = []
            blocked: set[str] = set()
            for index, action in enumerate(self._queue):
                if action.at > now:
                    waiting.extend(self._queue[index:])
                    break
                refs = {action.parent, action.quote, action.target, action.about} - {None}
                if refs & blocked or self._step(action, now) == _WAIT:
                    waiting.append(action)  # keep the order: what depends on it waits too
                    blocked.add(action.id)
                else:
                    done += 1
            self._queue = waiting
        return done

    def run(self, until: datetime | None = None, *, poll: float = 0.02) -> None:
        """Follow the clock until the plan is done, ``until`` passes or :meth:`stop`."""
        while not self._stop.is_set():
            now = self.clock.now()
            self.run_due(now)
            if self.finished or (until is not None and now >= until):
                return
            self._stop.wait(poll)

    def start(self, until: datetime | None = None) -> threading.Thread:
        """Run in a daemon thread; :meth:`stop` or :meth:`join` to finish."""
        self.setup()
        self._thread = threading.Thread(
            target=self.run, kwargs={"until": until}, name="sandbox-crowd", daemon=True
        )
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.join(timeout)

    def write_truth(self, path: str | Path) -> Path:
        """Write the ground truth as JSON (every question post found so far included)."""
        with self._lock:
            for question in self.plan.schedule.questions:
                for network, store in self.stores.items():
                    if store is not None:
                        self.question_ref(network, question.label)
            self._note_copies()
            return self.truth.write(path)

    def _note_copies(self) -> None:
        """Each Mastodon post's id on every instance that has it (or had it, if deleted)."""
        for plan_id, home in self._homes.items():
            post = self.truth.posts.get(plan_id)
            if post is None or post.uri is None or post.ref is None:
                continue
            found = {self.mastodon_stores[home].domain: post.ref}
            if self.federation is not None:
                for index, store in enumerate(self.mastodon_stores):
                    copy = self.federation.copy_id(post.uri, index)
                    if copy is not None:
                        found[store.domain] = str(copy)
            post.ids_by_instance = found

    # -- one action ----------------------------------------------------------
    def _skip(self, action: CrowdAction, reason: str) -> str:
        self._skipped.add(action.id)
        if action.op == "post":
            post = self.truth.posts[action.id]
            post.status, post.skipped = "skipped", reason
        return _DONE

    def _step(self, action: CrowdAction, now: datetime) -> str:
        person = self._people[action.author]
        store = self.store_of(person)
        if action.op != "post" and action.target is not None and action.network == "mastodon":
            store = self.mastodon_stores[self._homes.get(action.target, 0)]  # where it lives
        if store is None:
            return self._skip(action, f"{action.network} is not running")
        for ref in (action.parent, action.quote, action.target, action.about):
            if ref and ref in self._skipped:
                return self._skip(action, f"{ref} was never posted")
        try:
            if action.op == "post":
                return self._post(store, action, now)
            if action.op == "edit":
                return self._edit(store, action, now)
            if action.op in ("like", "repost"):
                return self._react(store, action, now)
            return self._delete(store, action, now)
        except Exception as error:  # a store refusal is part of the story, not a crash
            return self._skip(action, f"{type(error).__name__}: {error}")

    def _post(self, store: Any, action: CrowdAction, now: datetime) -> str:
        if not action.spam and not self._questions_seen(action, now):
            return _WAIT
        truth = self.truth.posts[action.id]
        instance = self._instance(self._people[action.author])
        mastodon = action.network == "mastodon"

        def here(ref: str | None, home: int) -> str | None:
            return self._here(ref, home, instance) if ref and mastodon else ref

        # The truth keeps refs on their home instance; the post uses the author's copies.
        parent_ref = self._refs.get(action.parent) if action.parent else None
        parent = here(parent_ref, self._homes.get(action.parent or "", 0))
        if action.parent_question:
            parent_ref = self.question_ref(action.network, action.parent_question)
            if parent_ref is None:
                return self._question_late(action, action.parent_question, now)
            parent = here(parent_ref, 0)
        quote_ref = self._refs.get(action.quote) if action.quote else None
        quote = here(quote_ref, self._homes.get(action.quote or "", 0))
        text, link = action.text, None
        if action.kind == "link_quote":
            if action.quote_question:
                quote_ref = self.question_ref(action.network, action.quote_question)
                if quote_ref is None:
                    return self._question_late(action, action.quote_question, now)
                quote = here(quote_ref, 0)
            assert quote is not None
            link = self.web_url(store, action.network, quote)
            text = text.replace(URL_SLOT, link)
            truth.quote_url = link
        if BOT_SLOT in text:
            bot = self._bot_mention(store, action.network)
            if bot is None:
                return self._skip(action, f"no bot account on {action.network} to ask")
            text = text.replace(BOT_SLOT, bot)
        author = self._account_ids[action.author]
        embed = None if link else quote  # a link is all that ties a link_quote to its post
        if action.network == "bluesky":
            view = store.create_post(author, text, reply_to=parent, quote=embed)
            ref, url = view["uri"], None
        else:
            status = store.create_status(
                author, text, in_reply_to_id=parent, visibility=action.visibility,
                quote_id=embed,
            )  # fmt: skip
            ref, url = str(status["id"]), status.get("url")
            self._homes[action.id] = instance
            truth.instance, truth.uri = store.domain, status.get("uri")
        self._refs[action.id] = ref
        truth.status, truth.ref, truth.url = "posted", ref, url
        truth.author_id, truth.parent, truth.quote = author, parent_ref, quote_ref
        truth.posted_at, truth.text = now.isoformat(), text
        return _DONE

    def _questions_seen(self, action: CrowdAction, now: datetime) -> bool:
        """Whether every question due by ``action``'s time is out on its network.

        People answer what they have seen: a post planned just after a question
        is due waits until the bot has posted it (up to ``question_grace``, then
        the question is given up on for the rest of the chat).
        """
        for question in self.plan.schedule.questions:
            key = (action.network, question.label)
            if question.due_at > action.at or key in self._never:
                continue
            if self.question_ref(action.network, question.label) is None:
                if now - action.at < self.question_grace:
                    return False
                self._never.add(key)
        return True

    def _question_late(self, action: CrowdAction, label: str, now: datetime) -> str:
        """Wait for question ``label`` within the grace, else skip ``action`` (recorded)."""
        if now - action.at < self.question_grace:
            return _WAIT
        self.truth.question_waits.append(
            {"plan_id": action.id, "question": label, "network": action.network}
        )
        return self._skip(action, f"{label} was not posted in time")

    def _bot_mention(self, store: Any, network: str) -> str | None:
        """``@handle`` of the bot's account on ``network`` (its moderator id), if known."""
        account = store.account(self.moderators[network]) if network in self.moderators else None
        if account is None:
            return None
        return f"@{account.handle}" if network == "bluesky" else f"@{account.acct}"

    def web_url(self, store: Any, network: str, ref: str) -> str:
        """The web address people copy to link a post: its page under the author's handle."""
        if network == "bluesky":
            view = store.post_view(ref)
            return bluesky_post_url(view["author"]["handle"], ref.rsplit("/", 1)[-1], self.web)
        return str(store.status_json(store.status(ref), viewer_id=None)["url"])

    def _edit(self, store: Any, action: CrowdAction, now: datetime) -> str:
        assert action.target is not None
        truth = self.truth.posts[action.target]
        text = action.text.replace(URL_SLOT, truth.quote_url or URL_SLOT)  # the link stays
        store.edit_status(self._refs[action.target], text)
        truth.edit_history.append(truth.text)
        truth.text, truth.edited = text, True
        return _DONE

    def _react(self, store: Any, action: CrowdAction, now: datetime) -> str:
        """A like or repost (a favourite or boost on Mastodon) of another crowd post."""
        assert action.target is not None
        ref, me = self._refs[action.target], self._account_ids[action.author]
        if action.network == "bluesky":
            post = store.record(ref)
            subject = {"uri": ref, "cid": post.cid}
            kind = "app.bsky.feed.like" if action.op == "like" else "app.bsky.feed.repost"
            store.create_record(
                me, kind, {"subject": subject, "createdAt": now.isoformat().replace("+00:00", "Z")}
            )
        else:
            store.reactions.set("favourite" if action.op == "like" else "reblog", ref, me)
        return _DONE

    def _delete(self, store: Any, action: CrowdAction, now: datetime) -> str:
        assert action.target is not None
        ref = self._refs[action.target]
        if action.network == "bluesky":
            store.delete_post(ref)
        else:
            store.delete_status(ref)
        truth = self.truth.posts[action.target]
        truth.deleted, truth.deleted_at = True, now.isoformat()
        return _DONE

    # -- finding the bot's questions -------------------------------------------
    def question_ref(self, network: str, label: str) -> str | None:
        """The URI / id of the bot's post of question ``label`` on ``network``, if posted."""
        known = self.truth.questions.get(label, {}).get(network)
        if known:
            return known
        store = self.stores.get(network)
        if store is None:
            return None
        pattern = re.compile(rf"^\s*{re.escape(label)}(?![0-9A-Za-z])", re.IGNORECASE)
        crowd = {  # the crowd's accounts on that store (instances have their own id spaces)
            account_id
            for key, account_id in self._account_ids.items()
            if self._people[key].network == network and self._instance(self._people[key]) == 0
        }
        moderator = self.moderators.get(network)
        for ref, author, text in self._candidates(store, network, moderator):
            mine = author not in crowd and (moderator is None or author == moderator)
            if mine and pattern.match(text):
                self.truth.questions.setdefault(label, {})[network] = ref
                return ref
        return None

    def _candidates(
        self, store: Any, network: str, moderator: str | None
    ) -> list[tuple[str, str, str]]:
        tag = self.plan.schedule.hashtag
        if network == "bluesky":
            views = (
                store.find_posts(author_did=moderator) if moderator else store.find_posts(tag=tag)
            )
            return [(v["uri"], v["author"]["did"], v["record"].get("text", "")) for v in views]
        statuses = store.find_statuses(account_id=moderator, tag=None if moderator else tag)
        return [(str(s["id"]), str(s["account"]["id"]), _plain(s)) for s in statuses]


def _plain(status: dict[str, Any]) -> str:
    if status.get("text"):
        return str(status["text"])
    content = re.sub(r"<br\s*/?>|</p>", "\n", str(status.get("content", "")))
    return html.unescape(_TAGS.sub("", content))


__all__ = ["CROWD_PASSWORD", "NO_UNAUTHENTICATED", "CrowdDriver"]
