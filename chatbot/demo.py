"""``chatbot demo`` as a function: a whole chat on the sandbox, from question file to recap."""

from __future__ import annotations

import os
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from chatbot import db
from chatbot.bot.loading import load_event, prepare_plan
from chatbot.bot.running import Bot, CollectOptions
from chatbot.bot.runsettings import set_options
from chatbot.bot.scheduler import RunOptions
from chatbot.clock import CLOCK_ENV
from chatbot.collect.peers import anonymous_reader
from chatbot.collect.refresh import refresh_counts
from chatbot.config import get_setting
from chatbot.db import DATABASE_URL_ENV
from chatbot.defaults import DEMO_FILE as DEFAULT_FILE
from chatbot.defaults import DEMO_INSTANCES as DEFAULT_INSTANCES
from chatbot.defaults import STOP_GRACE
from chatbot.errors import UsageError
from chatbot.export import FORMATS, write_exports
from chatbot.export.folder import chat_dirname
from chatbot.hints import command
from chatbot.models import Event
from chatbot.platforms.base import Platform
from chatbot.platforms.credentials import (
    ENV_BLUESKY_HANDLE,
    ENV_BLUESKY_PASSWORD,
    ENV_BLUESKY_SERVICE,
    ENV_BLUESKY_WEB,
    ENV_MASTODON_TOKEN,
    ENV_MASTODON_URL,
    Secret,
)
from chatbot.recap.publish import RecapResult, recap_event
from chatbot.sandbox.crowd import ChatSchedule, CrowdConfig
from chatbot.sandbox.mastodon.federation import FederationSettings
from chatbot.sandbox.mastodon.profile import profiles_for
from chatbot.sandbox.runner import Sandbox

__all__ = [
    "DEFAULT_FILE",
    "ChatRunning",
    "DemoOptions",
    "DemoResult",
    "bot_platforms",
    "check_env_file",
    "run_demo",
    "run_rehearsal",
    "sandbox_env",
    "write_env_file",
]

SETUP_SECONDS = 4.0  # real seconds to log in and start before the welcome is due
TAIL = timedelta(minutes=10)  # collection goes on this long after the last post
DEMO_LOOK_SECONDS = 2.0  # sandbox seconds between looks for a due collection pass
DEFAULT_FEDERATION_DELAY = 30.0  # sandbox seconds, at most, before a status reaches the other


@dataclass(frozen=True)
class DemoOptions:
    """What ``chatbot demo`` runs: which file, how fast, how big a crowd, where to write."""

    file: Path = DEFAULT_FILE
    speed: float = 60.0
    participants: int = 20
    seed: int = 0
    out: Path | None = None  # default: transcripts/<hashtag>-<date>/
    faults: float = 0.0
    timeout: float | None = None  # real seconds before giving up; default: the chat's length
    name: str = "demo"  # what the output calls the run: "demo" or "rehearsal"
    # The sandbox's Mastodon instances (the bot's is the first), what each behaves like, and
    # how federation between them goes: the longest delay (sandbox seconds) and the loss.
    mastodon_instances: int = DEFAULT_INSTANCES
    mastodon_profile: str = "mastodon"
    federation_delay: float = DEFAULT_FEDERATION_DELAY
    federation_loss: float = 0.0
    data: bytes | None = None  # the file's content when read from standard input

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise UsageError(f"--speed {self.speed}: give a speed above 0, e.g. 60")
        if self.participants < 1:
            raise UsageError("--participants: a chat needs at least one participant")
        try:
            profiles_for(self.mastodon_instances, self.mastodon_profile)
            FederationSettings(delay=self.federation_delay, loss=self.federation_loss)
        except ValueError as error:
            raise UsageError(str(error)) from None


@dataclass
class DemoResult:
    """Where everything went."""

    recap: RecapResult
    exports: list[Path]
    database: Path
    posts: int = 0
    lines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """What ``chatbot demo --json`` prints."""
        return {
            "database": str(self.database),
            "exports": [str(path) for path in self.exports],
            # The chat's posts and participants are the recap's (the one count); this
            # is every post the bot collected on the way, its own and left-out ones too.
            "recap": self.recap.as_dict(),
            "collected": self.posts,
        }


def bot_platforms(sandbox: Sandbox, networks: tuple[str, ...] | None = None) -> dict[str, Platform]:
    """The bot's adapters on the sandbox, on its clock (credentials that only it knows).

    ``networks`` picks some of the sandbox's networks; default: all it runs.
    """
    from chatbot.platforms.bluesky import BlueskyPlatform
    from chatbot.platforms.mastodon import MastodonPlatform

    creds = sandbox.credentials()
    wanted = set(creds) if networks is None else set(networks) & set(creds)
    now = sandbox.clock.now
    found: dict[str, Platform] = {}
    if "bluesky" in wanted:
        blue = creds["bluesky"]
        # Links to the bot's and the crowd's posts point at the sandbox's own pages.
        found["bluesky"] = BlueskyPlatform(
            blue["handle"],
            Secret(blue["password"]),
            service=blue["url"],
            web=blue["web"],
            clock=now,
        )
    if "mastodon" in wanted:
        masto = creds["mastodon"]
        found["mastodon"] = MastodonPlatform(masto["url"], Secret(masto["token"]), clock=now)
    return found


@dataclass(frozen=True)
class ChatRunning:
    """A chat loaded on the sandbox and about to run: what a second terminal or a page needs."""

    event_id: int
    database_url: str
    sandbox: Sandbox
    engine: Engine
    platforms: dict[str, Platform]

    def env(self) -> dict[str, str]:
        """The environment a second terminal needs to steer and inspect this chat."""
        return {DATABASE_URL_ENV: self.database_url, **sandbox_env(self.sandbox)}


# Called once the chat is loaded, before its first post; returns how to clean up, if anything.
OnStart = Callable[[ChatRunning], Callable[[], None] | None]


def sandbox_env(sandbox: Sandbox) -> dict[str, str]:
    """The bot's variables for ``sandbox``: its clock and its throwaway accounts."""
    creds = sandbox.credentials()
    env = {CLOCK_ENV: sandbox.clock_string}
    if "bluesky" in creds:
        blue = creds["bluesky"]
        env[ENV_BLUESKY_SERVICE], env[ENV_BLUESKY_WEB] = blue["url"], blue["web"]
        env[ENV_BLUESKY_HANDLE], env[ENV_BLUESKY_PASSWORD] = blue["handle"], blue["password"]
    if "mastodon" in creds:
        env[ENV_MASTODON_URL] = creds["mastodon"]["url"]
        env[ENV_MASTODON_TOKEN] = creds["mastodon"]["token"]
    return env


def check_env_file(path: Path) -> None:
    """Refuse, before any work, a ``--env-file`` that cannot be written."""
    if path.is_dir():
        raise UsageError(f"--env-file {path}: that is a folder; give a file name, e.g. sandbox.env")
    if not path.parent.is_dir():
        raise UsageError(f"--env-file {path}: the folder {path.parent} does not exist")


def env_text(env: dict[str, str], path: Path | None = None) -> str:
    """``export NAME='value'`` lines, for a shell to read (from ``path`` when it is a file)."""
    where = shlex.quote(str(path)) if path is not None else "FILE (saved from this)"
    lines = [f"# chatbot sandbox: read it into a second terminal with  . {where}"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items())]
    return "\n".join(lines) + "\n"


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """Write ``export NAME='value'`` lines a shell reads with ``. PATH``; mode 0600.

    It holds the sandbox's (throwaway) password and token, so only its owner
    may read it, whatever the umask; it is replaced whole, never half written.
    """
    check_env_file(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, env_text(env, path).encode("utf-8"))
    finally:
        os.close(descriptor)
    os.replace(partial, path)


def run_rehearsal(
    options: DemoOptions,
    *,
    env_file: Path | None = None,
    live: bool = True,
    live_port: int = 0,
    say: Callable[[str], None] = print,
    env_to: Callable[[str], None] | None = None,
) -> DemoResult:
    """``chatbot rehearse``: the demo's run, steerable from a second terminal and a live page.

    Says how a second terminal reaches the chat (or writes it to ``env_file``,
    or hands the variables' text to ``env_to``: standard output) and, with
    ``live``, where the live page is; opens nothing by itself.
    """
    from chatbot.live import serve_live

    if env_file is not None:
        check_env_file(env_file)

    def on_start(chat: ChatRunning) -> Callable[[], None] | None:
        if env_to is not None:
            env_to(env_text(chat.env()))
            say("Second terminal: the variables are on standard output (keep them private)")
        elif env_file is not None:
            write_env_file(env_file, chat.env())
            say(
                f"Second terminal: . {shlex.quote(str(env_file))}  (mode 0600: it holds the "
                "sandbox's throwaway password and token)"
            )
        else:
            wanted = {k: v for k, v in chat.env().items() if k in (DATABASE_URL_ENV, CLOCK_ENV)}
            say(
                "Second terminal: export "
                + " ".join(f"{name}={shlex.quote(value)}" for name, value in sorted(wanted.items()))
            )
        say(f"  then e.g. {command('status', chat.event_id)}, {command('pause', chat.event_id)}")
        if not live:
            return None
        page = serve_live(
            chat.engine, str(chat.event_id), port=live_port, clock=chat.sandbox.clock,
            connect=chat.platforms.__getitem__,
        )  # fmt: skip
        say(f"Live page: {page.url}")
        return page.stop

    return run_demo(replace(options, name="rehearsal"), say=say, on_start=on_start)


def run_demo(
    options: DemoOptions, *, say: Callable[[str], None] = print, on_start: OnStart | None = None
) -> DemoResult:
    """Run a chat on the sandbox with a simulated crowd and write its exports and recap.

    The question file's start moves to a minute from now on an accelerated
    clock; the scheduler posts, the collector collects, then the transcript
    exports and the recap are written beside a database of their own.
    """
    origin = datetime.now(UTC).replace(microsecond=0)
    probe = prepare_plan(options.file, allow_past=True, now=origin, data=options.data)
    sandbox = Sandbox(
        seed=options.seed,
        speed=options.speed,
        virtual_start=origin,
        faults=options.faults,
        networks=tuple(probe.networks),
        mastodon_instances=options.mastodon_instances,
        mastodon_profile=options.mastodon_profile,
        federation=FederationSettings(
            delay=options.federation_delay, loss=options.federation_loss, seed=options.seed
        ),
    ).start()
    try:
        return _run(options, sandbox, say, on_start)
    finally:
        sandbox.stop()


def _run(
    options: DemoOptions, sandbox: Sandbox, say: Callable[[str], None], on_start: OnStart | None
) -> DemoResult:
    clock = sandbox.clock
    lead = max(60, round(SETUP_SECONDS * options.speed))
    plan = prepare_plan(options.file, start=f"+{lead}s", now=clock.now(), data=options.data)
    out = options.out or Path("transcripts") / chat_dirname(plan.hashtag, plan.start, plan.timezone)
    out.mkdir(parents=True, exist_ok=True)
    # Beside the folder to publish, not in it: it holds every post, deleted ones too.
    database = out.with_name(out.name + ".db")
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    with db.open_store(url) as engine:
        source = options.file if options.data is not None else options.file.resolve()
        event_id = load_event(engine, plan, source_path=str(source)).event_id
        with db.session_scope(engine) as session:
            event = session.get(Event, event_id)
            assert event is not None
            event.collect_until = plan.end + TAIL
        # The run's late limit is stored with the event, so `chatbot resume` judges as it does.
        set_options(engine, [event_id], late_limit=RunOptions().late_limit)
        minutes = lead // 60
        say(
            f"Sandbox on 127.0.0.1, clock {options.speed:g}x real time; #{plan.hashtag} starts "
            f"in {minutes} sandbox minute{'s' if minutes != 1 else ''} ({lead / options.speed:g} s)"
        )
        if len(sandbox.mastodon_servers) > 1:
            say(sandbox.mastodon_summary())
        platforms = bot_platforms(sandbox)
        # A second terminal may be elsewhere: it gets the database's absolute path.
        running = ChatRunning(
            event_id, f"sqlite:///{database.resolve()}", sandbox, engine, platforms
        )
        cleanup = on_start(running) if on_start is not None else None
        crowd = sandbox.run_crowd(
            ChatSchedule.from_event_plan(plan),
            # The recap is the demo's showcase: a crowd that reads as people, hostile
            # strings kept to the crowd's test runs (tests/recap/test_hostile.py and others).
            CrowdConfig(
                seed=options.seed, participants=options.participants, showcase=True, reactions=True
            ),
        )
        bot = Bot(
            engine,
            platforms.__getitem__,
            clock=clock,
            # Look at the outbox every few sandbox seconds, however fast the clock runs.
            options=RunOptions(
                event_ids=(event_id,),
                tick=max(0.02, min(0.5, 5 / options.speed)),
                until_done=True,
            ),
            collect=CollectOptions(
                stream=False,
                look_every=DEMO_LOOK_SECONDS,
                announce=False,
                # Other instances' posts are read there too, as `chatbot run` does by default.
                peers=int(get_setting("mastodon_servers").default),
            ),
            out=say,
        )
        # Long enough for the chat at this speed (twice over), and at least ten minutes.
        length = (plan.end + TAIL - clock.now()).total_seconds() / options.speed
        timeout = options.timeout if options.timeout is not None else max(600.0, 2 * length + 60)
        try:
            _run_until_done(bot, timeout, options.name)
        except BaseException as stop:
            if not isinstance(stop, Exception):  # Ctrl-C or a stop signal, not a failure
                say(f"Stopped before the end: no transcripts written; the {options.name}'s "
                    f"database is {database}")  # fmt: skip
            raise
        finally:
            crowd.stop()
            if cleanup is not None:
                cleanup()
        posts = bot.collected
        # After the chat, as an organizer would: the likes and reposts that came late.
        refresh_counts(
            engine, event_id, platforms, now=clock.now, sleep=clock.sleep,
            home_reader=anonymous_reader(clock.now),
        )  # fmt: skip
        exported = write_exports(engine, str(event_id), FORMATS, out_dir=out, now=clock.now())
    recap = recap_event(str(event_id), database_url=url, out_dir=out, now=clock.now())
    say(f"Transcripts: {', '.join(str(path) for path in exported.files)}")
    say(recap.message())
    say(
        f"The {options.name}'s database is {database}: look around with e.g. "
        f"{command('status', event_id, '--database-url', url)}"
    )
    return DemoResult(recap, exported.files, database, posts)


def _run_until_done(bot: Bot, timeout: float, name: str = "demo") -> None:
    """Run the bot until every post is final and the collection window is checked.

    Interrupted (Ctrl-C, or a stop signal raising here), it stops the bot first:
    posts in flight are given back within STOP_GRACE.
    """
    runner = threading.Thread(target=bot.run, name="demo-bot", daemon=True)
    runner.start()
    try:
        runner.join(timeout)
    except BaseException:
        bot.stop(promptly=True)
        runner.join(STOP_GRACE + 0.5)  # posts in flight are given back after STOP_GRACE
        raise
    if runner.is_alive():
        bot.stop()
        runner.join(30)
        raise UsageError(f"the {name} did not finish in {timeout:g} s; try a higher --speed")
