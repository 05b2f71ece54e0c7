"""Commands for the local sandbox networks: serve them, preview a simulated crowd."""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from chatbot.cli.group import CONTEXT_SETTINGS, cli
from chatbot.cli.jsonout import emit, json_option
from chatbot.cli.options import FiniteFloatRange, fediverse_options
from chatbot.cli.stdio import (
    STDIN_NAME,
    is_dash,
    not_dash,
    read_stdin,
    stdout_taken,
    write_stdout,
)
from chatbot.cli.stopping import leave
from chatbot.errors import UsageError

if TYPE_CHECKING:
    from chatbot.sandbox.crowd import ChatSchedule

LEAD = timedelta(minutes=1)  # with --questions, the clock starts this long before the chat
TRUTH_EVERY = 5.0  # real seconds between writes of --truth while the crowd runs


@cli.group(context_settings=CONTEXT_SETTINGS)
def sandbox() -> None:
    """Local stand-ins for Bluesky and Mastodon, with a simulated crowd.

    The servers listen on 127.0.0.1 only and speak enough of each network's
    API for the unmodified atproto and Mastodon.py clients. Nothing leaves
    this machine; every account and credential is a throwaway.

    Example:

        chatbot sandbox serve --seed 1 --speed 60
    """


def _schedule(path: str) -> ChatSchedule:
    from chatbot.questionfile import load_plan
    from chatbot.sandbox.crowd import ChatSchedule

    if is_dash(path):
        return ChatSchedule.from_event_plan(
            load_plan(STDIN_NAME, allow_past=True, data=read_stdin())
        )
    return ChatSchedule.from_event_plan(load_plan(path, allow_past=True))


_questions = click.option(
    "--questions",
    "questions_file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
    help="A question file (- reads standard input): a simulated crowd answers that chat.",
)
_seed = click.option("--seed", type=int, default=0, show_default=True, help="Seed for everything.")
_participants = click.option(
    "--participants", type=click.IntRange(1, 2000), default=20, show_default=True,
    help="Crowd size: simulated people across both networks.",
)  # fmt: skip
_rate = click.option(
    "--posts-per-minute", type=FiniteFloatRange(0, 1000), default=4.0, show_default=True,
    help="How busy the crowd is (virtual minutes).",
)  # fmt: skip


@sandbox.command(context_settings=CONTEXT_SETTINGS)
@_seed
@click.option(
    "--faults", type=FiniteFloatRange(0, 1), default=0.0, show_default=True,
    help="Share of requests that fail (429, 5xx, slow, dropped), 0..1.",
)  # fmt: skip
@click.option(
    "--speed", type=FiniteFloatRange(min=0, min_open=True), default=1.0, show_default=True,
    help="Virtual seconds per real second (60: an hour-long chat in a minute).",
)  # fmt: skip
@click.option(
    "--bluesky-port", type=click.IntRange(0, 65535), default=0, help="Default: any free port."
)
@click.option(
    "--mastodon-port", type=click.IntRange(0, 65535), default=0, help="Default: any free port."
)
@fediverse_options(instances=1)
@_questions
@_participants
@_rate
@click.option(
    "--env-file", type=click.Path(path_type=Path), metavar="PATH",
    help="Also write the bot's variables for this sandbox here (mode 0600: the throwaway "
    "password and token), for a second terminal to read with '. PATH'; - writes them on "
    "stdout instead of the JSON line (which then goes to stderr).",
)  # fmt: skip
@click.option(
    "--truth", "truth_path", type=click.Path(dir_okay=False, writable=True),
    help="With --questions: write the crowd's ground truth (JSON) here, every few seconds "
    "while it runs and once more on exit.",
)  # fmt: skip
@json_option
def serve(
    seed: int,
    faults: float,
    speed: float,
    bluesky_port: int,
    mastodon_port: int,
    mastodon_instances: int,
    mastodon_profile: str,
    federation_delay: float,
    federation_loss: float,
    questions_file: str | None,
    participants: int,
    posts_per_minute: float,
    env_file: Path | None,
    truth_path: str | None,
    as_json: bool,
) -> None:
    """Run sandbox Bluesky and Mastodon servers until Ctrl-C.

    When ready, prints one JSON line on stdout (--json or not) with each
    server's URL and the bot's sandbox-only credentials (a throwaway handle
    and password, a throwaway Mastodon token on the first Mastodon
    instance), and every Mastodon instance's base URL, domain and profile:

    \b
        {"bluesky": {"url": ..., "web": ..., "handle": ..., "password": ...},
         "mastodon": {"url": ..., "token": ...},
         "mastodon_instances": [{"url": ..., "domain": ..., "profile": ...}, ...]}

    With --mastodon-instances above 1 the instances federate: a status posted
    on one reaches the others' timelines as a remote copy, after up to
    --federation-delay sandbox seconds, or (--federation-loss) never.

    Point atproto's Client at BLUESKY_URL/xrpc and Mastodon.py at
    MASTODON_URL; set CHATBOT_BLUESKY_WEB to "web" so that the bot's links
    open the sandbox's own post pages. GET /_sandbox/clock on either server tells the (virtual)
    time. With --questions a seeded crowd answers that chat, and the clock
    starts a minute before the chat begins (to rehearse a chat, chatbot
    rehearse FILE does it all in one command). --env-file writes
    CHATBOT_CLOCK and the bot's CHATBOT_BLUESKY_* and CHATBOT_MASTODON_*
    variables for a second terminal. SIGINT or SIGTERM stops cleanly.

    \b
    Example:
        chatbot sandbox serve --seed 1 --speed 60 \\
            --questions questions/demo.md --truth truth.json
    """
    from chatbot.sandbox.mastodon.federation import FederationSettings
    from chatbot.sandbox.mastodon.profile import profiles_for
    from chatbot.sandbox.runner import Sandbox

    try:
        profiles = profiles_for(mastodon_instances, mastodon_profile)
    except ValueError as error:
        raise UsageError(f"--mastodon-profile: {error}") from None
    not_dash("--truth", truth_path, "a file (rewritten while the crowd runs)")
    if truth_path and not questions_file:
        raise UsageError("--truth needs --questions: only a crowd has a ground truth")
    to_stdout = is_dash(env_file)
    if to_stdout:
        stdout_taken("--env-file", as_json)
    elif env_file is not None:
        from chatbot.demo import check_env_file

        check_env_file(env_file)
    schedule = _schedule(questions_file) if questions_file else None
    box = Sandbox(
        seed=seed,
        speed=speed,
        virtual_start=schedule.start - LEAD if schedule else None,
        faults=faults,
        bluesky_port=bluesky_port,
        mastodon_port=mastodon_port,
        mastodon_profile=profiles,
        mastodon_instances=mastodon_instances,
        federation=FederationSettings(delay=federation_delay, loss=federation_loss, seed=seed),
    )
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            box.start()
        except OSError as error:
            raise UsageError(
                f"cannot start the sandbox: {error}; choose another port or 0"
            ) from None
        driver = None
        if schedule is not None:
            from chatbot.sandbox.crowd import CrowdConfig

            config = CrowdConfig(
                seed=seed, participants=participants, posts_per_minute=posts_per_minute
            )
            driver = box.run_crowd(schedule, config)
        ready: dict[str, object] = dict(box.credentials())
        ready["mastodon_instances"] = box.mastodon_instances()
        if env_file is not None:
            from chatbot.demo import env_text, sandbox_env, write_env_file

            if to_stdout:
                write_stdout(env_text(sandbox_env(box)))
            else:
                write_env_file(env_file, sandbox_env(box))
        click.echo(json.dumps(ready), err=to_stdout)
        sys.stdout.flush()
        if len(box.mastodon_servers) > 1:
            click.echo(box.mastodon_summary(), err=True)
        if env_file is not None and not to_stdout:
            click.echo(f"Second terminal: . {shlex.quote(str(env_file))} (mode 0600)", err=True)
        click.echo("Sandbox running; press Ctrl-C to stop.", err=True)
        written = time.monotonic()
        while not stop.wait(0.2):
            if driver is not None and truth_path and time.monotonic() - written >= TRUTH_EVERY:
                driver.write_truth(truth_path)  # so far: a kill -9 still leaves it
                written = time.monotonic()
        if driver is not None and truth_path:
            driver.stop()
            click.echo(f"Ground truth: {driver.write_truth(truth_path)}", err=True)
    finally:
        box.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # Everything is stopped and written: leave without the interpreter's wait for the
    # servers' worker threads, which took up to 2 s after a signal.
    leave(0, promptly=stop.is_set())


@sandbox.command(context_settings=CONTEXT_SETTINGS)
@click.argument(
    "questions_file",
    metavar="QUESTIONS",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
)
@_seed
@_participants
@_rate
@click.option(
    "--mastodon-instances", type=click.IntRange(1, 20), default=1, show_default=True,
    help="Spread the Mastodon people over this many instances (some then post unlisted).",
)  # fmt: skip
@json_option
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Write the JSON plan here (- : on stdout, the summary then on stderr).",
)
def crowd(
    questions_file: str,
    seed: int,
    participants: int,
    posts_per_minute: float,
    mastodon_instances: int,
    as_json: bool,
    output: str | None,
) -> None:
    """Preview what a simulated crowd would do in a chat, without running it.

    Prints a summary: participants per network, opt-outs, posts by kind and
    by answer prefix, the deepest thread; with --mastodon-instances, how the
    Mastodon people spread over the instances (#0 is the bot's). --json
    prints every planned action with its virtual time. The same seed always
    gives the same crowd.

    Example:

        chatbot sandbox crowd questions/demo.md --seed 3 --participants 40
    """
    from chatbot.sandbox.crowd import CrowdConfig, plan_crowd

    schedule = _schedule(questions_file)
    config = CrowdConfig(
        seed=seed,
        participants=participants,
        posts_per_minute=posts_per_minute,
        mastodon_instances=mastodon_instances,
    )
    plan = plan_crowd(config, schedule)
    to_stdout = is_dash(output)
    if to_stdout:
        stdout_taken("--output", as_json)
    if output:
        text = json.dumps(plan.to_dict(), ensure_ascii=False, indent=1) + "\n"
        if to_stdout:
            write_stdout(text)
        else:
            Path(output).write_text(text, encoding="utf-8")
    if as_json:
        emit(plan.to_dict(), indent=None)
        return
    people = [p for p in plan.participants if not p.spammer]
    networks = Counter(p.network for p in people)
    kinds = Counter(a.kind or a.op for a in plan.actions)
    prefixes = Counter(a.prefix for a in plan.actions if a.kind == "answer")
    opt_outs = Counter(p.opt_out for p in people if p.opt_out)
    lines = [
        f"#{schedule.hashtag}: {len(people)} participants "
        + ", ".join(f"{n} on {net}" for net, n in sorted(networks.items()))
        + f", {len(plan.participants) - len(people)} spam accounts",
        f"actions: {len(plan.actions)} (" + _counts(kinds) + ")",
        f"answer prefixes: {_counts(prefixes)}",
        f"opt-outs: {_counts(opt_outs) or 'none'}",
        f"deepest thread: {max(plan.depth().values(), default=0)} replies",
        f"hostile posts: {sum(a.hostile for a in plan.actions)}",
    ]
    if mastodon_instances > 1:
        on_mastodon = [p for p in people if p.network == "mastodon"]
        spread = Counter(p.instance for p in on_mastodon)
        quiet = sum(p.posts_unlisted for p in on_mastodon)
        lines.append(
            "mastodon instances: "
            + ", ".join(f"#{n} {spread[n]} people" for n in range(mastodon_instances))
            + f"; {quiet} posting unlisted"
        )
    click.echo("\n".join(lines), err=to_stdout)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items(), key=lambda kv: -kv[1]))


__all__ = ["crowd", "sandbox", "serve"]
