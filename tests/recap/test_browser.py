"""The recap in headless Chromium: loads offline, no console errors, hostile payloads never run.

Uses Debian's chromium (``apt-get install chromium``) through Playwright,
never a browser download. Skipped when it is missing, except in CI
(``CI=true``), where a missing browser is a failure (``tests/missing.py``). Set
``CHATBOT_RECAP_SCREENSHOT=docs/recap-screenshot.png`` to refresh the
README's screenshot, ``CHATBOT_RECAP_SCREENSHOTS=docs`` for docs/recap.md's
phone and graph pictures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbot.recap import Coverage, RecapExtras, build_recap, write_recap
from chatbot.sandbox.crowd import HOSTILE_PAYLOADS
from tests.missing import skip_missing

from .chats import crowd_chat
from .engaged import with_engagement
from .hostile import hostile_document, sentinel

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Fire the events inline handlers listen for on every element of the posts.
PROVOKE = """() => {
  for (const el of document.querySelectorAll('main *')) {
    for (const type of ['mouseover', 'pointerenter', 'focus', 'toggle', 'animationstart']) {
      el.dispatchEvent(new Event(type, {bubbles: true}));
    }
  }
  for (const d of document.querySelectorAll('details')) { d.open = !d.open; d.open = !d.open; }
}"""
DOM_CHECK = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'IMG', 'LINK', 'BASE', 'FORM'].includes(el.tagName))
      bad.push(el.tagName);
    for (const attr of el.attributes)
      if (attr.name.startsWith('on')) bad.push(el.tagName + ' ' + attr.name);
  }
  for (const a of document.querySelectorAll('a[href]'))
    if (!['http:', 'https:', 'file:'].includes(a.protocol)) bad.push('href ' + a.href);
  return bad;
}"""


def _picture(page: Any, name: str, wanted: bool, element: Any = None) -> None:
    """Save a screenshot into $CHATBOT_RECAP_SCREENSHOTS when asked for one."""
    folder = os.environ.get("CHATBOT_RECAP_SCREENSHOTS")
    if folder and wanted:
        (element or page).screenshot(path=str(Path(folder) / name))


def _require_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = "chromium is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[test]')"
    if reason is not None:
        skip_missing(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1100, "height": 1400},
            offline=True,
        )
        yield context
        context.close()


class Visit:
    """A page load with every console message, error, dialog and request recorded."""

    def __init__(self, context: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("dialog", self._dialog)
        page.route("**/*", self._route)
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(200)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    def foreign_requests(self, folder: Path) -> list[str]:
        own = folder.as_uri()
        return [url for url in self.requests if not url.startswith(own)]


def _showcase() -> tuple[dict[str, Any], RecapExtras]:
    """A chat as it usually goes, with the database's extras: the README's screenshot."""
    chat = crowd_chat(seed=11, participants=30, hostile=0, coverage=False)
    with_engagement(chat.document, seed=11)  # the engagement section's tables, filled
    keys = sorted({f"{p['network']}:{p['author']['handle']}" for p in chat.document["posts"]})
    extras = RecapExtras(
        followers={key: 90 + 37 * (index % 23) for index, key in enumerate(keys)},
        previous=set(keys[::3]),
        earlier_chats=5,
        coverage=Coverage(
            deleted=2, opted_out=3, hidden=1, mastodon_instance="social.example",
            search_lag_seconds=14,
        ),
    )  # fmt: skip
    return chat.document, extras


def test_recap_loads_offline_without_errors(browser: Any, tmp_path: Path) -> None:
    document, extras = _showcase()
    index = write_recap(document, tmp_path, extras)
    visit = Visit(browser, index)
    assert visit.errors == []
    assert visit.foreign_requests(tmp_path) == []
    page = visit.page
    # The stylesheet applied, so its CSP hash is right.
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "960px"
    assert page.evaluate("document.querySelectorAll('details[open]').length") > 0
    shot = tmp_path / "recap.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    wanted = os.environ.get("CHATBOT_RECAP_SCREENSHOT")
    if wanted:
        shutil.copyfile(shot, wanted)
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == (
        "rgb(21, 23, 27)"
    )
    page.close()


@pytest.mark.parametrize("split_at", [100_000, 10])
def test_hostile_payloads_never_run(browser: Any, tmp_path: Path, split_at: int) -> None:
    payloads = tuple(sentinel(payload) for payload in HOSTILE_PAYLOADS)
    assert len(payloads) >= 50
    index = write_recap(hostile_document(payloads), tmp_path, split_at=split_at)
    pages = sorted(tmp_path.glob("*.html"))
    assert len(pages) == (1 if split_at > 1000 else 4)
    for path in pages:
        visit = Visit(browser, path)
        visit.page.evaluate(PROVOKE)
        visit.page.wait_for_timeout(100)
        assert visit.page.evaluate("typeof window.__pwned") == "undefined", path.name
        assert visit.dialogs == [], path.name
        assert visit.page.evaluate(DOM_CHECK) == [], path.name
        assert visit.errors == [], path.name
        assert visit.foreign_requests(tmp_path) == [], path.name
        visit.page.close()
    assert index.exists()


# Whatever a figure or a table holds stays on a phone's screen: nothing wider
# than the viewport, no table scrolled sideways, no figure hidden.
PHONE_CHECK = """() => {
  const bad = [];
  const root = document.documentElement;
  const width = root.clientWidth;
  if (root.scrollWidth > width) bad.push('page ' + root.scrollWidth);
  for (const wrap of document.querySelectorAll('.table-wrap'))
    if (wrap.scrollWidth > wrap.clientWidth + 1)
      bad.push('table ' + wrap.querySelector('caption').textContent);
  const shown = 'main dl, main dt, main dd, main table, main th, main td, main svg, main figure';
  for (const el of document.querySelectorAll(shown)) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') bad.push('hidden ' + el.tagName);
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 || box.left < -1)
      bad.push('off screen ' + el.tagName + ' ' + box.right);
  }
  return bad;
}"""


def test_every_figure_fits_a_phone(browser: Any, tmp_path: Path) -> None:
    document, extras = _showcase()
    index = write_recap(document, tmp_path, extras)
    visit = Visit(browser, index)
    page = visit.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    assert page.evaluate(PHONE_CHECK) == []
    people = page.evaluate("document.querySelectorAll('#people ~ .table-wrap tbody tr').length")
    assert people == build_recap(document, extras).people_total > 20
    for scheme, background in (("dark", "rgb(21, 23, 27)"), ("light", "rgb(251, 250, 247)")):
        page.emulate_media(color_scheme=scheme)
        _picture(page, f"recap-phone-{scheme}.png", scheme == "dark")
        assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == (
            background
        )
        assert page.evaluate(PHONE_CHECK) == []
    assert visit.errors == []
    page.close()


AXE = Path(
    os.environ.get("CHATBOT_AXE")
    or Path(__file__).resolve().parents[2] / ".cache/axe/node_modules/axe-core/axe.min.js"
)
# Names on the graph never cover one another, whatever font the browser has.
LABELS_APART = """() => {
  const bad = [];
  for (const svg of document.querySelectorAll('svg.graph')) {
    const boxes = Array.from(svg.querySelectorAll('.names text'))
      .map(t => [t.textContent, t.getBBox()]);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, p] = boxes[i], [b, q] = boxes[j];
        const apart = p.x >= q.x + q.width || q.x >= p.x + p.width
          || p.y >= q.y + q.height || q.y >= p.y + p.height;
        if (!apart) bad.push(a + ' / ' + b);
      }
  }
  return bad;
}"""


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
  }));
}"""


def _axe_source() -> str:
    if not AXE.exists():
        skip_missing(f"axe-core is not installed (npm install --prefix .cache/axe axe-core): {AXE}")
    return AXE.read_text(encoding="utf-8")


def test_the_graph_shows_on_every_screen(browser: Any, tmp_path: Path) -> None:
    chat = crowd_chat(seed=11, participants=300, hostile=0, coverage=False, rate=30)
    index = write_recap(chat.document, tmp_path)
    visit = Visit(browser, index)
    page = visit.page
    whole = page.locator("#graph ~ figure svg.graph")
    assert whole.count() == 1
    assert page.evaluate(LABELS_APART) == []
    names = page.evaluate("document.querySelectorAll('#graph ~ figure .names text').length")
    assert 5 <= names <= 15
    for width, scheme in ((1100, "light"), (390, "dark")):
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        box = whole.bounding_box()
        assert box is not None and width * 0.8 < box["width"] + 48 and box["height"] > 150
        assert page.evaluate(PHONE_CHECK) == []
    page.set_viewport_size({"width": 1100, "height": 900})
    page.emulate_media(color_scheme="light")
    _picture(page, "recap-graph.png", True, whole)
    # In the dark, circles and names keep the dark palette's colours.
    page.emulate_media(color_scheme="dark")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('svg.graph .names text')).fill")
        == "rgb(233, 231, 227)"
    )
    assert visit.errors == []
    page.close()


@pytest.mark.parametrize("width", [1100, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious(browser: Any, tmp_path: Path, width: int, scheme: str) -> None:
    source = _axe_source()
    document, extras = _showcase()
    pages = [write_recap(document, tmp_path, extras, split_at=60)]
    pages += sorted(tmp_path.glob("question-*.html"))[:1]
    assert len(pages) == 2
    for path in pages:
        visit = Visit(browser, path)
        page = visit.page
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        page.evaluate(source + "\n;0")  # through the debugger: the page's policy forbids scripts
        found = page.evaluate(AXE_RUN)
        serious = [v for v in found if v["impact"] in ("serious", "critical")]
        assert serious == [], (path.name, serious)
        if width < 500:  # the question pages fit a phone too
            assert page.evaluate(PHONE_CHECK) == [], path.name
        page.close()


def test_print_shows_content_without_navigation(browser: Any, tmp_path: Path) -> None:
    document, extras = _showcase()
    visit = Visit(browser, write_recap(document, tmp_path, extras))
    page = visit.page
    page.emulate_media(media="print", color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
    # Printed on white whatever the screen's scheme, and links say where they go.
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(0, 0, 0)"
    after = page.evaluate(
        "getComputedStyle(document.querySelector('.question-meta a'), '::after').content"
    )
    assert after.startswith('" (https://')
    assert page.evaluate("document.querySelectorAll('svg.graph').length") >= 1
    pdf = page.pdf()  # headless Chromium prints it
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    page.close()


def test_a_page_that_continues_a_thread_reads_well(browser: Any, tmp_path: Path) -> None:
    from .test_pages import big_chat

    source = _axe_source()
    write_recap(big_chat(2_000), tmp_path)
    path = tmp_path / "question-1-2.html"
    visit = Visit(browser, path)
    page = visit.page
    assert page.evaluate("document.querySelectorAll('li.resumed').length") >= 1
    assert page.evaluate("document.querySelectorAll('nav.pager').length") == 2
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(PHONE_CHECK) == []
    page.evaluate(source + "\n;0")
    found = page.evaluate(AXE_RUN)
    assert [v for v in found if v["impact"] in ("serious", "critical")] == []
    assert visit.errors == []
    page.close()
