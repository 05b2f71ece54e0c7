"""The sandbox Mastodon server's machinery: routing, bearer tokens, errors, faults, rate limits.

The routes are registered by :class:`chatbot.sandbox.mastodon.app.MastodonApp`;
the route modules type against :class:`MastodonBase`, so nothing here imports them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from chatbot.clock import Clock
from chatbot.sandbox.faults import Fault, FaultInjector
from chatbot.sandbox.mastodon.media import MediaRejected
from chatbot.sandbox.mastodon.profile import ServerProfile, profile_named
from chatbot.sandbox.mastodon.ratelimit import RateLimiter, RateLimits, Window, reset_header
from chatbot.sandbox.mastodon.records import Token
from chatbot.sandbox.mastodon.store import MastodonStore, NotFound, ValidationError
from chatbot.sandbox.mastodon.streaming import HEARTBEAT_SECONDS
from chatbot.sandbox.web import (
    CONTROL_PREFIX,
    HttpError,
    Request,
    Response,
    SandboxApp,
    StreamResponse,
    json_response,
)

INVALID_TOKEN = "The access token is invalid"
PAGING_PARAMS = ("max_id", "min_id", "since_id", "page")  # what makes a request page
_NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_RAILS_500_PAGE = (
    "<!DOCTYPE html>\n<html>\n"
    "<head><title>We're sorry, but something went wrong (500)</title></head>\n"
    "<body><h1>We're sorry, but something went wrong.</h1></body>\n</html>\n"
)

Handler = Callable[[Request], Response | StreamResponse]


class MastodonBase(SandboxApp):
    """A Mastodon server without its routes; :meth:`register_routes` adds them (none here)."""

    name = "mastodon"

    def __init__(
        self,
        store: MastodonStore | None = None,
        *,
        clock: Clock | None = None,
        faults: FaultInjector | None = None,
        max_characters: int = 500,
        rate_limits: RateLimits | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        profile: str | ServerProfile | None = None,
    ):
        """``profile``: which server to behave like (``mastodon`` or ``gotosocial``); a
        given ``store`` already has one, and the two must agree."""
        super().__init__(clock=clock or (store.clock if store else None), faults=faults)
        chosen = profile_named(profile) if profile is not None else None
        if store is not None and chosen is not None and store.profile != chosen:
            raise ValueError(
                f"the store behaves like {store.profile.name}, not {chosen.name}: "
                "give the profile to the store"
            )
        self.store = store or MastodonStore(clock=self.clock, profile=chosen or "mastodon")
        self.profile = self.store.profile
        self.store.max_characters = max_characters
        self.limiter = RateLimiter(self.clock, rate_limits or RateLimits())
        self.heartbeat_seconds = heartbeat_seconds
        self._windows: dict[int, Window] = {}
        self._windows_lock = threading.Lock()
        self.refused = 0  # answers of 429 from the rate limiter (injected faults not counted)
        # Rate-limited API requests by whose budget they spent (limit_key), for benchmarks.
        self.calls: Counter[str] = Counter()
        self.register_routes()

    def register_routes(self) -> None:
        """Add the routes (called at the end of ``__init__``)."""

    # -- routing with rate limits ---------------------------------------
    def route(
        self, method: str, pattern: str, handler: Handler, bucket: str | None = "reads"
    ) -> None:
        """Add a route; ``bucket`` names the rate limit it draws on (None: not limited)."""
        if bucket is None:
            self.router.add(method, pattern, handler)
            return

        def limited(request: Request) -> Response | StreamResponse:
            key = self.limit_key(request)
            window = self.limiter.hit(key, "reads")
            if bucket != "reads":
                # Posting and deleting also have their own, stricter buckets; the headers
                # describe that one, as Mastodon's do.
                specific = self.limiter.hit(key, bucket)
                if window.exceeded and not specific.exceeded:
                    specific = window
                window = specific
            elif any(request.arg(name) for name in PAGING_PARAMS):
                paging = self.limiter.hit(key, "paging")
                if paging.exceeded and not window.exceeded:
                    window = paging
            with self._windows_lock:
                self._windows[id(request)] = window
                self.calls[key] += 1
            if window.exceeded:
                with self._windows_lock:
                    self.refused += 1
                raise HttpError(429, "Too many requests", headers=window.headers())
            return handler(request)

        self.router.add(method, pattern, limited)

    def limit_key(self, request: Request) -> str:
        """Whose budget a request spends: its account's on Mastodon, its address's on GoToSocial
        (where every client behind one address shares it)."""
        token = self.store.token(self.request_token(request))
        if token is None or self.profile.limit_per_ip:
            return f"ip:{request.remote_addr or 'unknown'}"
        return f"account:{token.account_id}" if token.account_id else f"token:{token.token}"

    # -- authentication --------------------------------------------------
    @staticmethod
    def request_token(request: Request) -> str | None:
        return request.bearer_token or request.arg("access_token")

    def auth(self, request: Request, *, required: bool = True, user: bool = True) -> Token | None:
        """The caller's token; 401 for an unknown one (even where none is needed), as Mastodon."""
        value = self.request_token(request)
        token = self.store.token(value)
        if value and token is None:
            raise HttpError(401, INVALID_TOKEN)
        if token is None:
            if required:
                raise HttpError(401, INVALID_TOKEN)
            return None
        if user and token.account_id is None and required:
            raise HttpError(422, "This method requires an authenticated user")
        return token

    def viewer(self, request: Request) -> str | None:
        token = self.auth(request, required=False, user=False)
        return token.account_id if token else None

    # -- SandboxApp hooks -----------------------------------------------
    def dispatch(self, request: Request) -> Response | StreamResponse | None:
        if not self.store.has_base_url and not request.path.startswith(CONTROL_PREFIX):
            host = request.header("Host")
            if host:
                self.store.base_url = f"http://{host}"
        if not request.path.startswith(CONTROL_PREFIX):
            self.store.catch_up()  # what federation has due by now arrives before the answer
        try:
            return super().dispatch(request)
        finally:
            with self._windows_lock:
                self._windows.pop(id(request), None)

    def error_response(self, error: HttpError) -> Response:
        return json_response({"error": error.message}, error.status)

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault is Fault.RATE_LIMIT:
            reset = self.clock.now() + timedelta(seconds=self.faults.settings.retry_after_seconds)
            headers = {
                "X-RateLimit-Limit": str(self.limiter.limits.reads.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset_header(reset),
            }
            return json_response({"error": "Too many requests"}, 429, headers)
        if fault is Fault.SERVER_ERROR:
            return Response(500, _RAILS_500_PAGE.encode(), "text/html; charset=utf-8")
        code, reason = {
            Fault.BAD_GATEWAY: (502, "Bad Gateway"),
            Fault.UNAVAILABLE: (503, "Service Temporarily Unavailable"),
        }[fault]
        page = _NGINX_PAGE.format(code=code, reason=reason)
        return Response(code, page.encode(), "text/html", {"Server": "nginx"})

    def finish(self, request: Request, response: Response | StreamResponse) -> None:
        """Rate-limit headers on every API answer (not streams, not proxy or crash pages)."""
        if isinstance(response, StreamResponse) or response.content_type.startswith("text/html"):
            return
        response.headers.setdefault("Cache-Control", "private, no-store")
        response.headers.setdefault("Vary", "Authorization, Origin")
        if "X-RateLimit-Limit" in response.headers:
            return
        with self._windows_lock:
            window = self._windows.get(id(request))
        if window is None:
            window = self.limiter.hit(self.limit_key(request), "reads", consume=False)
        response.headers.update(window.headers())


def translate_errors(handler: Handler) -> Handler:
    """Turn the store's exceptions into Mastodon's 404 and 422 answers."""

    def wrapped(request: Request) -> Response | StreamResponse:
        try:
            return handler(request)
        except NotFound:
            raise HttpError(404, "Record not found") from None
        except (ValidationError, MediaRejected) as error:
            raise HttpError(422, str(error)) from None

    return wrapped


__all__ = ["INVALID_TOKEN", "MastodonBase", "translate_errors"]
