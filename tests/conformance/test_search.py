"""Hashtag search through the adapter: what it finds, time windows, paging.

The reference AppView has no search service: it runs ``text LIKE '%q%'``
(case-sensitive; ``_`` and ``%`` are wildcards) and ignores ``tag``, ``since``
and ``until``. The sandbox searches like production. The adapter must give the
same answer from both for what the bot relies on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatbot.platforms.base import iter_hashtag_posts
from chatbot.platforms.bluesky import POST, BlueskyPlatform
from chatbot.platforms.keys import post_key

from .conftest import Account, Target, eventually


def key(tag: str, post: str) -> str:
    return post_key(tag, post, datetime.now(UTC).replace(microsecond=0))


def found(platform: BlueskyPlatform, tag: str, **window: datetime) -> list[str]:
    return [post.text for post in iter_hashtag_posts(platform, tag, **window)]


def post_at(target: Target, account: Account, text: str, created: datetime) -> str:
    """A post with a chosen createdAt and no facets, as any client may write one."""
    client = target.client(account)
    stamp = created.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {"$type": POST, "text": text, "createdAt": stamp}
    return client.com.atproto.repo.create_record(
        data={"repo": account.did, "collection": POST, "record": record}
    ).uri


def test_tag_search_finds_the_tag_and_nothing_that_only_looks_like_it(
    target: Target, tag: str
) -> None:
    bot = target.platform(target.create_account("bot"))
    ann = target.platform(target.create_account("ann"))
    # Look-alikes first: the AppView indexes in order, so once the wanted posts
    # are searchable, so are they.
    lookalikes = [
        f"a longer tag #{tag}0",  # LIKE '%#tag%' matches it
        f"#{tag}_x is another tag",
        f"no hash, just the word {tag}",
    ]
    for n, text in enumerate(lookalikes):
        ann.post(text, key=key(tag, f"l{n}"))
    wanted = [f"A1 first #{tag}", f"second, tag last #{tag}"]
    for n, text in enumerate(wanted):
        ann.post(text, key=key(tag, f"w{n}"))
    eventually(lambda: len(found(bot, tag)) == 2, what="both posts searchable")
    assert sorted(found(bot, tag)) == sorted(wanted)
    assert sorted(found(bot, f"#{tag}")) == sorted(wanted)  # with or without '#'


def test_like_wildcards_in_the_tag_match_nothing_extra(target: Target, tag: str) -> None:
    bot = target.platform(target.create_account("bot"))
    ann = target.platform(target.create_account("ann"))
    underscored = f"{tag}_q"
    ann.post(f"LIKE's _ matches any letter #{tag}Xq", key=key(tag, "fake"))
    ann.post(f"the real one #{underscored}", key=key(tag, "real"))
    eventually(lambda: found(bot, underscored), what="the post searchable")
    assert found(bot, underscored) == [f"the real one #{underscored}"]


def test_tag_case(target: Target, tag: str) -> None:
    bot = target.platform(target.create_account("bot"))
    ann = target.platform(target.create_account("ann"))
    ann.post(f"upper #{tag.upper()}", key=key(tag, "upper"))
    ann.post(f"lower #{tag}", key=key(tag, "lower"))  # indexed after the upper-case one
    eventually(lambda: found(bot, tag), what="the post searchable")
    if target.name == "sandbox":  # production's search matches tags case-insensitively
        eventually(lambda: len(found(bot, tag)) == 2)
        assert sorted(found(bot, tag)) == [f"lower #{tag}", f"upper #{tag.upper()}"]
    else:  # the reference AppView's LIKE is case-sensitive (docs/conformance.md)
        assert found(bot, tag) == [f"lower #{tag}"]
        assert found(bot, tag.upper()) == [f"upper #{tag.upper()}"]


def test_since_and_until_are_applied_even_where_the_network_ignores_them(
    target: Target, tag: str
) -> None:
    bot = target.platform(target.create_account("bot"))
    ann = target.create_account("ann")
    now = datetime.now(UTC)
    for hours in (3, 2, 1, 0):
        post_at(target, ann, f"{hours}h ago #{tag}", now - timedelta(hours=hours))
    eventually(lambda: len(found(bot, tag)) == 4, what="all four posts searchable")

    window = {"since": now - timedelta(minutes=150), "until": now - timedelta(minutes=30)}
    assert found(bot, tag, **window) == ["1h ago #" + tag, "2h ago #" + tag]
    assert found(bot, tag, since=now - timedelta(minutes=90)) == [
        f"0h ago #{tag}",
        f"1h ago #{tag}",
    ]
    assert found(bot, tag, until=now - timedelta(minutes=150)) == [f"3h ago #{tag}"]


def test_cursor_pages_through_every_post_once_newest_first(target: Target, tag: str) -> None:
    bot = target.platform(target.create_account("bot"))
    ann = target.create_account("ann")
    now = datetime.now(UTC)
    texts = [f"post {n} #{tag}" for n in range(7)]
    for n, text in enumerate(texts):
        post_at(target, ann, text, now - timedelta(minutes=10 - n))
    eventually(lambda: len(found(bot, tag)) == 7, what="all seven posts searchable")

    pages, cursor = [], None
    while True:
        page = bot.search_hashtag(tag, cursor=cursor, limit=3)
        pages.append([post.text for post in page.posts])
        if page.cursor is None:
            break
        cursor = page.cursor
        assert len(pages) < 10, "the cursor never ends"
    assert [p for p in pages if p] == [texts[6:3:-1], texts[3:0:-1], texts[:1]]


def test_a_url_fragment_is_not_a_hashtag(target: Target, tag: str) -> None:
    # The reference's LIKE search finds "example.org/#tag": the bot must drop it itself.
    bot = target.platform(target.create_account("bot"))
    ann = target.platform(target.create_account("ann"))
    ann.post(f"see https://example.org/#{tag} here", key=key(tag, "fragment"))
    ann.post(f"real #{tag}", key=key(tag, "real"))
    eventually(lambda: found(bot, tag), what="the post searchable")
    assert found(bot, tag) == [f"real #{tag}"]
