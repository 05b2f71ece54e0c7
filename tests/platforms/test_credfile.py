"""Writing one table of the private credentials file: the rest kept, the file private."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.errors import ConfigError
from chatbot.platforms.credfile import set_table, toml_string, write_table

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=12)
values = st.text(max_size=40)
tables = st.dictionaries(names, values, max_size=4)

DOCUMENT = """# Credentials of the bot
[bluesky]
handle = "bot.bsky.social"   # the bot
password = "abcd-efgh-ijkl-mnop"
# web = "https://bsky.app"

# the Mastodon account
[mastodon]
url = "https://old.example"
token = "old-token"
"""


@given(st.text(max_size=60))
def test_toml_strings_read_back_as_written(text: str):
    assert tomllib.loads(f"key = {toml_string(text)}")["key"] == text


@given(tables, tables, tables, names)
def test_one_table_is_replaced_and_the_others_kept(
    first: dict[str, str], second: dict[str, str], new: dict[str, str], name: str
):
    text = set_table(set_table("", "first", first), "second", second)
    result = tomllib.loads(set_table(text, name, new))
    expected = {"first": first, "second": second} | {name: new}
    assert result == expected


def test_comments_and_layout_of_other_tables_stay():
    result = set_table(DOCUMENT, "mastodon", {"url": "https://new.example", "token": "t"})
    assert result.startswith(DOCUMENT.split("[mastodon]")[0])
    assert tomllib.loads(result)["mastodon"] == {"url": "https://new.example", "token": "t"}
    again = set_table(DOCUMENT, "bluesky", {"handle": "h", "password": "p"})
    assert again.endswith(DOCUMENT.split("# the Mastodon account")[1])
    assert '# web = "https://bsky.app"' in again and "# Credentials of the bot" in again


def test_dotted_layouts_are_written_anew():
    result = set_table(
        'mastodon.url = "https://a"\nmastodon.token = "b"\n', "mastodon", {"url": "x"}
    )
    assert tomllib.loads(result) == {"mastodon": {"url": "x"}}


def test_a_new_file_is_private_and_its_directory_too(tmp_path: Path):
    path = tmp_path / "config" / "chatbot" / "credentials.toml"
    old_umask = os.umask(0)  # even with a careless umask
    try:
        write_table(path, "mastodon", {"url": "https://a.example", "token": "secret-token"})
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["credentials.toml"]  # no temp file left


def test_a_symlinked_file_is_written_through_the_link(tmp_path: Path):
    real = tmp_path / "real.toml"
    real.write_text(DOCUMENT)
    real.chmod(0o600)
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    write_table(link, "mastodon", {"url": "https://b.example", "token": "t"})
    assert link.is_symlink()
    assert tomllib.loads(real.read_text())["mastodon"]["url"] == "https://b.example"


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [(DOCUMENT, 0o644, "chmod 600"), ("[mastodon\n", 0o600, "not valid TOML")],
)
def test_unsafe_or_broken_files_are_refused_and_left_alone(
    tmp_path: Path, content: str, mode: int, message: str
):
    path = tmp_path / "credentials.toml"
    path.write_text(content)
    path.chmod(mode)
    with pytest.raises(ConfigError, match=message):
        write_table(path, "mastodon", {"url": "https://c.example", "token": "t"})
    assert path.read_text() == content and stat.S_IMODE(path.stat().st_mode) == mode
