"""Getting and checking a Mastodon access token through OAuth, with the unmodified Mastodon.py.

``chatbot login mastodon`` registers an app with the fewest scopes the bot
needs, has the person approve it in a browser (out-of-band: the page shows
a code to paste back), trades the code for a token and checks it. The same
check serves ``chatbot login --check``. Works with any server of Mastodon's
client API (GoToSocial has no password grant: the code flow is the way in).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon import errors as mx

from chatbot.errors import AuthError, PlatformError, TransientError, UsageError
from chatbot.platforms.credentials import Secret

OOB = "urn:ietf:wg:oauth:2.0:oob"
APP_NAME = "chatbot"
# What the bot does: post, edit and delete its posts (write:statuses); read tag timelines,
# statuses, threads and streams (read:statuses); learn its own account (verify_credentials:
# "profile" where the server knows it, Mastodon 4.3+; "read:accounts" elsewhere).
NEEDED = ("read:statuses", "write:statuses")
# Asked for where the server lists them, never required: with read:search the bot's server
# fetches a post seen on another server by its address (search with resolve, collect.peers);
# without it such a post is still collected, as the other server showed it. With
# read:notifications the bot reads who asked it for a question ("@bot Q3?",
# bot.latejoiners); without it, it answers none on Mastodon.
WANTED = ("read:search", "read:notifications")
ACCOUNT_SCOPES = ("profile", "read:accounts")


def instance_url(text: str) -> str:
    """The instance's base URL from what the user typed; a bare host means https://."""
    value = text.strip()
    if not value:
        raise UsageError(
            "--instance is empty: give the server's address, e.g. https://mastodon.social"
        )
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # an unclosed "[", a port past 65535: no address either
        parts, host = urlsplit("x:"), None
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(
            f"--instance {text!r} is not a server address: use https://HOST, "
            "e.g. https://mastodon.social"
        )
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise UsageError(
            f"--instance {text!r}: give only the server's address, without a path, "
            f"e.g. {parts.scheme}://{parts.netloc}"
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def choose_scopes(supported: Any) -> list[str]:
    """The scopes to ask for: ``profile`` if the server lists it, else ``read:accounts``; and
    the ``WANTED`` ones the server lists."""
    listed = set(supported) if isinstance(supported, list) else set()
    account = "profile" if "profile" in listed else "read:accounts"
    return [*NEEDED, account, *(scope for scope in WANTED if scope in listed)]


def covers(granted: list[str], needed: str) -> bool:
    """Whether the granted scopes include ``needed``, itself or through ``read``/``write``."""
    return needed in granted or needed.partition(":")[0] in granted


def missing_scopes(granted: list[str]) -> list[str]:
    """What the bot needs and ``granted`` lacks."""
    lacking = [scope for scope in NEEDED if not covers(granted, scope)]
    if not any(covers(granted, scope) for scope in ACCOUNT_SCOPES):
        lacking.append("profile or read:accounts")
    return lacking


@dataclass(frozen=True)
class RateState:
    """What the last answer's X-RateLimit-* headers said."""

    remaining: int
    limit: int
    reset: datetime | None

    def describe(self) -> str:
        text = f"{self.remaining} of {self.limit} requests left"
        if self.reset is not None:
            text += f", window resets at {self.reset.strftime('%Y-%m-%d %H:%M:%S')} UTC"
        return text


def rate_state(api: Mastodon) -> RateState | None:
    """Mastodon.py keeps the last rate-limit headers on the client; None if none came."""
    if api.ratelimit_lastcall is None:
        return None
    reset = api.ratelimit_reset
    when = datetime.fromtimestamp(float(reset), UTC) if reset else None
    return RateState(int(api.ratelimit_remaining), int(api.ratelimit_limit), when)


@dataclass(frozen=True)
class MastodonAccount:
    """A token checked against its instance."""

    instance: str
    acct: str
    url: str
    scopes: list[str] | None  # None: the server did not say
    rate: RateState | None


@dataclass
class Authorisation:
    """An app registered for the bot, waiting for the person to approve it."""

    instance: str
    client_id: str
    client_secret: Secret
    scopes: list[str]
    url: str  # where the person approves
    version: str = ""  # what the server says it runs (GoToSocial's names itself)


@contextmanager
def _calling(instance: str, doing: str) -> Iterator[None]:
    """Mastodon.py's errors as ours, each naming what to fix; its warnings kept quiet."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except mx.MastodonNetworkError:
        raise UsageError(
            f"cannot reach {instance} ({doing}): check the address and your connection"
        ) from None
    except mx.MastodonUnauthorizedError:
        raise AuthError(
            f"{instance} refused the access token (401): it was revoked, or belongs to "
            "another server",
            network="mastodon",
        ) from None
    except mx.MastodonServerError as error:
        code = error.args[1] if len(error.args) > 1 else "5xx"
        raise TransientError(
            f"{instance} failed ({code}) while {doing}; try again later", network="mastodon"
        ) from None
    except mx.MastodonAPIError as error:
        code = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None
        if code is None:  # Mastodon.py's "Could not parse response as JSON"
            raise UsageError(
                f"{instance} did not answer as a Mastodon API server ({doing}): is it a "
                "Mastodon or GoToSocial server?"
            ) from None
        if code == 403:
            raise AuthError(
                f"{instance} refused the token for {doing} (403): its scopes don't allow it",
                network="mastodon",
            ) from None
        if code == 404:
            raise UsageError(
                f"{instance} has no Mastodon API ({doing} answered 404): is it a Mastodon "
                "or GoToSocial server?"
            ) from None
        raise PlatformError(f"{instance} refused {doing} ({code})", network="mastodon") from None
    except mx.MastodonError as error:
        raise PlatformError(f"{instance}: {doing} failed ({type(error).__name__})") from None


def _client(instance: str, timeout: float, **options: Any) -> Mastodon:
    return Mastodon(
        api_base_url=instance,
        request_timeout=timeout,
        ratelimit_method="throw",
        version_check_mode="none",
        **options,
    )


def start_authorisation(instance: str, *, timeout: float = 30.0) -> Authorisation:
    """Register the bot's app on ``instance`` and build the URL where the person approves it."""
    allow_http = instance.startswith("http://")
    anonymous = _client(instance, timeout)
    with _calling(instance, "reading the instance document"):
        about = anonymous.instance_v1()  # every Mastodon API server has it; others don't
    with _calling(instance, "reading its OAuth settings"):
        info = anonymous.oauth_authorization_server_info()
    grants = info.get("grant_types_supported") if isinstance(info, dict) else None
    if isinstance(grants, list) and "authorization_code" not in grants:
        raise UsageError(
            f"{instance} does not offer the OAuth code flow; make a token in its web "
            "settings instead (docs/credentials.md) and set CHATBOT_MASTODON_TOKEN"
        )
    scopes = choose_scopes(info.get("scopes_supported") if isinstance(info, dict) else None)
    with _calling(instance, "registering the app"):
        try:
            client_id, secret = Mastodon.create_app(
                APP_NAME,
                scopes=scopes,
                redirect_uris=OOB,
                api_base_url=instance,
                request_timeout=timeout,
            )
        except (KeyError, TypeError):  # an answer without client_id: an error document
            raise UsageError(
                f"{instance} refused to register the app (POST /api/v1/apps): is it a "
                "Mastodon or GoToSocial server, and does it accept new apps?"
            ) from None
    api = _client(instance, timeout, client_id=client_id, client_secret=secret)
    with _calling(instance, "building the authorisation address"):
        url = api.auth_request_url(
            scopes=scopes, redirect_uris=OOB, force_login=True, allow_http=allow_http
        )
    version = str(about.get("version") or "") if isinstance(about, dict) else ""
    return Authorisation(instance, client_id, Secret(secret), scopes, url, version)


def finish_authorisation(pending: Authorisation, code: str, *, timeout: float = 30.0) -> Secret:
    """Trade the code the person pasted for an access token."""
    code = code.strip()
    if not code:
        raise UsageError("no code given: paste the code the authorisation page shows")
    api = _client(
        pending.instance,
        timeout,
        client_id=pending.client_id,
        client_secret=pending.client_secret.reveal(),
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            token = api.log_in(
                code=code,
                redirect_uri=OOB,
                scopes=pending.scopes,
                allow_http=pending.instance.startswith("http://"),
            )
    except mx.MastodonIllegalArgumentError:
        # Mastodon.py folds every failure of the exchange into this one (the server's
        # invalid_grant, a network error); its text may quote the server, never our code.
        raise UsageError(
            f"{pending.instance} did not accept that code: copy it again from the page "
            "(a code works once, for a few minutes), or run chatbot login mastodon again"
        ) from None
    except mx.MastodonAPIError:  # granted fewer scopes than asked for
        raise UsageError(
            f"{pending.instance} granted fewer scopes than the bot needs "
            f"({' '.join(pending.scopes)}); approve the request as it is"
        ) from None
    except mx.MastodonError as error:
        raise PlatformError(
            f"{pending.instance}: exchanging the code failed ({type(error).__name__})"
        ) from None
    return Secret(str(token))


def check_token(instance: str, token: Secret, *, timeout: float = 30.0) -> MastodonAccount:
    """Who the token is, what it may do, and the rate-limit state after asking."""
    api = _client(instance, timeout, access_token=token.reveal())
    with _calling(instance, "checking the account (verify_credentials)"):
        me = api.account_verify_credentials()
    scopes: list[str] | None = None
    try:
        with _calling(instance, "reading the token's scopes"):
            scopes = [str(scope) for scope in (api.app_verify_credentials().get("scopes") or [])]
    except (PlatformError, UsageError):
        scopes = None  # older servers don't say (scopes came with Mastodon 4.3)
    return MastodonAccount(
        instance,
        str(me.get("acct") or me.get("username") or ""),
        str(me.get("url") or ""),
        scopes or None,
        rate_state(api),
    )


__all__ = [
    "ACCOUNT_SCOPES",
    "NEEDED",
    "OOB",
    "WANTED",
    "Authorisation",
    "MastodonAccount",
    "RateState",
    "check_token",
    "choose_scopes",
    "finish_authorisation",
    "instance_url",
    "missing_scopes",
    "rate_state",
    "start_authorisation",
]
