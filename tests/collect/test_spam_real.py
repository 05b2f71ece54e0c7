"""Spam on real archived chats: what is clearly spam there is flagged, the hosts never are."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session

from chatbot.imports import import_file
from chatbot.models import Post
from tests.collect.test_import import docnow_csv

MORE_LINK = re.compile(r"^#DocNowCommunity\s+MORE >> https://t\.co/\w+$")


def spam_of(engine: Engine) -> dict[str, str | None]:
    with Session(engine) as session:
        rows = session.execute(select(Post)).scalars()
        return {f"{row.author_handle}: {row.text}": row.spam_reason for row in rows}


def test_docnow_the_same_link_post_from_three_accounts_is_spam(
    engine: Engine, tmp_path: Path
) -> None:
    import_file(
        engine, docnow_csv(tmp_path / "d.csv"), hashtag="DocNowCommunity", host="documentnow"
    )
    posts = spam_of(engine)
    wave = {key: reason for key, reason in posts.items() if MORE_LINK.match(key.partition(": ")[2])}
    assert {key.partition(":")[0] for key in wave} == {
        "NirtonBradley",
        "FlerDavid",
        "EricaFl07017336",
    }
    assert all(wave.values()), wave
    assert not any(reason for key, reason in posts.items() if key.startswith("documentnow:"))


def test_pstweetchat_a_content_copier_of_the_hosts_tweet_is_spam() -> None:
    """Two real #PSTweetChat tweets of 2022-04-01 (pstweetchat.csv in the shared fixtures).

    @CloudDoor1 posted @JeffHicks's words four minutes later with its own tag.
    """
    from datetime import UTC, datetime

    from chatbot.collect.spam import SpamInput, classify

    words = (
        "I finally got in on the Github Copilot program. It was slow at first but now it "
        "absolutely helps me write code faster. #PSTweetChat"
    )
    jeff = SpamInput(
        "t/1509940051580444680", "twitter:JeffHicks", "JeffHicks",
        datetime(2022, 4, 1, 13, 5, 36, tzinfo=UTC), words, moderator=True,
    )  # fmt: skip
    copier = SpamInput(
        "t/1509941073963008001", "twitter:CloudDoor1", "CloudDoor1",
        datetime(2022, 4, 1, 13, 9, 40, tzinfo=UTC), "#clouddoor " + words,
    )  # fmt: skip
    assert classify([jeff, copier], "PSTweetChat") == {
        copier.uri: "same text from 2 accounts (first by @JeffHicks at 2022-04-01 13:05 UTC)"
    }
