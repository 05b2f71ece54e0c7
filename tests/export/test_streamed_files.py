"""The transcript files are written in pieces as they are rendered: the pieces join to the whole."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from chatbot.export import to_markdown
from chatbot.export.markdown import _markdown_lines, escape, iter_markdown
from chatbot.export.tabular import iter_csv, iter_json, iter_jsonl, safe_cell
from tests.export.test_exports import _one_answer_document


@given(st.lists(st.text(alphabet=" a\n\t.*", max_size=6), min_size=1, max_size=4))
def test_the_files_are_written_in_pieces_that_join_to_the_whole_rendering(
    texts: list[str],
) -> None:
    # Trailing blanks at the very end are dropped as the whole rendering drops them.
    doc = _one_answer_document("UTC", *["2030-12-03T17:03:00Z"] * len(texts))
    for entry, text in zip(doc["posts"], texts, strict=True):
        entry.update(text=text, id="1", method="prefix", questions=["Q1"], confidence=1.0)
        entry.update(network="bluesky", parent_uri=None, depth=0)
        entry.update(flags={"spam": False, "hidden": False, "edited": False})
    lines = list(_markdown_lines(doc))
    assert "".join(iter_markdown(doc)) == "\n".join(lines).rstrip() + "\n"
    assert to_markdown(doc).endswith(":\n") == (escape(texts[-1]).strip() == "")
    assert "".join(iter_json(doc)) == json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    assert "".join(iter_jsonl(doc)).count("\n") == 2 + len(texts)
    rows = list(csv.reader(io.StringIO("".join(iter_csv(doc)))))
    assert [row[17] for row in rows[1:]] == [safe_cell(text) for text in texts]
