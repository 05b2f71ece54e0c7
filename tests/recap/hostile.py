"""A transcript document carrying every hostile payload, and the structural checks against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chatbot.sandbox.crowd import HOSTILE_PAYLOADS

from .htmltree import Node

START = datetime(2027, 12, 7, 17, 0, tzinfo=UTC)
LINK = "app.bsky.richtext.facet#link"

# Everything the recap itself writes; a payload that adds any other element has escaped.
ALLOWED_TAGS = {
    "",
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "main",
    "footer",
    "nav",
    "section",
    "h1",
    "h2",
    "h3",
    "h4",
    "figure",
    "figcaption",
    "g",
    "circle",
    "p",
    "a",
    "b",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "div",
    "small",
    "span",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "details",
    "summary",
    "time",
    "svg",
    "desc",
    "line",
    "text",
    "rect",
    "strong",
    "em",
    "i",
    "u",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "br",
}
FORBIDDEN_ATTRIBUTES = {
    "style",
    "src",
    "srcdoc",
    "data",
    "action",
    "formaction",
    "background",
    "xlink:href",
    "poster",
    "srcset",
    "ping",
    "target",
}


def sentinel(payload: str) -> str:
    """The payload, made to set ``window.__pwned`` if it ever runs."""
    return payload.replace("alert(", "window.__pwned=1;alert(").replace(
        "msgbox(", "window.__pwned=1;msgbox("
    )


def hostile_document(payloads: tuple[str, ...] = HOSTILE_PAYLOADS) -> dict[str, Any]:
    """One Bluesky and one Mastodon post per payload, in names, text, HTML and facets."""
    posts: list[dict[str, Any]] = []
    for index, payload in enumerate(payloads):
        at = (START + timedelta(minutes=6, seconds=7 * index)).isoformat()
        data = payload.encode("utf-8")
        facets = [
            {
                "index": {"byteStart": 0, "byteEnd": len(data)},
                "features": [{"$type": LINK, "uri": payload}],
            },
            {
                "index": {"byteStart": 0, "byteEnd": 1},
                "features": [{"$type": LINK, "uri": "javascript:window.__pwned=1"}],
            },
        ]
        parent = f"at://did:plc:h{index - 1}/app.bsky.feed.post/{index - 1}" if index % 3 else None
        posts.append(
            {
                "network": "bluesky",
                "uri": f"at://did:plc:h{index}/app.bsky.feed.post/{index}",
                "url": payload if index % 2 else f"https://bsky.app/profile/h{index}/post/{index}",
                "author": {"handle": f"h{index}.example", "display_name": payload},
                "created_at": at,
                "text": payload,
                "facets": facets,
                "question": "Q1",
                "parent_uri": parent,
            }
        )
        posts.append(
            {
                "network": "mastodon",
                "uri": f"https://social.example/users/m{index}/statuses/{index}",
                "url": f"https://social.example/@m{index}/{index}",
                "author": {"handle": f"m{index}", "display_name": payload},
                "created_at": at,
                "text": payload,
                "html": f"<p>{payload}</p>",
                "question": "Q2" if index % 2 else None,
            }
        )
    return {
        "event": {
            "hashtag": "sm35",
            "title": payloads[0],
            "start": START.isoformat(),
            "end": (START + timedelta(hours=1)).isoformat(),
            "timezone": "America/New_York",
            "networks": ["bluesky", "mastodon"],
            "moderators": [payloads[1]],
        },
        "questions": [
            {
                "label": "Q1",
                "number": 1,
                "text": payloads[2],
                "posted": {"bluesky": {"url": payloads[26], "at": START.isoformat()}},
            },
            {
                "label": "Q2",
                "number": 2,
                "text": payloads[3],
                "posted": {
                    "mastodon": {
                        "url": "javascript:alert(1)",
                        "at": (START + timedelta(minutes=10)).isoformat(),
                    }
                },
            },
        ],
        "posts": posts,
    }


def problems(root: Node) -> list[str]:
    """Everything in the parsed page a hostile payload could have put there."""
    found: list[str] = []
    styles = 0
    for node in root.iter():
        if node.tag not in ALLOWED_TAGS:
            found.append(f"<{node.tag}>")
        styles += node.tag == "style"
        for name, value in node.attrs.items():
            if name.startswith("on") or name in FORBIDDEN_ATTRIBUTES:
                found.append(f"<{node.tag} {name}>")
            if name == "href" and value is not None:
                if not _own_or_web(value):
                    found.append(f"<{node.tag} href={value!r}>")
                if value.startswith("http") and "nofollow" not in (node.attrs.get("rel") or ""):
                    found.append(f"<a href={value!r}> without rel=nofollow")
        if node.tag == "meta" and node.attrs.get("http-equiv", "").lower() not in (
            "",
            "content-security-policy",
        ):  # type: ignore[union-attr]
            found.append(f"<meta http-equiv={node.attrs['http-equiv']!r}>")
    if styles != 1:
        found.append(f"{styles} <style> elements")
    return found


def _own_or_web(href: str) -> bool:
    if href.startswith(("https://", "http://")):
        return not any(ch in href for ch in "\"'<> \t\n")
    own = href.split("#", 1)[0]
    return own in ("", "index.html") or (own.startswith("question-") and own.endswith(".html"))
