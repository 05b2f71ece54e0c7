"""Remote copies: how one sandbox Mastodon keeps another's status or account (federation).

A copy has an id of the receiving server's own, but keeps its origin's
ActivityPub ``uri``, web ``url`` and rendered HTML; its author is a remote
account shown as ``user@origin-host``. Ids follow the receiving server's
software: Mastodon mints a delivered status's id from the moment it arrives
(``override_timestamps`` in its inbox worker) and a fetched one's from its
``created_at``; GoToSocial mints both from ``created_at``, so a late delivery
sorts into the past of its timelines.
"""

from __future__ import annotations

from datetime import datetime

from chatbot.sandbox.mastodon import entities
from chatbot.sandbox.mastodon.records import Account, Status
from chatbot.sandbox.mastodon.store import MastodonStore


def home_of(origin: MastodonStore, account: Account) -> tuple[str, str, str, str]:
    """Where an account of ``origin`` lives: (username, domain, web url, ActivityPub uri)."""
    url, uri = entities.account_urls(origin.base_url, account)
    return account.username, account.domain or origin.domain, url, uri


def copy_account(target: MastodonStore, origin: MastodonStore, account: Account) -> Account:
    """``target``'s record of an account that ``origin`` knows (``target``'s own, if it is)."""
    username, domain, url, uri = home_of(origin, account)
    if domain.lower() == target.domain.lower():
        own = target.lookup_account(username)
        if own is not None:
            return own
    return target.remote_account(
        username,
        domain,
        url=url,
        uri=uri,
        created_at=account.created_at,
        display_name=account.display_name,
        note=account.note,
        bot=account.bot,
        noindex=account.noindex,
        indexable=account.indexable,
        discoverable=account.discoverable,
        followers_count=account.followers_count,
    )


def copy_status(
    target: MastodonStore,
    origin: MastodonStore,
    status: Status,
    *,
    in_reply_to_id: str | None,
    quote_id: str | None,
    fetched: bool,
    content: str | None = None,
) -> Status:
    """Keep a copy of ``origin``'s ``status`` on ``target``; parent and quote already there.

    ``content``: the origin's HTML of it, when the caller has it already (rendered once
    for every instance it goes to)."""
    with target.lock, origin.lock:
        author = origin.account(status.account_id)
        assert author is not None, f"status {status.id} has no author"
        parent = target.status(in_reply_to_id) if in_reply_to_id else None
        uri, url = entities.status_addresses(origin, status)
        copy = Status(
            id=_copy_id(target, status.created_at, fetched=fetched),
            account_id=copy_account(target, origin, author).id,
            text=status.text,
            created_at=status.created_at,
            visibility=status.visibility,
            language=status.language,
            spoiler_text=status.spoiler_text,
            sensitive=status.sensitive,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            quote_id=quote_id,
            application=None,  # Mastodon shows no application on others' statuses
            edited_at=status.edited_at,
            tags=list(status.tags),
            mention_ids=_mentions(target, origin, status),
            uri=uri,
            url=url,
            content=content if content is not None else entities.content_html(origin, status),
        )
        return target.insert(copy)


def refresh_copy(
    target: MastodonStore, origin: MastodonStore, status: Status, copy: Status
) -> Status:
    """An edit arrives: the copy takes the origin's current text, tags and mentions."""
    with target.lock, origin.lock:
        copy.text, copy.spoiler_text = status.text, status.spoiler_text
        copy.sensitive, copy.language = status.sensitive, status.language
        copy.tags, copy.edited_at = list(status.tags), status.edited_at
        copy.mention_ids = _mentions(target, origin, status)
        copy.content = entities.content_html(origin, status)
        target.used_tags.update(copy.tags)
        return target.changed(copy)


def _mentions(target: MastodonStore, origin: MastodonStore, status: Status) -> list[str]:
    found = (origin.account(account_id) for account_id in status.mention_ids)
    return [copy_account(target, origin, account).id for account in found if account]


def _copy_id(target: MastodonStore, created_at: datetime, *, fetched: bool) -> str:
    if fetched or target.profile.remote_ids_from_published:
        return target.mint_id(created_at, monotonic=False)
    return target.mint_id(target.now())


__all__ = ["copy_account", "copy_status", "home_of", "refresh_copy"]
