"""WebSocket stream messages, parsed without trusting them."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from chatbot.collect.wsstream import parse_message

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


def test_updates_edits_and_deletes() -> None:
    status = {"id": "01J0", "uri": "https://x/statuses/01J0", "content": "<p>A1 hi</p>"}
    update = {"stream": ["hashtag", "chat"], "event": "update", "payload": json.dumps(status)}
    assert parse_message(json.dumps(update)) == ("update", status)
    edited = update | {"event": "status.update"}
    assert parse_message(json.dumps(edited)) == ("update", status)
    gone = {"stream": ["hashtag", "chat"], "event": "delete", "payload": "01J0"}
    assert parse_message(json.dumps(gone)) == ("delete", "01J0")


def test_anything_else_is_skipped() -> None:
    for text in ["", "not json", "[]", '{"event": "update", "payload": "{"}',
                 '{"event": "update", "payload": "{\\"id\\": \\"1\\"}"}',
                 '{"event": "notification", "payload": "{}"}']:  # fmt: skip
        assert parse_message(text) is None


@given(json_values)
def test_no_message_makes_it_fail(value: object) -> None:
    parsed = parse_message(json.dumps(value))
    assert parsed is None or parsed[0] in ("update", "delete")


@given(st.text() | st.binary())
def test_no_text_makes_it_fail(text: str | bytes) -> None:
    parse_message(text)
