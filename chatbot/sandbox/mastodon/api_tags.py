"""GET /api/v1/tags/:name: a hashtag with the server's own daily counts of its use.

No real recording of this endpoint is in the fixtures: the shape follows
Mastodon's documentation (the Tag entity and the tags methods): ``name``,
``url``, ``history`` (seven days, newest first, each ``day`` a UNIX time at
midnight UTC and ``uses`` / ``accounts`` as strings) and ``following`` for a
logged-in caller. As on Mastodon, a day counts the public statuses with the
tag made that day (deleted ones too: the server's counter never goes down)
and the distinct accounts that made them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from chatbot.sandbox.mastodon.render import normalize_tag
from chatbot.sandbox.web import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from chatbot.sandbox.mastodon.base import MastodonBase

HISTORY_DAYS = 7


def tag_history(
    statuses: list[tuple[datetime, str]], today: datetime, days: int = HISTORY_DAYS
) -> list[dict[str, str]]:
    """``[{day, uses, accounts}]`` newest first for ``days`` days up to ``today`` (UTC),
    from the (created_at, account id) of every public status with the tag."""
    midnight = today.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    uses: dict[datetime, int] = {}
    accounts: dict[datetime, set[str]] = {}
    for created, account in statuses:
        day = created.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        uses[day] = uses.get(day, 0) + 1
        accounts.setdefault(day, set()).add(account)
    history = []
    for back in range(days):
        day = midnight - timedelta(days=back)
        history.append(
            {
                "day": str(int(day.timestamp())),
                "uses": str(uses.get(day, 0)),
                "accounts": str(len(accounts.get(day, ()))),
            }
        )
    return history


def register(app: MastodonBase) -> None:
    store = app.store
    profile = store.profile

    def show_tag(request: Request) -> Response:
        given = unquote(request.path_params["name"])
        name = normalize_tag(given)
        if not name:
            raise HttpError(404, "Record not found")
        token = app.auth(request, required=False, user=False)
        if profile.tag_404_until_used and name not in store.used_tags:
            raise HttpError(404, "Not Found: tag was not found, or not useable/listable")
        with store.lock:
            used = [
                (s.created_at, s.account_id)
                for s in store.statuses.values()
                if s.visibility == "public" and name in s.tags
            ]
        body: dict[str, Any] = {
            "name": given.lstrip("#"),
            "url": f"{store.base_url}/tags/{quote(name)}",
            "history": tag_history(used, store.now()),
        }
        if token is not None:
            body["following"] = False
        return json_response(body)

    app.route("GET", "/api/v1/tags/{name}", show_tag)


__all__ = ["HISTORY_DAYS", "register", "tag_history"]
