"""Decides which question each collected post answers, from the strongest evidence at hand."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from .model import Attribution, ChatPost, ChatQuestion, Forest, ModeratorAccount, Transcript
from .perf import gc_paused
from .prefix import PREFIX_HINT, PrefixMatch, read_prefixes
from .questions import (
    QuestionTable,
    Timeline,
    discover_questions,
    is_moderator,
    moderator_keys,
    norm_handle,
    read_question_post,
)
from .threads import build_forest

__all__ = ["attribute", "build_transcript", "discover_questions"]

# Confidence of each kind of evidence. A reply inherits its parent's
# confidence scaled down, so a long chain away from any prefix fades.
CONF_THREAD = 0.9
CONF_QUOTE_QUESTION = 0.85
REPLY_FACTOR = 0.9
QUOTE_FACTOR = 0.8
CONF_MENTION = 0.5
CONF_TIME_START = 0.4  # just after the question...
CONF_TIME_END = 0.2  # ...falling to this when the next one is due
MENTION_WINDOW = timedelta(minutes=5)


def attribute(
    posts: Sequence[ChatPost],
    questions: Sequence[ChatQuestion] = (),
    moderators: Iterable[ModeratorAccount] = (),
    *,
    forest: Forest | None = None,
    ends_at: datetime | None = None,
    mention_window: timedelta = MENTION_WINDOW,
) -> dict[str, Attribution]:
    """Attribute every post to a question (or none); keyed by URI in thread order.

    Evidence, strongest first: the moderator's question posts; an answer
    prefix; being in a question post's reply thread; replying to an
    attributed post; quoting a question or an attributed post; mentioning
    someone who answered a question in the last ``mention_window``; and last
    the time window between one question and the next (closing at
    ``ends_at`` after the last one). The result does not depend on the order
    of ``posts``. Questions missing from ``questions`` are read from the
    moderators' "Qn" posts. A ``forest`` already built from the same posts
    saves building it again (its posts are the ones attributed).
    """
    if forest is None:
        forest = build_forest(posts)
    with gc_paused():
        return _attribute(forest, questions, moderators, ends_at, mention_window)


def _attribute(
    forest: Forest,
    questions: Sequence[ChatQuestion],
    moderators: Iterable[ModeratorAccount],
    ends_at: datetime | None,
    mention_window: timedelta,
) -> dict[str, Attribution]:
    by_uri = forest.posts
    seq = [by_uri[uri] for uri in forest.order]  # parents before children
    table = QuestionTable(questions)
    mods = moderator_keys(moderators)
    results: dict[str, Attribution] = {}
    moderator_posts: set[str] = set()

    # Stage 1, the moderators' posts, so an improvised question is known
    # before any participant's prefix is resolved.
    question_uris = table.uri_label
    verdicts: dict[str, bool] = {}  # author id -> is a moderator: one check per account
    for post in seq:
        uri = post.uri
        verdict = verdicts.get(post.author_id)
        if verdict is None:
            verdict = verdicts[post.author_id] = is_moderator(post, mods)
        if uri in question_uris:
            moderator_posts.add(uri)
            label = question_uris[uri]
            table.add(label, post.network, post.created_at, None)
            results[uri] = Attribution(uri, label, (label,), "moderator", 1.0, True)
        elif verdict:
            moderator_posts.add(uri)
            labels = read_question_post(post, table)
            if labels:
                results[uri] = Attribution(uri, labels[0], labels, "moderator", 1.0, True)

    # Stage 2, strong evidence in thread order: a prefix, else the question
    # thread or an attributed parent (settled earlier in this same pass).
    limit = table.max_number()
    resolve = table.resolve
    nodes = forest.nodes
    hint = PREFIX_HINT.search
    pending: list[ChatPost] = []  # left for stage 3, still parents first
    answers: dict[str, list[tuple[datetime, str | None]]] = {}
    answerer_ids: dict[str, str] = {}  # lower-cased handle -> account id
    for post in seq:
        uri = post.uri
        if uri in moderator_posts:
            if uri not in results:  # a follow-up: placed by the reply graph
                found = _from_graph(post, nodes[uri].parent, results, question_uris)
                if found is not None:
                    results[uri] = found
                else:
                    pending.append(post)
            continue
        text = post.text
        # The reader's own first check, inlined: most posts have no prefix.
        if hint(text) is None and text.isascii():
            found = None
        else:
            matches = read_prefixes(text, limit)
            found = _from_prefix(uri, matches, resolve) if matches else None
        if found is None:
            if post.parent_uri is None and post.quote_uri is None:
                pending.append(post)  # the common case, without a call
                continue
            found = _from_graph(post, nodes[uri].parent, results, question_uris)
            if found is None:
                pending.append(post)
                continue
        results[uri] = found
        # Who answered what, when: the mention evidence of stage 3 reads
        # only these strong results, so the weak kinds cannot feed each other.
        answered = answers.get(post.author_id)
        if answered is None:
            answers[post.author_id] = [(post.created_at, found.question)]
            if post.author_handle:
                answerer_ids.setdefault(norm_handle(post.author_handle), post.author_id)
        else:
            answered.append((post.created_at, found.question))

    # Stage 3, weak evidence for the rest, parents first again so a reply
    # follows its parent even when the parent only had the clock to go on.
    # Quotes read only strong results too: keep those that are quoted.
    quoted_uris = {post.quote_uri for post in pending if post.quote_uri is not None}
    strong = {uri: results[uri] for uri in quoted_uris if uri in results}
    mentions = _MentionIndex(answers, answerer_ids, mention_window)
    timelines: dict[str | None, Timeline] = {}
    for post in pending:
        uri = post.uri
        found = _from_parent(uri, nodes[uri].parent, results)
        if found is None and post.quote_uri is not None:
            quoted = strong.get(post.quote_uri)
            if quoted is not None and quoted.question is not None:
                confidence = quoted.confidence * QUOTE_FACTOR
                found = Attribution(uri, quoted.question, quoted.questions, "quote", confidence)
        if found is None and post.mentions:
            found = mentions.attribute(uri, post)
        if found is None:
            timeline = timelines.get(post.network)
            if timeline is None:
                timeline = table.timeline(post.network, ends_at)
                if not timeline[0]:  # no question posted on this network: any will do
                    timeline = table.timeline(None, ends_at)
                timelines[post.network] = timeline
            found = _from_time(uri, post.created_at.timestamp(), timeline)
        results[uri] = found

    # Moderators' follow-ups keep the question their evidence gave them but
    # are reported as the moderator's.
    for uri in moderator_posts:
        result = results[uri]
        if not result.is_question:
            result.method = "moderator"
    return dict(zip(forest.order, map(results.__getitem__, forest.order), strict=True))


def _from_prefix(
    uri: str, matches: tuple[PrefixMatch, ...], resolve: Callable[[int, str], str | None]
) -> Attribution | None:
    if len(matches) == 1:
        match = matches[0]
        label = resolve(match.number, match.suffix)
        if label is None:
            return None
        return Attribution(uri, label, (label,), "prefix", match.confidence)
    labels: list[str] = []
    confidence = 0.0
    for match in matches:
        label = resolve(match.number, match.suffix)
        if label is not None and label not in labels:
            if not labels:
                confidence = match.confidence
            labels.append(label)
    if not labels:
        return None
    return Attribution(uri, labels[0], tuple(labels), "prefix", confidence)


def _from_graph(
    post: ChatPost,
    parent: str | None,
    results: Mapping[str, Attribution],
    question_uris: Mapping[str, str],
) -> Attribution | None:
    uri = post.uri
    parent_uri = post.parent_uri
    if parent_uri is None:
        if post.quote_uri is not None and post.quote_uri in question_uris:
            label = question_uris[post.quote_uri]
            return Attribution(uri, label, (label,), "quote", CONF_QUOTE_QUESTION)
        return None
    if parent_uri in question_uris:
        label = question_uris[parent_uri]
        return Attribution(uri, label, (label,), "thread", CONF_THREAD)
    if parent is not None:
        inherited = _from_parent(uri, parent, results)
        if inherited is not None:
            return inherited
    if post.root_uri is not None and post.root_uri in question_uris:
        label = question_uris[post.root_uri]
        return Attribution(uri, label, (label,), "thread", CONF_THREAD)
    if post.quote_uri is not None and post.quote_uri in question_uris:
        label = question_uris[post.quote_uri]
        return Attribution(uri, label, (label,), "quote", CONF_QUOTE_QUESTION)
    return None


def _from_parent(
    uri: str, parent: str | None, results: Mapping[str, Attribution]
) -> Attribution | None:
    # Within a question's own thread the evidence does not fade; elsewhere a
    # reply is a little less sure than the post it answers.
    if parent is None:
        return None
    above = results.get(parent)
    if above is None or above.question is None:
        return None
    if above.is_question or above.method == "thread":
        return Attribution(uri, above.question, above.questions, "thread", CONF_THREAD)
    confidence = above.confidence * REPLY_FACTOR
    return Attribution(uri, above.question, above.questions, "reply", confidence)


class _MentionIndex:
    """Evidence for a post that @mentions someone who just answered a question."""

    def __init__(
        self,
        answers: dict[str, list[tuple[datetime, str | None]]],
        ids: Mapping[str, str],
        window: timedelta,
    ) -> None:
        self.answers = answers  # account id -> (time, label), sorted on first use
        self.ids = ids  # lower-cased handle -> account id
        self.window = window
        self.sorted: set[str] = set()

    def attribute(self, uri: str, post: ChatPost) -> Attribution | None:
        when = post.created_at
        best: tuple[datetime, str | None] | None = None
        for mention in post.mentions:
            author = self.ids.get(norm_handle(mention), mention)  # a handle, or an id
            rows = self.answers.get(author)
            if rows is None or author == post.author_id:
                continue
            if author not in self.sorted:
                rows.sort()
                self.sorted.add(author)
            at = bisect_right(rows, (when, "\U0010ffff")) - 1
            if at >= 0 and when - rows[at][0] <= self.window and (best is None or rows[at] > best):
                best = rows[at]
        if best is None or best[1] is None:
            return None
        return Attribution(uri, best[1], (best[1],), "mention", CONF_MENTION)


def _from_time(uri: str, when: float, timeline: Timeline) -> Attribution:
    starts, labels = timeline
    at = bisect_right(starts, when) - 1
    if at < 0 or at >= len(starts) - 1:
        return Attribution(uri, None, (), "none", 0.0)  # before Q1 or after the wrap-up
    span = starts[at + 1] - starts[at]
    share = (when - starts[at]) / span if span > 0 else 0.0
    confidence = CONF_TIME_START - (CONF_TIME_START - CONF_TIME_END) * share
    return Attribution(uri, labels[at], (labels[at],), "time", confidence)


def build_transcript(
    posts: Sequence[ChatPost],
    questions: Sequence[ChatQuestion] = (),
    moderators: Iterable[ModeratorAccount] = (),
    *,
    ends_at: datetime | None = None,
) -> Transcript:
    """Thread and attribute ``posts`` in one go; questions missing from the plan are discovered."""
    forest = build_forest(posts)
    moderators = tuple(moderators)
    attributions = attribute(posts, questions, moderators, forest=forest, ends_at=ends_at)
    # The plan's questions, plus any a moderator improvised during the chat.
    given = {question.label for question in questions}
    found = discover_questions(forest.posts.values(), moderators)
    known = (*questions, *(question for question in found if question.label not in given))
    return Transcript(attributions=attributions, forest=forest, questions=known)
