"""The archive page in headless Chromium: every figure on a phone, light and dark, axe-core clean.

The recap's pages are checked in test_browser.py; the archive is the other
page an organizer publishes (Debian's chromium through Playwright, skipped
when missing except in CI).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chatbot.recap.archive import ArchiveEvent, render_archive

from .test_browser import AXE_RUN, PHONE_CHECK, Visit, _axe_source, browser  # noqa: F401

START = datetime(2027, 12, 7, 17, 0, tzinfo=UTC)


def _archive(folder: Path) -> Path:
    """Three series, one of them weekly for a year, with long titles and recaps to link."""
    events: list[ArchiveEvent] = []
    people = [f"bluesky:person{n}.bsky.social" for n in range(400)]
    for week in range(52):
        events.append(
            ArchiveEvent(
                id=week + 1, hashtag="sm35", start=START - timedelta(weeks=week),
                title=f"Week {52 - week}: conversations, not campaigns, and what comes after",
                timezone="America/New_York", state="finished", posts=120 + 7 * (week % 9),
                people=frozenset(people[week * 5 : week * 5 + 40]),
                recap=f"sm35-{week}/index.html" if week % 3 else None,
            )
        )  # fmt: skip
    for n, tag in enumerate(("DocNowChat", "PSTweetChat")):
        events.append(
            ArchiveEvent(
                id=100 + n, hashtag=tag, title="", start=START + timedelta(days=n + 1),
                timezone="Europe/Berlin", state="scheduled", posts=0, people=frozenset(),
            )
        )  # fmt: skip
    path = folder / "index.html"
    path.write_text(render_archive(events, generated_at=START), encoding="utf-8")
    return path


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_archive_fits_a_phone_and_passes_axe(browser: Any, tmp_path: Path, scheme: str) -> None:  # noqa: F811
    source = _axe_source()
    visit = Visit(browser, _archive(tmp_path))
    page = visit.page
    for width in (1100, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(50)
        assert page.evaluate(PHONE_CHECK) == [], width
    rows = page.evaluate("document.querySelectorAll('tbody tr').length")
    assert rows == 54
    page.evaluate(source + "\n;0")  # through the debugger: the page's policy forbids scripts
    serious = [v for v in page.evaluate(AXE_RUN) if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert visit.errors == []
    page.close()
