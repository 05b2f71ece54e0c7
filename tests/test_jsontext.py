"""Compact JSON text: orjson's speed, and every value json could store still stored."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from chatbot.jsontext import dumps

# What json.loads can hand us from a network: any text (lone surrogates
# included), integers of any size, floats, nested lists and objects.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(VALUES)
def test_what_is_written_reads_back_the_same(value: object) -> None:
    assert json.loads(dumps(value)) == value


def test_the_text_is_compact_and_keeps_non_ascii_readable() -> None:
    assert dumps({"a": [1, "Zoë 🌱"]}) == '{"a":[1,"Zoë 🌱"]}'


def test_values_orjson_refuses_go_through_the_standard_library() -> None:
    big = 2**80
    assert dumps({"n": big}) == '{"n":' + str(big) + "}"
    assert json.loads(dumps({"t": "\ud800 lone"})) == {"t": "\ud800 lone"}
    assert dumps({1: "one"}) == '{"1":"one"}'
