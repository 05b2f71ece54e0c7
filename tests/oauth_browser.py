"""A person at a browser, for OAuth tests: open an authorisation URL, sign in, approve.

It reads the sandbox's pages as HTML (forms and the code element), the way a
browser would, and posts the form over real HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Page:
    status: int
    text: str
    url: str
    inputs: dict[str, str] = field(default_factory=dict)
    action: str = ""
    code: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.action = ""
        self.code = ""
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = found.get("action", "")
        elif tag == "input" and "name" in found:
            self.inputs[found["name"]] = found.get("value", "")
        elif tag == "code" and found.get("id") == "code":
            self._in_code = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code += data


def read(response: requests.Response) -> Page:
    reader = _Reader()
    reader.feed(response.text)
    return Page(
        response.status_code,
        response.text,
        response.url,
        reader.inputs,
        reader.action,
        reader.code.strip(),
    )


def open_page(url: str) -> Page:
    return read(requests.get(url, timeout=10))


def sign_in(url: str, login: str, password: str = "") -> Page:
    """Open ``url``, fill in the sign-in form and submit it; the page that follows."""
    form = open_page(url)
    assert form.action, f"no form on the page ({form.status}): {form.text[:300]}"
    data = dict(form.inputs) | {"login": login, "password": password}
    answer = requests.post(urljoin(url, form.action), data=data, timeout=10, allow_redirects=False)
    return read(answer)


def authorise(url: str, login: str, password: str = "") -> str:
    """The out-of-band code the page shows after signing in and approving."""
    page = sign_in(url, login, password)
    assert page.code, f"no code on the page ({page.status}): {page.text[:300]}"
    return page.code


__all__ = ["Page", "authorise", "open_page", "sign_in"]
