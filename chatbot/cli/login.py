"""``chatbot login``: get, store and check the bot's credentials on each network.

Secrets are only ever typed at a prompt (never a command-line argument,
which other users see in ``ps`` and the shell keeps in its history) and
never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from chatbot.cli.group import cli
from chatbot.cli.jsonout import JSON_META, emit, json_option
from chatbot.cli.options import FiniteFloatRange
from chatbot.errors import AuthError, UsageError

TIMEOUT_HELP = "Seconds to wait for each answer from the server."


@cli.group(
    "login",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--check",
    is_flag=True,
    help="Check every configured credential instead of logging in: account, "
    "instance or PDS, scopes, rate-limit state, and which variables and file were read.",
)
@click.option("--timeout", type=FiniteFloatRange(1, 300), default=30.0, help=TIMEOUT_HELP)
@json_option
@click.pass_context
def login_group(ctx: click.Context, check: bool, timeout: float, as_json: bool) -> None:
    """Log the bot in to a network, or check its credentials (--check).

    `chatbot login mastodon` and `chatbot login bluesky` verify what you give
    them and write it to the private credentials file the bot reads
    ($CHATBOT_CONFIG, else ~/.config/chatbot/credentials.toml; mode 600,
    other tables kept). Environment variables (CHATBOT_MASTODON_*,
    CHATBOT_BLUESKY_*) still win over the file. --check exits 0 when every
    credential works, 2 when one is refused, 1 when a network can't answer.

    \b
    Examples:
        chatbot login mastodon --instance https://mastodon.social
        chatbot login bluesky --handle sm35bot.bsky.social
        chatbot login --check
    """
    if ctx.invoked_subcommand is not None:
        if check:
            raise UsageError(
                f"--check checks every network: use it without {ctx.invoked_subcommand}"
            )
        return
    if not check:
        if as_json:
            raise UsageError("give --check, or the network to log in to: mastodon or bluesky")
        click.echo(ctx.get_help())
        ctx.exit(2)
    from chatbot.platforms.logins import check_all

    report = check_all(timeout=timeout, progress=lambda line: click.echo(line, err=True))
    if as_json:
        emit(report.as_dict())
    else:
        click.echo(report.render())
    ctx.exit(report.exit_code)


@login_group.command("mastodon")
@click.option(
    "--instance",
    required=True,
    metavar="URL",
    help="The bot account's server, e.g. https://mastodon.social (Mastodon or GoToSocial).",
)
@click.option("--timeout", type=FiniteFloatRange(1, 300), default=30.0, help=TIMEOUT_HELP)
@json_option
def login_mastodon(instance: str, timeout: float, as_json: bool) -> None:
    """Get an access token for the bot's Mastodon account and store it.

    Registers an app on the instance with only the scopes the bot needs
    (read:statuses, write:statuses, and profile, or read:accounts on servers
    without it; read:search and read:notifications where the server offers
    them), prints the address where you approve it while signed in as the
    bot's account, asks for the code that page shows, exchanges it for a
    token, checks it, and writes the instance and token to the credentials
    file. Nothing is written unless every step worked.

    \b
    Example:
        chatbot login mastodon --instance https://mastodon.social
    """
    from chatbot.platforms.credentials import default_config_path
    from chatbot.platforms.credfile import existing_table
    from chatbot.platforms.login_mastodon import (
        check_token,
        finish_authorisation,
        instance_url,
        start_authorisation,
    )
    from chatbot.platforms.logins import overriding, save_mastodon, terminal_safe

    as_json = as_json or _json_given()
    say = _say(as_json)
    base = instance_url(instance)
    path = default_config_path()
    existing_table(path, "mastodon")  # an unsafe or broken file: say so before the browser
    say(f"Registering the app on {base}...")
    with _refusal_is_usage():
        pending = start_authorisation(base, timeout=timeout)
    if pending.version:
        say(terminal_safe(f"The server says it runs version {pending.version}."))
    say(
        f"Scopes asked for: {' '.join(pending.scopes)}\n"
        "Open this address in a browser, signed in as the bot's account, and approve:\n\n"
        f"  {pending.url}\n"
    )
    code = click.prompt("Paste the code the page shows", prompt_suffix=": ", err=True)
    with _refusal_is_usage():
        token = finish_authorisation(pending, code, timeout=timeout)
        account = check_token(base, token, timeout=timeout)
    written = save_mastodon(path, base, token)
    scopes = " ".join(account.scopes) if account.scopes else "(not reported)"
    say(terminal_safe(f"Logged in as @{account.acct} on {base}; token scopes: {scopes}."))
    say(f"Saved to {written} (readable by you only).")
    _note_overrides(overriding("mastodon"))
    if as_json:
        emit(
            {
                "network": "mastodon",
                "account": account.acct,
                "server": base,
                "scopes": list(account.scopes or []),
                "saved_to": str(written),
                "overridden_by": overriding("mastodon"),
            }
        )


@login_group.command("bluesky")
@click.option(
    "--handle", metavar="HANDLE", help="The bot's handle, e.g. sm35bot.bsky.social (else asked)."
)
@click.option(
    "--pds",
    metavar="URL",
    default="https://bsky.social",
    show_default=True,
    help="The account's PDS (a self-hosted server or the sandbox).",
)
@click.option("--timeout", type=FiniteFloatRange(1, 300), default=30.0, help=TIMEOUT_HELP)
@json_option
def login_bluesky(handle: str | None, pds: str, timeout: float, as_json: bool) -> None:
    """Check a Bluesky handle and app password, and store them.

    Asks for the app password without echoing it (make one in the Bluesky
    app: Settings → Privacy and security → App passwords), logs in once
    with it (createSession) to check it, and writes handle, password and PDS
    to the credentials file. Warns when the password does not look like an
    app password (xxxx-xxxx-xxxx-xxxx): the account's main password can
    change its settings and can't be revoked on its own.

    \b
    Example:
        chatbot login bluesky --handle sm35bot.bsky.social
    """
    from chatbot.platforms.credentials import Secret, default_config_path
    from chatbot.platforms.credfile import existing_table
    from chatbot.platforms.login_bluesky import (
        check_password,
        clean_handle,
        looks_like_app_password,
        pds_url,
    )
    from chatbot.platforms.logins import overriding, save_bluesky, terminal_safe

    as_json = as_json or _json_given()
    say = _say(as_json)
    service = pds_url(pds)
    path = default_config_path()
    existing_table(path, "bluesky")  # an unsafe or broken file: say so before any prompt
    who = clean_handle(handle or click.prompt("Handle", err=True))
    password = Secret(click.prompt("App password", hide_input=True, err=True).strip())
    if not password:
        raise UsageError("no password given: paste the app password at the prompt")
    if not looks_like_app_password(password.reveal()):
        click.echo(
            "warning: that does not look like an app password (xxxx-xxxx-xxxx-xxxx); "
            "a bot should not use the account's main password",
            err=True,
        )
    say(f"Checking @{who} on {service}...")
    with _refusal_is_usage():
        account = check_password(who, password, service, timeout=timeout)
    written = save_bluesky(path, account.handle, password, service)
    say(terminal_safe(f"Logged in as @{account.handle} ({account.did}) on {service}."))
    say(f"Saved to {written} (readable by you only).")
    _note_overrides(overriding("bluesky"))
    if as_json:
        emit(
            {
                "network": "bluesky",
                "account": account.handle,
                "did": account.did,
                "server": service,
                "saved_to": str(written),
                "overridden_by": overriding("bluesky"),
            }
        )


def _json_given() -> bool:
    """``chatbot login --json mastodon`` means the same as ``chatbot login mastodon --json``."""
    return bool(click.get_current_context().meta.get(JSON_META))


def _say(as_json: bool) -> Callable[[str], None]:
    """The steps: on stdout, or on stderr when stdout carries the JSON document."""
    return lambda line: click.echo(line, err=as_json)


@contextmanager
def _refusal_is_usage() -> Iterator[None]:
    """Credentials the network refuses are the user's to fix: exit code 2, like bad input."""
    try:
        yield
    except AuthError as error:
        raise UsageError(str(error)) from None


def _note_overrides(names: list[str]) -> None:
    if names:
        click.echo(
            f"note: {', '.join(names)} set in the environment win over the file; "
            "unset them to use what was saved.",
            err=True,
        )
    sys.stdout.flush()


__all__ = ["login_group"]
