"""The weaker evidence, for posts that neither a prefix nor a question's thread places.

Read in time order, so every kind may build on what came before it: a reply
follows the post it answers however that one was placed. Strongest first:

1. ``reply``: the post replies to an attributed post;
2. ``quote``: it quotes one;
3. ``mention``: it begins with the @names of the people of an earlier post,
   the way a reply does (conversation.py): that post's question;
4. ``words``: it shares the telling words of one open question's text and of
   no other (lexical.py);
5. ``continues``: its author answered a question minutes ago, with no new
   question since, and this post carries on;
6. ``mention`` again, weaker: it names someone who posted just before;
7. ``aside``: a host's housekeeping or a participant's hello (asides.py),
   which answers nothing;
8. ``time``: the question whose window it falls in, and none before the
   first question or after the end.

Confidences are the share of posts each kind gets right, measured on the
labelled chats and the crowd (BENCHMARKS.md, benchmarks/attribution_quality.py).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from operator import attrgetter

from .asides import (
    SMALL_TALK_LENGTH,
    is_greeting,
    is_housekeeping,
    is_introduction,
    is_small_talk,
    may_greet,
    says_it_continues,
)
from .conversation import NAMES_FILLED_IN, Conversations
from .lexical import Vocabulary
from .model import Attribution, ChatPost, Forest
from .questions import Timeline

__all__ = ["WeakEvidence", "from_parent", "wait_for_parent"]

REPLY_FACTOR = 0.9  # a reply is a little less sure than the post it answers
QUOTE_FACTOR = 0.8
CONF_THREAD = 0.9
CONF_MENTION_EXACT = 0.8  # the post answered: a tweet between exactly the people named
CONF_MENTION = 0.5  # the latest post of the person named that fits
CONF_MENTION_RECENT = 0.45  # someone named who just posted
CONF_WORDS = 0.6  # the words point away from the clock's question
CONF_WORDS_AND_TIME = 0.7  # the words point at the clock's question: two kinds agree
CONF_CONTINUES = 0.6
CONF_ASIDE = 0.7  # how sure that the post answers nothing
CONF_ASIDE_REPLY = 0.6  # a reply to, or quote of, such a post
CONF_TIME_START = 0.4  # just after the question...
CONF_TIME_END = 0.2  # ...falling to this when the next one is due
WORDS_MARGIN = 0.6  # the best question's words must outweigh the next one's by this
CONTINUE_WINDOW = timedelta(minutes=15)
CONTINUE_LOOK_BACK = 3  # the author's own posts looked at: "their second and third posts"
SWITCH_EARLY = timedelta(minutes=5)  # "just after a new question"
_TIME = attrgetter("created_at")


def wait_for_parent(
    post: ChatPost, parent: str, later: dict[str, datetime], posts: Mapping[str, ChatPost]
) -> None:
    """Notes in ``later`` the time ``post`` is placed at when that is its pending parent's.

    For stage 3's placing order: a reply never comes before the post it
    answers (clocks differ between servers). Called parents first, for each
    reply left for stage 3 whose ``parent`` is left too; usually none is later.
    """
    above = later.get(parent)
    if above is None:
        above = posts[parent].created_at
    if above > post.created_at:
        later[post.uri] = above


def from_parent(
    uri: str, parent: str | None, results: Mapping[str, Attribution | None]
) -> Attribution | None:
    """A reply's attribution from its parent's: in a question's own thread it does not fade."""
    if parent is None:
        return None
    above = results.get(parent)
    if above is None or above.question is None:
        return None
    if above.is_question or above.method == "thread":
        return Attribution(uri, above.question, above.questions, "thread", CONF_THREAD, via=parent)
    confidence = above.confidence * REPLY_FACTOR
    return Attribution(uri, above.question, above.questions, "reply", confidence, via=parent)


class WeakEvidence:
    """Stage 3 of attribution: places ``pending`` posts into ``results``, in time order."""

    def __init__(
        self,
        forest: Forest,
        results: dict[str, Attribution | None],
        timeline_for: Callable[[str], Timeline],
        question_texts: Mapping[str, Sequence[str]],
        moderator_posts: set[str],
        moderator_handles: set[str],
    ) -> None:
        self.forest = forest
        self.results = results
        self.timeline_for = timeline_for
        self.moderator_posts = moderator_posts
        self.conversations = Conversations(forest.posts)
        # The moderators' account keys (conversation.account_key): named or posting.
        author_key = self.conversations.author_key
        self.moderator_keys = moderator_handles | {
            author_key(forest.posts[uri]) for uri in moderator_posts
        }
        self.vocabulary = Vocabulary(question_texts)
        # Whether the questions have telling words (asked once per post, so
        # kept: it only changes when ``place`` drops the common ones).
        self._worded = bool(self.vocabulary)
        self._timelines: dict[str, Timeline] = {}  # per network, from ``timeline_for``

    def place(self, pending: Sequence[ChatPost], later: Mapping[str, datetime]) -> None:
        """Places ``pending`` (in thread order, parents first) in time order.

        A reply never comes before the post it answers (clocks differ between
        servers): it takes that one's time, noted in ``later`` by
        ``wait_for_parent``. The sort is stable and ``pending`` is parents
        first, so at equal times a parent still goes first.
        """
        results = self.results
        if later:
            stamps = [later.get(post.uri, post.created_at) for post in pending]
            order = sorted(range(len(pending)), key=stamps.__getitem__)
            ordered = [pending[index] for index in order]
        else:
            ordered = sorted(pending, key=_TIME)  # usually none waits
        if self.vocabulary:
            self.vocabulary.drop_common(post.text for post in ordered)
            self._worded = bool(self.vocabulary)
        nodes = self.forest.nodes
        one, greets = self._one, self._greets
        for post in ordered:
            uri = post.uri
            # A post that replies to nothing has no parent in the forest either.
            parent = None if post.parent_uri is None else nodes[uri].parent
            if parent is None:
                results[uri] = one(post, parent)
                continue
            # The common case first: a reply to a post placed under a question.
            found = from_parent(uri, parent, results)
            if found is None or (may_greet(post.text) and greets(post)):
                found = one(post, parent)
            results[uri] = found

    def _usable(self, uri: str) -> bool:
        found = self.results.get(uri)
        return found is not None and found.question is not None

    def _talked_to(self, uri: str) -> bool:
        # A post someone answers by name: placed under a question, or a
        # participant's post known to answer none (a hello: talk about it
        # answers none either). Not a host's housekeeping, which people
        # thank in passing while talking about what the host said before.
        found = self.results.get(uri)
        if found is None or found.method == "none":  # "none": nothing known of it
            return False
        return found.question is not None or uri not in self.moderator_posts

    def _one(self, post: ChatPost, parent: str | None) -> Attribution:
        # ``parent``: the URI of the collected post this one replies to, if any.
        uri = post.uri
        results = self.results
        if parent is not None:
            above = results.get(parent)
            if above is not None and above.question is None:
                # Talk about a hello, a housekeeping post, or talk about those,
                # answers nothing either.
                return Attribution(uri, None, (), "reply", CONF_ASIDE_REPLY, via=parent)
        if post.quote_uri is not None:
            quoted = results.get(post.quote_uri)
            if quoted is not None and quoted.question is not None:
                confidence = min(quoted.confidence, CONF_THREAD) * QUOTE_FACTOR
                labels = quoted.questions
                return Attribution(
                    uri, quoted.question, labels, "quote", confidence, via=post.quote_uri
                )
            if quoted is not None and quoted.question is None and not quoted.is_question:
                return Attribution(uri, None, (), "quote", CONF_ASIDE_REPLY, via=post.quote_uri)
        conversations = self.conversations
        text = post.text
        # ``leading``'s own first test, inlined: most posts begin with a word.
        named = () if text[:1].isalnum() else conversations.leading(post)
        top_level = post.parent_uri is None and not (named and conversations.any_posted(named))
        moderator = uri in self.moderator_posts
        if not top_level and may_greet(text) and self._greets(post):
            # "@finn Welcome!": a greeting back answers nothing, whatever it replies to.
            return Attribution(uri, None, (), "aside", CONF_ASIDE_REPLY, via=parent)
        if top_level and moderator and is_housekeeping(text):
            return Attribution(uri, None, (), "aside", CONF_ASIDE)
        timeline = self._timelines.get(post.network)
        if timeline is None:
            timeline = self._timelines[post.network] = self.timeline_for(post.network)
        when = post.created_at.timestamp()
        # A reply whose parent is gone (deleted, not collected) names the
        # people of that post: another of their posts is not the one answered.
        parent_gone = post.parent_uri is not None and parent is None
        if named and not parent_gone:
            answered = conversations.answered(post, self._talked_to)
            if answered is not None:
                above = results[answered]  # placed: ``_talked_to`` took it
                if above is None:
                    raise AssertionError(answered)
                labels = above.questions
                exact = post.network in NAMES_FILLED_IN and conversations.exactly_between(
                    post, answered
                )
                if above.question is None:
                    return Attribution(uri, None, (), "mention", CONF_ASIDE_REPLY, via=answered)
                if not exact and self._worded:
                    # A typed name is a weak guess at the post answered: the
                    # reply's own words naming another question say more.
                    leaning = self._leaning(post, when, timeline)
                    if leaning is not None and leaning != above.question:
                        return Attribution(uri, leaning, (leaning,), "words", CONF_WORDS)
                confidence = CONF_MENTION_EXACT if exact else CONF_MENTION
                return Attribution(uri, above.question, labels, "mention", confidence, via=answered)
        # The hello tests read the text in lower case: made once for both,
        # and only for a post short enough to be a hello at all.
        lowered = (
            text.lower() if top_level and not moderator and len(text) <= SMALL_TALK_LENGTH else None
        )
        if lowered is not None and is_introduction(text, lowered):
            return Attribution(uri, None, (), "aside", CONF_ASIDE)
        clock = None
        if self._worded:
            if top_level and says_it_continues(text):
                # "Should add: ...", "(cont.)": the author says what it goes on
                # from, which outweighs a word it shares with some question.
                found = self._continues(post, when, timeline)
                if found is not None:
                    return found
            clock = _from_time(uri, when, timeline)
            found = self._words(post, when, timeline, clock)
            if found is not None:
                return found
        if (
            lowered is not None
            and is_small_talk(text, lowered)
            and not (self._worded and self.vocabulary.scores(text, self.vocabulary.labels))
        ):
            # A hello that names the topic is an answer.
            return Attribution(uri, None, (), "aside", CONF_ASIDE)
        if top_level:
            found = self._continues(post, when, timeline)
            if found is not None:
                return found
        if (named or post.mentions) and not parent_gone:
            found = self._recently_named(post, named)
            if found is not None:
                return found
        return clock or _from_time(uri, when, timeline)

    def _words(
        self, post: ChatPost, when: float, timeline: Timeline, clock: Attribution
    ) -> Attribution | None:
        # The clock's question is the likely one: the words must clearly
        # point elsewhere to move a post away from it, and when they point
        # at it, the two together are surer than either. Just after a new
        # question people still talk about the one before, so then one
        # telling word is enough to move a post back to it; later it takes two.
        ranked = self._ranked(post, when, timeline)
        if ranked is None:
            return None
        best, label = ranked[0]
        if label == clock.question:
            return Attribution(post.uri, label, (label,), "words", CONF_WORDS_AND_TIME)
        against = dict((name, score) for score, name in ranked).get(clock.question or "", 0.0)
        needed = self.vocabulary.telling
        if clock.question is not None and label != _previous_label(timeline, when, SWITCH_EARLY):
            needed *= 2  # after the end (no clock question) one word is enough
        if best - against < needed * 0.99:
            return None
        return Attribution(post.uri, label, (label,), "words", CONF_WORDS)

    def _leaning(self, post: ChatPost, when: float, timeline: Timeline) -> str | None:
        # The open question the post's words point at, ahead of any other.
        ranked = self._ranked(post, when, timeline)
        return ranked[0][1] if ranked is not None else None

    def _ranked(
        self, post: ChatPost, when: float, timeline: Timeline
    ) -> list[tuple[float, str]] | None:
        # The open questions by how strongly the post's words point at them,
        # when the first is ahead of the next by the margin; else None.
        ranked = self.vocabulary.scores(post.text, _open_labels(timeline, when))
        if not ranked:
            return None
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        return ranked if ranked[0][0] - runner_up >= WORDS_MARGIN else None

    def _greets(self, post: ChatPost) -> bool:
        # A participant's reply, or post to someone by name, that only greets.
        if not may_greet(post.text) or post.uri in self.moderator_posts:
            return False
        text = self.conversations.after_names(post)
        if not is_greeting(text):
            return False
        return not (self._worded and self.vocabulary.scores(text, self.vocabulary.labels))

    def _continues(self, post: ChatPost, when: float, timeline: Timeline) -> Attribution | None:
        # The author's latest own answer (not part of a conversation with
        # someone) among their last few posts, with no question posted since:
        # this post carries it on.
        found = self.conversations.own_earlier(
            post, CONTINUE_WINDOW, CONTINUE_LOOK_BACK, self.results, _CONVERSING
        )
        if found is None:
            return None
        uri, then, earlier = found
        if earlier.question is None:
            return None
        starts = timeline[0]
        # A question opened in between (a window starts after the earlier
        # post, at or before this one; the windows' last start is the end,
        # and the wrap-up opens no question), and no "(cont.)": the clock
        # knows better.
        at = bisect_right(starts, then.timestamp())
        if at < len(starts) - 1 and starts[at] <= when and not says_it_continues(post.text):
            return None
        questions = earlier.questions
        return Attribution(
            post.uri, earlier.question, questions, "continues", CONF_CONTINUES, via=uri
        )

    def _recently_named(self, post: ChatPost, named: tuple[str, ...]) -> Attribution | None:
        # Someone this post names posted just before it: most likely what it
        # answers. Not a moderator, whose latest post says little about which
        # of the open questions a participant means.
        conversations = self.conversations
        keys = named or tuple(conversations.key_of(mention) for mention in post.mentions)
        best: tuple[str, datetime] | None = None
        before = post.created_at
        for key in keys:
            if key in self.moderator_keys or key == conversations.author_key(post):
                continue
            found = conversations.latest_by(key, before, self._usable)
            if found is not None and (best is None or found[1] > best[1]):
                best = found
        if best is None:
            return None
        above = self.results[best[0]]  # placed: ``_usable`` took it
        if above is None:
            raise AssertionError(best[0])
        label, labels = above.question, above.questions
        return Attribution(post.uri, label, labels, "mention", CONF_MENTION_RECENT, via=best[0])


# What a post in a conversation with someone, or about someone's post, was placed by:
# not an answer of its own to carry on.
_CONVERSING = frozenset({"reply", "mention", "quote"})


def _previous_label(timeline: Timeline, when: float, early: timedelta) -> str | None:
    # The question before the one whose window ``when`` falls in, if that
    # window opened no longer than ``early`` ago.
    starts, labels = timeline
    at = bisect_right(starts, when) - 1
    if at < 1 or at >= len(starts) - 1 or when - starts[at] > early.total_seconds():
        return None
    return labels[at - 1]


def _open_labels(timeline: Timeline, when: float) -> list[str]:
    # The questions asked by ``when`` (after the end, all of them: late answers).
    starts, labels = timeline
    at = bisect_right(starts, when)
    return [label for label in labels[:at] if label]


def _from_time(uri: str, when: float, timeline: Timeline) -> Attribution:
    starts, labels = timeline
    at = bisect_right(starts, when) - 1
    if at < 0 or at >= len(starts) - 1:
        return Attribution(uri, None, (), "none", 0.0)  # before Q1 or after the wrap-up
    span = starts[at + 1] - starts[at]
    share = (when - starts[at]) / span if span > 0 else 0.0
    confidence = CONF_TIME_START - (CONF_TIME_START - CONF_TIME_END) * share
    return Attribution(uri, labels[at], (labels[at],), "time", confidence)
