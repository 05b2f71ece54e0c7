"""Does the account the bot logs in as match the one a question file names? (pure)

A question file may say which account posts the chat (``accounts:``); the
credentials say which account the bot really logs in as. A moderator with
several accounts can mix them up, so ``chatbot run`` warns before posting.
It warns rather than refuses: a chat that does not go out at its time is
worse than one posted from the other account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from chatbot.platforms.base import Identity


def _bare(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def account_mismatch(network: str, expected: str, identity: Identity) -> str | None:
    """Why ``identity`` is not the account ``expected`` on ``network``; None if it is.

    Bluesky: the handle (or DID). Mastodon: the username; the domain of
    ``@user@domain`` is not compared, as an instance's account domain and web
    domain may differ.
    """
    wanted = _bare(expected)
    if network == "mastodon":
        wanted_user = wanted.split("@")[0]
        actual_user = _bare(identity.handle).split("@")[0]
        if wanted_user == actual_user:
            return None
    elif wanted in (_bare(identity.handle), identity.id.lower()):
        return None
    return (
        f"the question file names @{expected.strip().lstrip('@')} as the {network} account, "
        f"but the {network} credentials log in as @{identity.handle}; posting as "
        f"@{identity.handle} (fix accounts.{network} in the file, or the credentials)"
    )


def account_warnings(
    accounts_by_event: Iterable[tuple[str, Mapping[str, str]]],
    identity_of: Callable[[str], Identity],
) -> list[str]:
    """One warning per event and network whose named account is not the one logged in.

    ``accounts_by_event`` holds (hashtag, accounts) pairs; ``identity_of``
    gives the logged-in account of a network (asked once per network).
    """
    known: dict[str, Identity] = {}
    found = []
    for hashtag, accounts in accounts_by_event:
        for network, expected in sorted(accounts.items()):
            if network not in known:
                known[network] = identity_of(network)
            why = account_mismatch(network, expected, known[network])
            if why is not None:
                found.append(f"warning: #{hashtag}: {why}")
    return found


__all__ = ["account_mismatch", "account_warnings"]
