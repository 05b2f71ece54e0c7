"""The ``chatbot collect`` command: collect an event's posts now (live, or a backfill)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import emit
from chatbot.cli.options import (
    clock_option,
    database_url_option,
    json_option,
    live_option,
    make_clock,
)
from chatbot.cli.progress import on_terminal
from chatbot.cli.stopping import StopRequested, leave, stop_signals
from chatbot.errors import UsageError


def _when(text: str | None, name: str) -> datetime | None:
    from chatbot.platforms.normalise import parse_time

    if text is None:
        return None
    moment = parse_time(text)
    if moment is None:
        raise UsageError(f"{name} {text!r} is not a time; use ISO 8601, e.g. 2027-12-07T17:00Z")
    return moment


class _Progress:
    """A bar over the collection window on a terminal (stderr); piped, a line per pass."""

    def __init__(self, label: str, start: datetime, end: datetime, quiet: bool):
        self.start, self.end, self.quiet = start, end, quiet
        self.counts: dict[str, int] = {}
        self.bar: Any = None
        self.tty = on_terminal() and not quiet
        if self.tty:
            length = max(int((end - start).total_seconds()), 1)
            self.bar = click.progressbar(
                length=length, label=label, file=sys.stderr, show_pos=False, show_eta=False,
                item_show_func=lambda _: ", ".join(f"{n} {c}" for n, c in self.counts.items()),
            )  # fmt: skip
            self.bar.__enter__()

    def page(self, network: str, posts: int) -> None:
        self.counts[network] = self.counts.get(network, 0) + posts
        if self.bar is not None:
            self.bar.update(0, network)

    def at(self, now: datetime) -> None:
        if self.bar is not None:
            done = (min(max(now, self.start), self.end) - self.start).total_seconds()
            self.bar.update(int(done) - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.at(self.end)
            self.bar.__exit__(None, None, None)


@cli.command("collect")
@click.argument("event")
@click.option("--since", metavar="TIME", help="Collect from this time (default: the window).")
@click.option("--until", metavar="TIME", help="Collect up to this time (default: the window).")
@click.option(
    "--network", "networks", multiple=True, type=click.Choice(["bluesky", "mastodon"]),
    help="Only this network (repeatable; default: the event's networks).",
)  # fmt: skip
@click.option("--once", is_flag=True, help="One complete pass, then stop.")
@click.option(
    "--refresh-counts", is_flag=True,
    help="Instead of collecting: read every stored post again for its likes, reposts, "
    "quotes and replies (once, after the chat).",
)  # fmt: skip
@click.option(
    "--stream/--no-stream", default=True, show_default=True,
    help="Also follow Mastodon's hashtag stream between polls (polling stays the fallback).",
)  # fmt: skip
@live_option
@clock_option
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@database_url_option
@json_option
def collect_command(
    event: str,
    since: str | None,
    until: str | None,
    networks: tuple[str, ...],
    once: bool,
    refresh_counts: bool,
    stream: bool,
    live: str | None,
    clock: str,
    quiet: bool,
    database_url: str,
    as_json: bool,
) -> None:
    """Collect EVENT's posts: the hashtag, question threads, replies, edits, deletions.

    EVENT is an event id, a hashtag (its chat running now, else its most
    recent, else its next) or TAG@YYYY-MM-DD (its chat starting that day).
    It runs until the collection window is over and checked (at once for a
    past chat: a backfill), resuming from stored cursors; stop it any time
    and run it again. Credentials come from the environment or the
    credentials file. It ends with the coverage report: where each post
    was found, what each source cost, and what cannot be seen.

    With --refresh-counts it collects nothing new: it reads the likes,
    reposts, quotes and replies of every post already stored (25 a request
    on Bluesky, 40 on Mastodon 4.3+), within the request budgets, waiting
    for them when spent; a Mastodon post made on another server is read
    there, where all its likes arrive. Run it once after the chat, before
    the recap.

    Example:

        chatbot collect sm35 --since 2027-12-07T16:45Z

        chatbot collect sm35 --refresh-counts
    """
    with stop_signals("Stopped at once; pages stored so far are kept.") as signals:
        try:
            _collect(event, since, until, networks, once, refresh_counts, stream, live, clock,
                     quiet, database_url, as_json)  # fmt: skip
        except StopRequested:
            click.echo("Stopped; what was stored so far is kept: run again to go on.", err=True)
    leave(0, promptly=signals.requested)


def _collect(
    event: str,
    since: str | None,
    until: str | None,
    networks: tuple[str, ...],
    once: bool,
    refresh_counts: bool,
    stream: bool,
    live: str | None,
    clock: str,
    quiet: bool,
    database_url: str,
    as_json: bool,
) -> None:
    from chatbot.bot.controls import set_options
    from chatbot.collect import Collector, CollectReport, Pacer
    from chatbot.collect.coverage import event_coverage
    from chatbot.config import resolve_settings
    from chatbot.db import open_store, session_scope
    from chatbot.eventref import resolve_event
    from chatbot.platforms import connect
    from chatbot.platforms.credentials import load_credentials

    settings = resolve_settings()

    low, high = _when(since, "--since"), _when(until, "--until")
    if refresh_counts and (low or high or once):
        raise UsageError(
            "--refresh-counts reads the counts of every stored post: leave out "
            "--since, --until and --once"
        )
    if low and high and low >= high:
        raise UsageError("--since must be before --until")
    the_clock = make_clock(clock)
    reports: list[CollectReport] = []
    interrupted = False
    with open_store(database_url) as engine:
        with session_scope(engine) as session:
            found = resolve_event(session, event, purpose="record", now=the_clock.now())
            event_id, hashtag = found.id, found.hashtag
            chosen = [n for n in found.networks if not networks or n in networks]
            start, end = low or found.collect_from, high or found.collect_until
        if not chosen:
            raise UsageError(
                f"#{hashtag} has no network to collect from (its networks: none chosen)"
            )
        if live is not None and event_id is not None:
            set_options(engine, [event_id], live=live)  # kept for the event, as run's --live
        credentials = load_credentials()
        platforms = [
            connect(n, credentials, clock=the_clock.now, **_session_option(n)) for n in chosen
        ]
        if refresh_counts:
            peers = int(settings["mastodon_servers"]) > 0  # other servers may be read
            _refresh(engine, event_id or 0, hashtag, platforms, the_clock, quiet, as_json, peers)
            return
        progress = _Progress(f"#{hashtag}", start, end, quiet or as_json)
        collector = Collector(
            engine, event_id or 0, platforms, the_clock, since=low, until=high,
            on_page=progress.page, stream=stream and not once,
            pacer=Pacer(interval=float(settings["poll_interval_seconds"])),
            live=str(settings["bluesky_live"]), peers=int(settings["mastodon_servers"]),
        )  # fmt: skip

        def stepped(report: CollectReport) -> None:
            reports.append(report)
            progress.at(the_clock.now())
            if not quiet and not as_json and not progress.tty:
                click.echo(report.summary(), err=True)

        try:
            collector.run(
                max_steps=1 if once else None, sweep=True if once else None, on_step=stepped
            )
        except StopRequested:  # Ctrl-C or SIGTERM: what is stored is kept
            interrupted = True
        finally:
            progress.close()
        coverage = event_coverage(engine, event_id or 0)
    totals = {
        "event_id": event_id,
        "hashtag": hashtag,
        "steps": len(reports),
        "new": sum(r.new for r in reports),
        "updated": sum(r.updated for r in reports),
        "deleted": sum(r.deleted for r in reports),
        "errors": [e for r in reports for e in r.errors],
        "done": collector.done,
        "interrupted": interrupted,
        "finished_at": datetime.now(UTC).isoformat(),
        "coverage": coverage.as_dict(),
    }
    if as_json:
        emit(totals)
    else:
        state = "window closed and checked" if collector.done else "stopped; run again to resume"
        if interrupted:
            state = "interrupted; pages stored so far are kept; run again to resume"
        click.echo(
            f"#{hashtag}: {totals['new']} new, {totals['updated']} updated, "
            f"{totals['deleted']} deleted in {len(reports)} complete passes ({state})"
        )
        click.echo("\n".join(coverage.lines()))


def _refresh(
    engine: Any,
    event_id: int,
    hashtag: str,
    platforms: list[Any],
    clock: Any,
    quiet: bool,
    as_json: bool,
    peers: bool,
) -> None:
    from chatbot.collect.peers import anonymous_reader
    from chatbot.collect.refresh import refresh_counts

    if not quiet and not as_json:
        click.echo(f"#{hashtag}: reading the counts of every stored post", err=True)
    home_reader = anonymous_reader(clock.now) if peers else None
    reports = refresh_counts(
        engine, event_id, platforms, now=clock.now, sleep=clock.sleep, home_reader=home_reader
    )
    if as_json:
        found = {"event_id": event_id, "hashtag": hashtag}
        emit({**found, "refreshed": [r.as_dict() for r in reports]})
        return
    click.echo(f"#{hashtag}: counts refreshed")
    for report in reports:
        click.echo("  " + report.line())


def _session_option(network: str) -> dict[str, Any]:
    # Keep Bluesky's session across restarts: createSession is rate limited.
    return {"persist_session": True} if network == "bluesky" else {}


__all__ = ["collect_command"]
