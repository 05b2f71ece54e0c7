"""Evidence from who talks to whom: the post a reply answers when the network did not say.

On every network a reply begins with the @names of the people it answers:
the author of the post answered, then the others that post addressed. Archives
(and posts written as new posts rather than replies) lose the reply link but
keep those names, so the post answered can be found again: the latest earlier
post by one of the named people whose own participants, with the replier
added, include everyone named; in tweets, whose reply box fills the names
in, exactly the people named first. That is how a reader of a real chat
follows a conversation, and it is what a chat's organisers did by hand.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from itertools import islice
from operator import attrgetter, eq

from .model import Attribution, ChatPost

__all__ = ["Conversations", "account_key", "leading_mentions"]

# "@alice", "@alice.bsky.social", "@bob@example.social", separated by spaces or
# punctuation, before the first word that is not a name.
_LEADING = re.compile(r"\A[\s.,:;]*(?:@[\w.\-]+(?:@[\w\-]+(?:\.[\w\-]+)+)?[\s.,:;]*)+")
_BEFORE_NAMES = ".,:;"
_NAME = re.compile(r"@([\w.\-]+)(?:@[\w\-]+(?:\.[\w\-]+)+)?")

REPLY_WINDOW = timedelta(minutes=60)  # how far back the post answered may be
RECENT_WINDOW = timedelta(minutes=10)  # "the person named just posted": the weaker reading
# Where the reply box fills in everyone of the post answered (tweets), a reply
# naming exactly those people is the surest match; elsewhere names are typed.
NAMES_FILLED_IN = frozenset({"twitter"})
_TIME = attrgetter("created_at")
_URI = attrgetter("uri")
LOOK_BACK = 12  # at most this many of a person's earlier posts are compared


def account_key(handle: str) -> str:
    """The name by which posts refer to an account: lower case, no '@', no server part.

    Mastodon writes a local account as ``@alice`` and a remote one as
    ``@alice@server``; the local part is what both have in common.
    """
    name = handle.lstrip("@").lower()
    at = name.find("@")
    return name[:at] if at > 0 else name.rstrip(".")


def may_lead_with_names(text: str) -> bool:
    """The cheap test before the pattern: the text starts with '@', a space or a stop."""
    first = text[:1]
    return (first == "@" or first.isspace() or first in _BEFORE_NAMES) and "@" in text


def leading_mentions(text: str) -> tuple[str, ...]:
    """The account keys of the @names a post begins with, in order, each once."""
    if not may_lead_with_names(text):
        return ()
    found = _LEADING.match(text)
    if found is None:
        return ()
    keys: dict[str, None] = {}
    for name in _NAME.findall(found.group(0)):
        key = account_key(name)
        if key:
            keys.setdefault(key, None)
    return tuple(keys)


def _latest_key(posts: list[ChatPost]) -> str:
    """The account key of the latest of ``posts`` (one account's) that names a handle."""
    named = [post for post in posts if post.author_handle]
    if not named:
        return posts[0].author_id
    latest = max(named, key=lambda post: (post.created_at, post.uri))
    return account_key(latest.author_handle)


class Conversations:
    """Finds, for a post that begins with @names, the earlier post it most likely answers.

    Built once over all of a chat's posts; ``answered`` is then asked in any
    order. The caller decides what the post found means (its question).
    """

    def __init__(self, posts: Mapping[str, ChatPost]) -> None:
        self._posts = posts  # by URI
        self._people: dict[str, frozenset[str]] = {}
        self._leading: dict[str, tuple[str, ...]] = {}
        self._keys: dict[str, str] = {}  # account id -> account key
        # Per account key: its posts; sorted by time and split on first use.
        self._rows: dict[str, list[ChatPost]] = {}
        # Per account key, its posts' times and URIs in time order (made on first use),
        # and the same per account id, for the lookup made for nearly every post.
        self._lines: dict[str, tuple[list[datetime], list[str]]] = {}
        self._own: dict[str, tuple[list[datetime], list[str]]] = {}
        # The one pass over every post (keep it lean), by account and handle: posts of one
        # account under several handles (renamed mid-chat, or some without one) are rare,
        # and the latest handle names such an account, whatever the input order.
        groups: defaultdict[tuple[str, str], list[ChatPost]] = defaultdict(list)
        for post in posts.values():
            groups[post.author_id, post.author_handle].append(post)
        by_author: dict[str, list[ChatPost]] = {}
        renamed: set[str] = set()
        for (author_id, _), own in groups.items():
            if author_id in by_author:
                by_author[author_id].extend(own)
                renamed.add(author_id)
            else:
                by_author[author_id] = own
        for author_id in renamed:
            self._keys[author_id] = _latest_key(by_author[author_id])
        rows = self._rows
        for own in by_author.values():
            key = self.author_key(own[0])
            if key in rows:  # two accounts by one name (a handle reused)
                rows[key].extend(own)
            else:
                rows[key] = own

    def author_key(self, post: ChatPost) -> str:
        """The account key of the post's author (its handle's, else its account id)."""
        key = self._keys.get(post.author_id)
        if key is None:
            handle = post.author_handle
            key = self._keys[post.author_id] = account_key(handle) if handle else post.author_id
        return key

    def leading(self, post: ChatPost) -> tuple[str, ...]:
        """The post's leading @names (cached), its own author left out."""
        found = self._leading.get(post.uri)
        if found is not None:
            return found
        text = post.text
        if text[:1].isalnum() or not may_lead_with_names(text):
            return ()  # most posts begin with a word: the cheapest test first
        names = leading_mentions(text)
        if names:
            own = self.author_key(post)
            rows = self._rows
            keys: dict[str, None] = {}  # each once, in order
            for key in names:
                if key not in rows:
                    key = self._resolve(key, post)
                if key != own:
                    keys[key] = None
            found = tuple(keys)
        else:
            found = ()
        self._leading[post.uri] = found
        return found

    def any_posted(self, keys: tuple[str, ...]) -> bool:
        """Whether any of the account ``keys`` posted in this chat.

        "@club is meeting again" names a subject, not someone in the conversation,
        when the club never posts.
        """
        return not self._rows.keys().isdisjoint(keys)

    def after_names(self, post: ChatPost) -> str:
        """The post's text after the @names it begins with (all of it when it names nobody)."""
        if not self.leading(post):
            return post.text
        found = _LEADING.match(post.text)
        return post.text[found.end() :] if found is not None else post.text

    def _resolve(self, key: str, post: ChatPost) -> str:
        # Text may shorten what the post's mention records spell out in full
        # ("@alice" for alice.bsky.social): the record's form wins.
        if key in self._rows:
            return key
        for mention in post.mentions:
            full = self.key_of(mention)
            if full.startswith(key) and full[len(key) : len(key) + 1] in ("", ".") and full != key:
                return full
        return key

    def people(self, post: ChatPost) -> frozenset[str]:
        """Who the post is between: its author and the people it begins by naming."""
        found = self._people.get(post.uri)
        if found is None:
            found = frozenset((self.author_key(post), *self.leading(post)))
            self._people[post.uri] = found
        return found

    def answered(self, post: ChatPost, usable: Callable[[str], bool]) -> str | None:
        """The URI of the post ``post`` answers by the @names it begins with, if one fits.

        Only posts ``usable`` accepts count (the caller's attributed posts).
        The latest earlier post, within ``REPLY_WINDOW``, written by one of
        the people named and between all of the people named (once the
        replier is added) wins: a reply may name fewer people than the post
        it answers (Bluesky adds no names; people trim them), never others.
        """
        named = self.leading(post)
        if not named:
            return None
        if post.network in NAMES_FILLED_IN:
            exact = self._latest(post, named, usable, exact=True)
            if exact is not None:
                return exact
        return self._latest(post, named, usable, exact=False)

    def exactly_between(self, post: ChatPost, answered: str) -> bool:
        """``answered`` is between exactly the people ``post`` names (with its author)."""
        return self.people(self._posts[answered]) | {self.author_key(post)} == self.people(post)

    def _latest(
        self,
        post: ChatPost,
        named: tuple[str, ...],
        usable: Callable[[str], bool],
        *,
        exact: bool,
    ) -> str | None:
        # A candidate fits when its people, with the replier added, include
        # everyone the reply is between (``exact``: are exactly those). As
        # ``named`` leaves the replier out, that is: ``named`` is among its
        # people (and, ``exact``, its people among ``wanted``), without a new
        # set made per candidate. A candidate is one of a named person's own
        # posts (``key``'s line): when it names nobody, its people are that
        # person alone, which fits just when the reply names no one else.
        others = frozenset(named)
        alone = len(named) == 1
        wanted = self.people(post) if exact else others
        people, posts = self.people, self._posts
        before = post.created_at
        oldest = before - REPLY_WINDOW
        best: tuple[datetime, str] | None = None
        for key in named:
            # The person's posts of the window before this one, latest first
            # (``_earlier`` inlined: this runs for every post that names someone).
            times, uris = self._line(key)
            index = bisect_left(times, before) - 1
            stop = index - LOOK_BACK if index >= LOOK_BACK else -1
            while index > stop:
                when = times[index]
                if when < oldest or (best is not None and when <= best[0]):
                    break  # out of the window, or older than what another name gave
                uri = uris[index]
                if usable(uri):
                    candidate = posts[uri]
                    if candidate.text[:1].isalnum():
                        fits = alone
                    else:
                        between = people(candidate)
                        fits = others <= between and (not exact or between <= wanted)
                    if fits:
                        best = (when, uri)
                        break
                index -= 1
        return best[1] if best is not None else None

    def latest_by(
        self, key: str, before: datetime, usable: Callable[[str], bool]
    ) -> tuple[str, datetime] | None:
        """The latest usable post of ``key`` in the ``RECENT_WINDOW`` before ``before``,
        as (URI, its time)."""
        for when, uri in self._earlier(key, before, RECENT_WINDOW):
            if usable(uri):
                return uri, when
        return None

    def own_earlier(
        self,
        post: ChatPost,
        window: timedelta,
        most: int,
        placed: Mapping[str, Attribution | None],
        conversing: frozenset[str],
    ) -> tuple[str, datetime, Attribution] | None:
        """The latest of the author's last ``most`` posts in ``window`` before ``post`` that is
        ``placed`` by a method not in ``conversing``, as (URI, its time, its placing); None
        when there is none.
        """
        own = self._own.get(post.author_id)
        if own is None:
            own = self._own[post.author_id] = self._line(self.author_key(post))
        times, uris = own
        if len(times) < 2:
            return None  # the post is the author's only one
        before = post.created_at
        index = bisect_left(times, before) - 1
        if index < 0:
            return None  # their first post
        oldest = before - window
        stop = index - most if index >= most else -1
        while index > stop:
            when = times[index]
            if when < oldest:
                return None
            uri = uris[index]
            found = placed.get(uri)
            if found is not None and found.method not in conversing:
                return uri, when, found
            index -= 1
        return None

    def key_of(self, mention: str) -> str:
        """The account key for a stored mention: a handle, or an account id seen as an author."""
        return self._keys.get(mention) or account_key(mention)

    def _earlier(
        self, key: str, before: datetime, window: timedelta, most: int = LOOK_BACK
    ) -> Iterator[tuple[datetime, str]]:
        times, uris = self._line(key)
        if not times:
            return
        end = bisect_left(times, before)
        oldest = before - window
        for index in range(end - 1, max(-1, end - 1 - most), -1):
            when = times[index]
            if when < oldest:
                return
            yield when, uris[index]

    def _line(self, key: str) -> tuple[list[datetime], list[str]]:
        # The account's posts in time order, as parallel lists of times (for bisect)
        # and URIs; sorted on first use.
        line = self._lines.get(key)
        if line is not None:
            return line
        rows = self._rows.get(key) or []
        # In order of time, ties by URI: one sort on the time, and only when
        # two posts share a time a second one (stable sorts on one attribute
        # each cost less than one on a (time, URI) tuple made for every post).
        rows.sort(key=_TIME)
        times = list(map(_TIME, rows))
        if any(map(eq, times, islice(times, 1, None))):
            rows.sort(key=_URI)
            rows.sort(key=_TIME)
            times = list(map(_TIME, rows))
        line = self._lines[key] = (times, list(map(_URI, rows)))
        return line
