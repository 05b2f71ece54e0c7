"""Mastodon status HTML to plain text with line breaks kept, and its links (pure)."""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCKS = {"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}
_SKIP = {"script", "style", "template"}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag in _SKIP:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self._block_break()
        elif tag == "a":
            href = (values.get("href") or "").strip()
            is_link = href.lower().startswith(("http://", "https://"))
            if is_link and "mention" not in classes and "hashtag" not in classes:
                self.links.append(href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        else:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self._block_break()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def _block_break(self) -> None:
        if self.parts and not "".join(self.parts[-2:]).endswith("\n\n"):
            text = "".join(self.parts)
            self.parts = [text.rstrip(" ") + ("\n" if text.endswith("\n") else "\n\n")]


def html_to_text(html: str) -> str:
    """Plain text of a status: paragraphs become blank lines, ``<br>`` a newline.

    Link text is kept whole (Mastodon's ``invisible`` spans hold the scheme
    and the tail of long links; a reader of plain text needs them).
    """
    parser = _TextParser()
    parser.feed(html or "")
    parser.close()
    return "".join(parser.parts).strip("\n").strip()


def html_links(html: str) -> list[str]:
    """The http(s) links of a status, without its mention and hashtag links."""
    parser = _TextParser()
    parser.feed(html or "")
    parser.close()
    return list(dict.fromkeys(parser.links))


__all__ = ["html_links", "html_to_text"]
