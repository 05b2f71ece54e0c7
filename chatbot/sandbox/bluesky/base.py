"""The XRPC server's machinery (PDS + AppView in one): auth, rate limits, errors, faults.

The routes are registered by :class:`chatbot.sandbox.bluesky.app.BlueskyApp`;
the route modules type against :class:`BlueskyBase`, so nothing here imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatbot.clock import Clock
from chatbot.sandbox.bluesky.auth import ACCESS_SCOPE, TokenIssuer
from chatbot.sandbox.bluesky.ratelimit import GLOBAL_IP, Policy, RateLimiter, Status
from chatbot.sandbox.bluesky.records import RecordError
from chatbot.sandbox.bluesky.search import SearchError
from chatbot.sandbox.bluesky.store import Account, BlueskyStore, StoreError
from chatbot.sandbox.bluesky.views import THREAD_BRANCHING
from chatbot.sandbox.faults import Fault, FaultInjector
from chatbot.sandbox.web import (
    CONTROL_PREFIX,
    HttpError,
    Request,
    Response,
    SandboxApp,
    StreamResponse,
    json_response,
)

XrpcHandler = Callable[[Request], Any]

_PROXY_PAGES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
}


class BlueskyBase(SandboxApp):
    """A PDS that proxies ``app.bsky.*`` to its AppView, without its routes.

    :meth:`register_routes` (called at the end of ``__init__``) adds only the
    answer to an unknown method; subclasses add theirs before it.
    """

    name = "bluesky"

    def __init__(
        self,
        store: BlueskyStore | None = None,
        *,
        clock: Clock | None = None,
        faults: FaultInjector | None = None,
        ip_policy: Policy = GLOBAL_IP,
        rate_limits: bool = True,
        anonymous_search: bool = True,
        thread_branching: int | None = THREAD_BRANCHING,
        service_did: str = "did:web:pds.sandbox.test",
    ):
        super().__init__(clock=clock or (store.clock if store else None), faults=faults)
        self.store = store or BlueskyStore(self.clock)
        self.service_did = service_did
        self.tokens = TokenIssuer(self.clock, service_did=service_did)
        self.limiter = RateLimiter(self.clock, enabled=rate_limits)
        self.ip_policy = ip_policy
        # Production's public AppView has often refused logged-out searchPosts with
        # an HTML 403 from its proxy; False reproduces that.
        self.anonymous_search = anonymous_search
        # getPostThread shows at most this many replies per post below the anchor's
        # own replies (None: all, as the reference AppView in dev-env does).
        self.thread_branching = thread_branching
        self._queries: set[str] = set()
        self._procedures: set[str] = set()
        self.register_routes()

    def register_routes(self) -> None:
        """Add the routes; last of all, the answer to a method this server doesn't know."""
        self.router.add("GET", "/xrpc/{nsid}", self._unknown)
        self.router.add("POST", "/xrpc/{nsid}", self._unknown)

    # -- registration ---------------------------------------------------
    def query(self, nsid: str, handler: XrpcHandler) -> None:
        self._queries.add(nsid)
        self.router.add("GET", f"/xrpc/{nsid}", self._wrap(handler))

    def procedure(self, nsid: str, handler: XrpcHandler) -> None:
        self._procedures.add(nsid)
        self.router.add("POST", f"/xrpc/{nsid}", self._wrap(handler))

    def _wrap(self, handler: XrpcHandler) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                result = handler(request)
            except StoreError as error:
                raise HttpError(error.status, error.error, error.message) from None
            except (RecordError, SearchError) as error:
                raise HttpError(400, "InvalidRequest", str(error)) from None
            if isinstance(result, Response):
                return result
            return json_response(result)

        return run

    def _unknown(self, request: Request) -> Response:
        nsid = request.path_params["nsid"]
        wanted = "GET" if nsid in self._queries else "POST" if nsid in self._procedures else None
        if wanted:
            raise HttpError(
                400, "InvalidRequest", f"Incorrect HTTP method ({request.method}) expected {wanted}"
            )
        # The reference PDS would proxy an unknown method for a logged-in caller (and
        # answers 501 when nobody serves it); without a token it refuses first.
        if self.viewer(request) is None:
            raise HttpError(401, "AuthMissing", "Authentication Required")
        raise HttpError(501, "MethodNotImplemented", "Method Not Implemented")

    # -- auth -------------------------------------------------------------
    def viewer(self, request: Request) -> str | None:
        """The DID of a valid access token, None without one (public AppView reads)."""
        token = request.bearer_token
        return self.tokens.verify(token, ACCESS_SCOPE).did if token else None

    def authed(self, request: Request) -> Account:
        claims = self.tokens.verify(request.bearer_token, ACCESS_SCOPE)
        account = self.store.account(claims.did)
        if account is None:
            raise HttpError(400, "AccountNotFound", "Account not found")
        return account

    def spend(self, request: Request, policy: Policy, key: str, points: int = 1) -> Status:
        """Charge a route-specific limit; 429 when it is used up."""
        status = self.limiter.hit(policy, key, points)
        if status.exceeded:
            raise HttpError(429, "RateLimitExceeded", "Rate Limit Exceeded", status.headers())
        return status

    # -- SandboxApp hooks -------------------------------------------------
    def error_response(self, error: HttpError) -> Response:
        return json_response({"error": error.error, "message": error.message}, error.status)

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault is Fault.RATE_LIMIT:
            reset = self.clock.now().timestamp() + self.faults.settings.retry_after_seconds
            response = self.error_response(
                HttpError(429, "RateLimitExceeded", "Rate Limit Exceeded")
            )
            response.headers.update(Status(self.ip_policy, 0, int(reset) + 1, True).headers())
            return response
        if fault is Fault.SERVER_ERROR:
            return self.error_response(
                HttpError(500, "InternalServerError", "Internal Server Error")
            )
        # 502/503 come from the load balancer in front of the PDS: an HTML page, not XRPC.
        status = 502 if fault is Fault.BAD_GATEWAY else 503
        title = _PROXY_PAGES[status]
        body = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
        )
        return Response(status=status, body=body.encode(), content_type="text/html")

    def dispatch(self, request: Request) -> Response | StreamResponse | None:
        if not request.path.startswith(CONTROL_PREFIX):
            status = self.limiter.hit(self.ip_policy, request.remote_addr or "unknown")
            if status.exceeded:
                response = self.error_response(
                    HttpError(429, "RateLimitExceeded", "Rate Limit Exceeded")
                )
                response.headers.update(status.headers())
                return response
        return super().dispatch(request)

    def finish(self, request: Request, response: Response | StreamResponse) -> None:
        """RateLimit-* headers on every answer: the limit closest to running out."""
        ip_status = self.limiter.peek(self.ip_policy, request.remote_addr or "unknown")
        current = response.headers.get("RateLimit-Remaining")
        if current is None or int(current) > ip_status.remaining:
            response.headers.update(ip_status.headers())


__all__ = ["BlueskyBase"]
