"""Decides which question each collected post answers, from the strongest evidence at hand."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import cast

from .conversation import account_key
from .evidence import CONF_THREAD, WeakEvidence, from_parent, wait_for_parent
from .model import Attribution, ChatPost, ChatQuestion, Forest, ModeratorAccount, Transcript
from .perf import gc_paused
from .prefix import PREFIX_HINT, PrefixMatch, read_prefixes
from .questions import (
    QuestionTable,
    Timeline,
    discover_questions,
    is_moderator,
    moderator_keys,
    read_question_post,
)
from .threads import build_forest

__all__ = ["attribute", "build_transcript", "discover_questions"]

# Quoting a question post is nearly as telling as replying in its thread
# (the weaker kinds of evidence and their confidences are in evidence.py).
CONF_QUOTE_QUESTION = 0.85


def attribute(
    posts: Sequence[ChatPost],
    questions: Sequence[ChatQuestion] = (),
    moderators: Iterable[ModeratorAccount] = (),
    *,
    forest: Forest | None = None,
    ends_at: datetime | None = None,
) -> dict[str, Attribution]:
    """Attribute every post to a question (or none); keyed by URI in thread order.

    Evidence, strongest first: the moderator's question posts; an answer
    prefix; being in a question post's reply thread; then, for the rest in
    time order, the weaker kinds of evidence.py (replies, quotes, the
    conversation's @names, the questions' words, an author carrying on, and
    last the time window between one question and the next, closing at
    ``ends_at`` after the last one). The result does not depend on the order
    of ``posts``. Questions missing from ``questions`` are read from the
    moderators' "Qn" posts. A ``forest`` already built from the same posts
    saves building it again (its posts are the ones attributed).
    """
    if forest is None:
        forest = build_forest(posts)
    with gc_paused():
        return _attribute(forest, questions, tuple(moderators), ends_at)


def _attribute(
    forest: Forest,
    questions: Sequence[ChatQuestion],
    moderators: Sequence[ModeratorAccount],
    ends_at: datetime | None,
) -> dict[str, Attribution]:
    by_uri = forest.posts
    seq = list(map(by_uri.__getitem__, forest.order))  # parents before children
    table = QuestionTable(questions)
    mods = moderator_keys(moderators)
    # A slot for every post at once, in thread order: the stages fill them
    # in, and the filled dict is the answer (not a second one built in
    # thread order at the end, nor a dict grown post by post).
    results: dict[str, Attribution | None] = dict.fromkeys(forest.order)
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
    # What is left waits for stage 3, still parents first; a reply left
    # with its parent notes there whether it must wait for a later time.
    limit = table.max_number()
    resolve = table.resolve
    nodes = forest.nodes
    hint = PREFIX_HINT.search
    pending: list[ChatPost] = []
    later: dict[str, datetime] = {}  # stage 3's placing times that are not the post's own
    for post in seq:
        uri = post.uri
        if uri in moderator_posts:
            if results[uri] is not None:
                continue
            found = None  # a follow-up: placed by the reply graph
        else:
            text = post.text
            # The reader's own first check, inlined: most posts have no prefix.
            hinted = hint(text) is not None
            if not hinted and text.isascii():
                found = None
            else:
                matches = read_prefixes(text, limit, hinted=hinted)
                found = _from_prefix(uri, matches, resolve) if matches else None
        if found is None:
            if post.parent_uri is None and post.quote_uri is None:
                pending.append(post)  # the common case, without a call
                continue
            parent = nodes[uri].parent
            found = _from_graph(post, parent, results, question_uris)
            if found is None:
                pending.append(post)
                if parent is not None and results[parent] is None:
                    wait_for_parent(post, parent, later, by_uri)
                continue
        results[uri] = found

    # Stage 3, the weaker evidence for the rest, in time order (evidence.py).
    timelines: dict[str, Timeline] = {}

    def timeline_for(network: str) -> Timeline:
        timeline = timelines.get(network)
        if timeline is None:
            timeline = table.timeline(network, ends_at)
            if not timeline[0]:  # no question posted on this network: any will do
                timeline = table.timeline(None, ends_at)
            timelines[network] = timeline
        return timeline

    if pending:
        texts = _question_texts(questions, moderator_posts, results, by_uri)
        handles = {account_key(m.handle) for m in moderators if m.handle}
        weak = WeakEvidence(forest, results, timeline_for, texts, moderator_posts, handles)
        weak.place(pending, later)

    # Moderators' follow-ups keep the question their evidence gave them but
    # are reported as the moderator's.
    for uri in moderator_posts:
        result = results[uri]
        if result is not None and not result.is_question:
            result.method = "moderator"
    # Every slot is filled: each post was placed by stage 1, 2 or 3.
    return cast("dict[str, Attribution]", results)


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
    results: Mapping[str, Attribution | None],
    question_uris: Mapping[str, str],
) -> Attribution | None:
    uri = post.uri
    parent_uri = post.parent_uri
    if parent_uri is None:
        if post.quote_uri is not None and post.quote_uri in question_uris:
            label = question_uris[post.quote_uri]
            via = post.quote_uri
            return Attribution(uri, label, (label,), "quote", CONF_QUOTE_QUESTION, via=via)
        return None
    if parent_uri in question_uris:
        label = question_uris[parent_uri]
        return Attribution(uri, label, (label,), "thread", CONF_THREAD, via=parent_uri)
    if parent is not None:
        inherited = from_parent(uri, parent, results)
        if inherited is not None:
            return inherited
    if post.root_uri is not None and post.root_uri in question_uris:
        label = question_uris[post.root_uri]
        return Attribution(uri, label, (label,), "thread", CONF_THREAD, via=post.root_uri)
    if post.quote_uri is not None and post.quote_uri in question_uris:
        label = question_uris[post.quote_uri]
        via = post.quote_uri
        return Attribution(uri, label, (label,), "quote", CONF_QUOTE_QUESTION, via=via)
    return None


def _question_texts(
    questions: Sequence[ChatQuestion],
    moderator_posts: set[str],
    results: Mapping[str, Attribution | None],
    by_uri: Mapping[str, ChatPost],
) -> dict[str, list[str]]:
    """Every wording of each question: the plan's text and the posts that asked it."""
    texts: dict[str, list[str]] = {}
    for question in questions:
        if question.text:
            texts.setdefault(question.label, []).append(question.text)
    for uri in moderator_posts:
        found = results.get(uri)
        if found is not None and found.is_question and found.question is not None:
            texts.setdefault(found.question, []).append(by_uri[uri].text)
    return texts


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
