"""The one place that wires the bot: scheduler, outbox and collector for a run of chats.

``chatbot run``, ``chatbot demo`` and anything else that hosts chats (a
rehearsal, the live page) build a :class:`Bot` and call :meth:`Bot.run` (in
a thread of its own where the caller has more to do, as the demo does); none
of them wires a scheduler or writes a collect loop of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine

from chatbot.bot.latejoiners import LOOK_SECONDS, LateJoinerJob
from chatbot.bot.scheduler import BotService, RunOptions
from chatbot.clock import Clock
from chatbot.collect.job import CollectionJob
from chatbot.platforms.base import Platform

# Clock seconds between the collection job's looks; each event's collector paces itself.
COLLECT_LOOK_SECONDS = 5.0
# Real seconds closing the collectors' streams may take past a stop's grace.
CLOSE_SECONDS = 0.2


@dataclass(frozen=True)
class CollectOptions:
    """Whether and how a run collects the answers of its chats."""

    enabled: bool = True
    stream: bool = True  # also follow Mastodon's hashtag stream between polls
    look_every: float = COLLECT_LOOK_SECONDS  # clock seconds between looks for due collectors
    announce: bool = True  # say "collected N new posts of #tag" after each pass that found some
    live: str = "jetstream"  # Bluesky's live sources: jetstream, firehose or both
    peers: int = 0  # other Mastodon servers read besides the bot's own (collect.peers)


class Bot:
    """Posts the chats' posts on time and collects their answers, until stopped or done.

    ``connect(network)`` makes the adapter for a network (once; the bot shares
    it between posting and collecting). With ``options.until_done`` the run
    ends when every post is final and, when collecting, every chat's window
    is over and checked.
    """

    def __init__(
        self,
        engine: Engine,
        connect: Callable[[str], Platform],
        *,
        clock: Clock,
        options: RunOptions | None = None,
        collect: CollectOptions | None = None,
        out: Callable[[str], None] = print,
    ):
        self.options = options or RunOptions()
        self.service = BotService(engine, connect, clock=clock, options=self.options, out=out)
        collect = collect or CollectOptions()
        # Replies to "@bot Q3?" (bot.latejoiners): every chat unless its file says
        # late_joiners: off.
        self.late_joiners = LateJoinerJob(
            engine, self.service.platform, clock, event_ids=self.options.event_ids, say=out
        )
        self.service.add_job(
            self.late_joiners,
            seconds=LOOK_SECONDS,
            name="late-joiners",
            pending=self.late_joiners.pending,
        )
        self.collection: CollectionJob | None = None
        if collect.enabled:
            self.collection = CollectionJob(
                engine,
                self.service.platform,
                clock,
                event_ids=self.options.event_ids,
                stream=collect.stream,
                say=out if collect.announce else None,
                live=collect.live,
                peers=collect.peers,
            )
            self.service.add_job(
                self.collection,
                seconds=collect.look_every,
                name="collect",
                pending=self.collection.pending,
            )

    def platform(self, network: str) -> Platform:
        """The adapter the bot posts and collects with on ``network``."""
        return self.service.platform(network)

    def check_networks(self, networks: Iterable[str]) -> None:
        """Make every adapter needed now, so missing credentials stop the run before any work."""
        self.service.check_networks(list(networks))

    def run(self) -> int:
        """Post and collect until stopped (or done); returns the exit code."""
        try:
            return self.service.run()
        finally:
            if self.collection is not None:
                self._close_collection(self.collection)

    def _close_collection(self, collection: CollectionJob) -> None:
        """Close the streams; with a stop grace, give up waiting for them soon after it."""
        deadline = self.service.stop_deadline()
        if deadline is None:
            collection.close()
            return
        closer = threading.Thread(target=collection.close, name="collect-close", daemon=True)
        closer.start()
        closer.join(max(deadline - time.monotonic(), 0.0) + CLOSE_SECONDS)

    def stop(self, code: int | None = None, *, promptly: bool = False) -> None:
        """Ask :meth:`run` to finish: no new claims; the post in flight completes.

        ``promptly`` (a signal): work still in flight ``options.stop_grace`` seconds
        later is left behind: its post is given back (pending, same key) and
        :attr:`abandoned` names it; the next run sends it again and the network
        keeps one copy.
        """
        self.service.stop(code, promptly=promptly)

    @property
    def abandoned(self) -> list[str]:
        """The posts a stop gave back unfinished ("Q1 on mastodon"), after :meth:`run`."""
        return list(self.service.abandoned)

    @property
    def stopping(self) -> bool:
        return self.service.stopping

    @property
    def collected(self) -> int:
        """New posts stored by this run's collectors so far."""
        return 0 if self.collection is None else self.collection.new_posts


__all__ = ["CLOSE_SECONDS", "COLLECT_LOOK_SECONDS", "Bot", "CollectOptions"]
