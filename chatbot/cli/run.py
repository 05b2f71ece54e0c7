"""The ``chatbot run`` command: post every due post exactly once, until stopped."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from typing import Any

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit, json_option
from chatbot.cli.options import FreeText, clock_option, database_url_option, live_option, make_clock
from chatbot.cli.stopping import StopRequested, StopSignals, leave, stop_signals

# A second Ctrl-C: a post being sent stays "posting"; the next run sends it again with
# the same key, which the network deduplicates.
AT_ONCE = "Stopped at once; the next run finishes any post that was being sent."


@cli.command("run")
@click.argument("events", metavar="[EVENT]...", nargs=-1)
@database_url_option
@clock_option
@click.option(
    "--layout",
    type=click.Choice(["standalone", "thread"]),
    help="Questions as posts of their own (standalone), or as replies under the welcome "
    "post (thread). Stored with the event; default: the event's, else standalone.",
)
@click.option(
    "--recap-url",
    metavar="URL",
    type=FreeText(2000),
    help="Add this link to the wrap-up post (stored with the event).",
)
@live_option
@click.option(
    "--late-limit",
    metavar="DURATION",
    help="Skip a post not sent this long after its due time (e.g. 10m; "
    "default: setting late_limit_seconds, 10m).",
)
@click.option(
    "--until-done",
    is_flag=True,
    help="Exit once every post of the events is final and, when collecting, once the "
    "collection window after the wrap-up is over and checked.",
)
@click.option(
    "--collect/--no-collect",
    default=True,
    show_default=True,
    help="Collect the answers while running (from before the welcome until after the "
    "wrap-up); `chatbot collect` finishes or backfills it later.",
)
@json_option
def run_command(
    events: tuple[str, ...],
    database_url: str,
    clock: str,
    layout: str | None,
    recap_url: str | None,
    live: str | None,
    late_limit: str | None,
    until_done: bool,
    collect: bool,
    as_json: bool,
) -> None:
    """Post the scheduled posts of EVENT (an id or a hashtag), or of every live event.

    Runs in the foreground, one line per action. Each post goes out once per
    network, in order, even across crashes and several bot processes sharing
    a PostgreSQL database. A post more than the late limit behind is skipped
    and reported. Ctrl-C (or SIGTERM) lets the post in flight finish, then
    exits 0 within 2 s: a post a network has not answered within
    stop_grace_seconds (1) is given back, and the next run sends it again
    (once: the network sees the same key). Unless --no-collect, the answers
    are collected meanwhile, from before the welcome until after the wrap-up
    (collect_after_minutes); with --until-done the run ends when that window
    is over, and `chatbot collect` finishes any collection a stop cut short.
    Credentials come from CHATBOT_BLUESKY_* / CHATBOT_MASTODON_* or the
    private credentials file (docs/credentials.md). With --json the lines go to stderr and, at the
    end, stdout gets {"events": [{"id": ..., "hashtag": ...}], "networks":
    [...], "exit_code": N}.

    Control a running chat from another terminal with chatbot status,
    pause, resume, skip, delay and post-now.

    \b
    Example:
        chatbot run sm35 --layout thread --recap-url https://example.org/sm35
    """
    say = _echo_err if as_json else _echo
    with stop_signals(AT_ONCE) as signals:
        try:
            code, chosen, networks = _run(
                events, database_url, clock, layout, recap_url, live, late_limit, until_done,
                collect, say, signals,
            )  # fmt: skip
        except StopRequested:
            # Nothing claimed yet (still connecting or checking): nothing to finish.
            say("Stopped before posting anything.")
            code, chosen, networks = 0, [], []
    if as_json:
        emit(
            {
                "events": [{"id": event_id, "hashtag": tag} for event_id, tag, *_ in chosen],
                "networks": networks,
                "exit_code": code,
            }
        )
    leave(code, promptly=signals.requested)


def _run(
    events: tuple[str, ...],
    database_url: str,
    clock: str,
    layout: str | None,
    recap_url: str | None,
    live: str | None,
    late_limit: str | None,
    until_done: bool,
    collect: bool,
    say: Any,
    signals: StopSignals,
) -> tuple[int, list[Any], list[str]]:
    from chatbot.bot import controls
    from chatbot.bot.retry import RetryPolicy
    from chatbot.bot.running import Bot, CollectOptions
    from chatbot.bot.scheduler import RunOptions
    from chatbot.config import resolve_settings
    from chatbot.db import open_store, session_scope
    from chatbot.eventref import resolve_event
    from chatbot.platforms import connect as connect_network
    from chatbot.platforms.credentials import load_credentials

    settings = resolve_settings()
    limit = (
        controls.parse_late_limit(late_limit)
        if late_limit is not None
        else timedelta(seconds=float(settings["late_limit_seconds"]))
    )
    the_clock = make_clock(clock)
    _quiet_logs()
    credentials = load_credentials()
    # An embedding program (or a test) may hand in its own connect(network, credentials, **kw).
    connect = (click.get_current_context().obj or {}).get("connect", connect_network)
    with open_store(database_url) as engine:
        with session_scope(engine) as session:
            now = the_clock.now()
            chosen = [
                (e.id, e.hashtag, e.state, tuple(e.networks))
                for e in (resolve_event(session, ref, purpose="act", now=now) for ref in events)
            ]
        ids = [event_id for event_id, *_ in chosen if event_id is not None]
        networks = sorted({n for *_, nets in chosen for n in nets})
        for event_id, hashtag, state, _ in chosen:
            if state in ("finished", "cancelled"):
                say(f"note: #{hashtag} (event {event_id}) is {state}: nothing left to post.")
        targets = ids if events else controls.live_event_ids(engine)
        if not events:
            with session_scope(engine) as session:
                networks = sorted(_networks_of(session, targets))
        options = RunOptions(
            event_ids=tuple(ids) if events else None,
            late_limit=limit,
            late_after=timedelta(seconds=float(settings["late_after_seconds"])),
            lease=timedelta(seconds=float(settings["claim_timeout_seconds"])),
            policy=RetryPolicy(max_attempts=int(settings["max_attempts"])),
            until_done=until_done,
            stop_grace=float(settings["stop_grace_seconds"]),  # for a stop by a signal
        )
        bot = Bot(
            engine,
            lambda network: connect(
                network,
                credentials,
                clock=the_clock.now,
                # Keep Bluesky's session across restarts: createSession is rate limited.
                **({"persist_session": True} if network == "bluesky" else {}),
            ),
            clock=the_clock,
            options=options,
            collect=CollectOptions(
                enabled=collect,
                live=str(settings["bluesky_live"]),
                peers=int(settings["mastodon_servers"]),
            ),
            out=say,
        )
        bot.check_networks(networks)  # missing credentials: stop before any work
        # Stored once nothing can stop the run any more (a refusal changes nothing); the
        # late limit too, so that `chatbot resume` judges late posts as this run does.
        controls.set_options(
            engine, targets, layout=layout, recap_url=recap_url, live=live, late_limit=limit
        )
        for line in _account_warnings(engine, targets, bot):
            say(line)
        what = ", ".join(f"#{tag} (event {event_id})" for event_id, tag, *_ in chosen) or (
            f"{len(targets)} live events" if len(targets) != 1 else "1 live event"
        )
        say(f"Running {what} on {' and '.join(networks) or 'no network yet'}; Ctrl-C stops.")
        signals.attach(lambda: _stopping(bot, say))
        code = int(bot.run())
        if bot.abandoned:
            say(
                f"Stopped while sending {', '.join(bot.abandoned)}: given back unfinished; the "
                "next run sends it again with the same key, so it is posted once."
            )
    return code, chosen, networks


def _account_warnings(engine: Any, event_ids: list[int], bot: Any) -> list[str]:
    """Warnings for events whose file names another account than the one logged in."""
    from chatbot.bot.accountcheck import account_warnings
    from chatbot.db import session_scope
    from chatbot.errors import PlatformError
    from chatbot.models import Event

    with session_scope(engine) as session:
        named = []
        for event_id in event_ids:
            event = session.get(Event, event_id)
            if event is not None and event.accounts:
                wanted = {n: h for n, h in event.accounts.items() if n in event.networks}
                named.append((event.hashtag, wanted))
    try:
        return account_warnings(named, lambda network: bot.platform(network).account())
    except PlatformError as error:  # the network is down: posting will retry, don't block it
        return [f"note: could not check the bot's account ({error})"]


def _networks_of(session: Any, event_ids: list[int]) -> set[str]:
    from chatbot.models import Event

    found: set[str] = set()
    for event_id in event_ids:
        event = session.get(Event, event_id)
        if event is not None:
            found.update(event.networks)
    return found


def _echo(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


def _echo_err(line: str) -> None:
    click.echo(line, err=True)


def _quiet_logs() -> None:
    from chatbot.platforms.credentials import install_redaction

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # APScheduler warns on every tick a job is still busy posting: expected, not news.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    install_redaction()


def _stopping(bot: Any, say: Any) -> None:
    grace = bot.options.stop_grace
    say(f"Stopping: finishing the post in flight (at most {grace:g} s; "
        "Ctrl-C again to quit at once)...")  # fmt: skip
    bot.stop(promptly=True)


__all__ = ["run_command"]
