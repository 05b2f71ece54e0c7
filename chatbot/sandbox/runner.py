"""Both sandbox networks in one object: one seed, one clock, the bot's accounts, a crowd."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from chatbot.clock import AcceleratedClock, Clock, SystemClock
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig, plan_crowd
from chatbot.sandbox.crowd.driver import CrowdDriver
from chatbot.sandbox.faults import FaultInjector, FaultSettings
from chatbot.sandbox.mastodon.federation import Federation, FederationSettings
from chatbot.sandbox.mastodon.profile import ServerProfile, profiles_for
from chatbot.sandbox.server import SandboxHTTPServer

NETWORKS = ("bluesky", "mastodon")
FaultOption = float | FaultSettings | dict[str, float | FaultSettings]


class Sandbox:
    """Local Bluesky and Mastodon servers on 127.0.0.1, ready for the unmodified clients.

    ::

        with Sandbox(seed=1, speed=60) as sandbox:
            client = atproto.Client(base_url=sandbox.bluesky_url + "/xrpc")
            client.login(sandbox.bot_handle, sandbox.bot_password)

    ``faults`` is a rate (0..1) for both servers, :class:`FaultSettings`, or a
    dict of either per network.  ``speed`` above 1 (or a ``virtual_start``)
    gives an :class:`AcceleratedClock` the servers, the crowd and the bot share;
    its :meth:`describe` string is :attr:`clock_string`.  ``mastodon_instances``
    Mastodon servers run, each its own origin; the bot's account is on the
    first, and with more than one they federate (``federation``: delay and
    loss).  ``mastodon_profile`` makes them behave like ``mastodon`` or
    ``gotosocial`` (see docs/sandbox.md): one name for all, or one per
    instance (a list, or text with commas).  The bot's credentials are
    throwaways that only this sandbox knows.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        speed: float = 1.0,
        virtual_start: datetime | None = None,
        clock: Clock | None = None,
        faults: FaultOption = 0.0,
        bluesky_port: int = 0,
        mastodon_port: int = 0,
        networks: tuple[str, ...] = NETWORKS,
        bot_handle: str = "chatbot.sandbox.test",
        bot_username: str = "chatbot",
        rate_limits: bool = True,
        mastodon_profile: str | Sequence[str | ServerProfile] = "mastodon",
        mastodon_instances: int = 1,
        federation: FederationSettings | None = None,
    ):
        unknown = set(networks) - set(NETWORKS)
        if unknown:
            raise ValueError(f"unknown network(s) {sorted(unknown)}: choose from {NETWORKS}")
        if speed <= 0:
            raise ValueError("speed must be above 0")
        self.seed = seed
        self.speed = speed
        self.virtual_start = virtual_start
        self._clock = clock
        self.faults = faults
        self.ports = {"bluesky": bluesky_port, "mastodon": mastodon_port}
        self.networks = tuple(n for n in NETWORKS if n in networks)
        self.bot_handle = bot_handle
        self.bot_username = bot_username
        self.bot_password = _password(seed)
        self.rate_limits = rate_limits
        self.mastodon_profiles = profiles_for(mastodon_instances, mastodon_profile)
        self.mastodon_profile = self.mastodon_profiles[0]  # the bot's instance's
        self.federation_settings = federation or FederationSettings(seed=seed)
        self.federation: Federation | None = None
        self.servers: dict[str, SandboxHTTPServer] = {}
        self.mastodon_servers: list[SandboxHTTPServer] = []  # instance 0 is the bot's
        self.bot_ids: dict[str, str] = {}  # network -> DID / account id
        self.mastodon_token: str | None = None
        self.drivers: list[CrowdDriver] = []

    # -- life cycle --------------------------------------------------------
    @property
    def clock(self) -> Clock:
        if self._clock is None:
            if self.speed != 1.0 or self.virtual_start is not None:
                self._clock = AcceleratedClock.starting_now(self.speed, self.virtual_start)
            else:
                self._clock = SystemClock()
        return self._clock

    @property
    def clock_string(self) -> str:
        describe = getattr(self.clock, "describe", None)
        return describe() if describe else "system"

    def start(self) -> Sandbox:
        """Start the servers (on free ports unless given) and create the bot's accounts."""
        if self.servers:
            return self
        try:
            if "bluesky" in self.networks:
                self._start_bluesky()
            if "mastodon" in self.networks:
                self._start_mastodon()
        except BaseException:
            self.stop()
            raise
        return self

    def _injector(self, network: str, offset: int) -> FaultInjector:
        option = self.faults.get(network, 0.0) if isinstance(self.faults, dict) else self.faults
        settings = (
            option if isinstance(option, FaultSettings) else FaultSettings(rate=float(option))
        )
        return FaultInjector(seed=self.seed * 1009 + offset, settings=settings)

    def _start_bluesky(self) -> None:
        from chatbot.sandbox.bluesky import BlueskyApp, BlueskyStore

        store = BlueskyStore(self.clock, seed=self.seed)
        app = BlueskyApp(
            store,
            clock=self.clock,
            faults=self._injector("bluesky", 1),
            rate_limits=self.rate_limits,
        )
        self.servers["bluesky"] = SandboxHTTPServer(app, port=self.ports["bluesky"]).start()
        store.cdn_url = self.servers["bluesky"].url  # image views point at this server
        account = store.create_account(
            self.bot_handle, self.bot_password, display_name="Chat bot (sandbox)"
        )
        self.bot_ids["bluesky"] = account.did

    def _start_mastodon(self) -> None:
        from chatbot.sandbox.mastodon.app import MastodonApp
        from chatbot.sandbox.mastodon.ratelimit import unlimited
        from chatbot.sandbox.mastodon.store import MastodonStore

        for index, profile in enumerate(self.mastodon_profiles):
            store = MastodonStore(clock=self.clock, profile=profile)
            # Instance 0 keeps the fault seed a lone Mastodon always had.
            faults = self._injector("mastodon", 2 if index == 0 else 2 + 100 * index)
            limits = None if self.rate_limits else unlimited()
            app = MastodonApp(store, clock=self.clock, faults=faults, rate_limits=limits)
            server = SandboxHTTPServer(app, port=self.ports["mastodon"] if index == 0 else 0)
            store.base_url = server.url
            self.mastodon_servers.append(server.start())
        self.servers["mastodon"] = self.mastodon_servers[0]
        store = self.mastodon_stores[0]
        account = store.create_account(
            self.bot_username,
            display_name="Chat bot (sandbox)",
            bot=True,
            default_visibility="public",  # the bot's questions are public on every profile
        )
        self.bot_ids["mastodon"] = str(account["id"])
        self.mastodon_token = store.token_for(self.bot_ids["mastodon"])
        if len(self.mastodon_servers) > 1:
            self.federation = Federation(
                self.mastodon_stores, self.clock, self.federation_settings
            ).start()

    def stop(self) -> None:
        """Stop every crowd and server; safe to call twice."""
        for driver in self.drivers:
            driver.stop()
        if self.federation is not None:
            self.federation.stop()
        for server in {id(s): s for s in [*self.servers.values(), *self.mastodon_servers]}.values():
            server.stop()
        self.servers.clear()
        self.mastodon_servers.clear()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients need ---------------------------------------------------
    def url(self, network: str) -> str:
        return self.servers[network].url

    @property
    def bluesky_url(self) -> str:
        return self.url("bluesky")

    @property
    def mastodon_url(self) -> str:
        return self.url("mastodon")

    def store(self, network: str) -> Any:
        server = self.servers.get(network)
        return server.app.store if server else None  # type: ignore[attr-defined]

    @property
    def bluesky(self) -> Any:
        """The :class:`BlueskyStore` (None when Bluesky is not running)."""
        return self.store("bluesky")

    @property
    def mastodon(self) -> Any:
        """The :class:`MastodonStore` (None when Mastodon is not running)."""
        return self.store("mastodon")

    @property
    def mastodon_stores(self) -> list[Any]:
        """Every Mastodon instance's :class:`MastodonStore`, the bot's first."""
        return [server.app.store for server in self.mastodon_servers]  # type: ignore[attr-defined]

    def mastodon_instances(self) -> list[dict[str, str]]:
        """Each Mastodon instance: its base URL, its domain (``user@domain``) and profile."""
        return [
            {"url": server.url, "domain": store.domain, "profile": store.profile.name}
            for server, store in zip(self.mastodon_servers, self.mastodon_stores, strict=True)
        ]

    def mastodon_summary(self) -> str:
        """One line naming the Mastodon instances, the bot's first."""
        shown = [f"{i['url']} ({i['profile']})" for i in self.mastodon_instances()]
        if len(shown) < 2:
            return f"Mastodon: one instance, {shown[0] if shown else 'not running'}"
        return (
            f"Mastodon: {len(shown)} federating instances, the bot's on {shown[0]}; "
            f"the crowd also posts from {', '.join(shown[1:])}"
        )

    def credentials(self) -> dict[str, dict[str, str]]:
        """Where and how the bot logs in: the JSON ``chatbot sandbox serve`` prints.

        Bluesky's ``web`` is the base of post and profile links: the sandbox
        serves those pages itself (``CHATBOT_BLUESKY_WEB``).
        """
        found: dict[str, dict[str, str]] = {}
        if "bluesky" in self.servers:
            found["bluesky"] = {
                "url": self.bluesky_url,
                "web": self.bluesky_url,
                "handle": self.bot_handle,
                "password": self.bot_password,
            }
        if "mastodon" in self.servers and self.mastodon_token:
            found["mastodon"] = {"url": self.mastodon_url, "token": self.mastodon_token}
        return found

    # -- the crowd -----------------------------------------------------------
    def crowd(self, schedule: ChatSchedule, config: CrowdConfig | None = None) -> CrowdDriver:
        """A crowd driver for ``schedule``, seeded like the sandbox unless ``config`` says."""
        config = config or CrowdConfig(seed=self.seed)
        # The crowd spreads over every Mastodon instance this sandbox runs.
        config = replace(config, mastodon_instances=max(1, len(self.mastodon_servers)))
        driver = CrowdDriver(
            plan_crowd(config, schedule),
            self.bluesky,
            self.mastodon,
            self.clock,
            moderators=dict(self.bot_ids),
            web=self.bluesky_url if "bluesky" in self.servers else "https://bsky.app",
            mastodon_stores=self.mastodon_stores,
            federation=self.federation,
        )
        driver.setup()
        self.drivers.append(driver)
        return driver

    def run_crowd(
        self,
        schedule: ChatSchedule,
        config: CrowdConfig | None = None,
        *,
        until: datetime | None = None,
    ) -> CrowdDriver:
        """Start a crowd in a background thread on this sandbox's clock."""
        driver = self.crowd(schedule, config)
        driver.start(until=until)
        return driver


def _password(seed: int) -> str:
    # Deterministic per seed so a demo can be replayed; it guards nothing real.
    return "sandbox-" + hashlib.sha256(f"chatbot-sandbox:{seed}".encode()).hexdigest()[:16]


__all__ = ["Sandbox"]
