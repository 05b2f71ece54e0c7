"""Small HTML pages of posts and accounts, so the sandbox's web links lead somewhere.

Everything shown comes from the crowd (hostile payloads included), so the
templates are autoescaped, text is shown as text (never as the network's
HTML), and every page carries a Content-Security-Policy without scripts: only
our own inline style, by hash. The networks' apps turn their store objects
into :class:`PostCard` and :class:`ProfileCard` and call these functions.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from urllib.parse import quote

from jinja2 import DictLoader, Environment
from markupsafe import Markup

from chatbot.sandbox.web import Response

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
    "article{border-bottom:1px solid #ccc;padding:.75em 0}"
    ".text{white-space:pre-wrap;overflow-wrap:anywhere}"
    ".meta,.note{color:#555;font-size:.9em}"
)
_DIGEST = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_DIGEST}'; img-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
HIDDEN = (
    "This author has chosen to show their posts only to people who are signed in "
    "(self-label !no-unauthenticated)."
)

_TEMPLATES = {
    "base.html": """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex, nofollow">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %} · {{ site }}</title>
<style>{{ style }}</style>
</head>
<body>
<header class="meta">{{ site }} (a local stand-in; nothing here is real)</header>
<main>
{% block main %}{% endblock %}
</main>
</body>
</html>
""",
    "card.html": """<article>
<p class="meta"><a href="{{ post.author_url }}">{{ post.author_name or post.author_handle }}</a>
<span>{{ post.author_handle }}</span>
· <a href="{{ post.url }}"><time datetime="{{ post.created_at }}">{{ post.created_at }}</time></a>
{% if post.edited_at %}
· edited <time datetime="{{ post.edited_at }}">{{ post.edited_at }}</time>
{% endif %}
</p>
{% if post.parent_url %}
<p class="meta">Reply to <a href="{{ post.parent_url }}">{{ post.parent_label or "a post" }}</a></p>
{% elif post.reply %}<p class="meta">Reply to a post that is gone</p>
{% endif %}
{% if post.hidden %}<p class="note">{{ hidden }}</p>
{% else %}
{% if post.warning %}<p class="note">Content warning: {{ post.warning }}</p>{% endif %}
<p class="text">{{ post.text }}</p>
{% endif %}
</article>
""",
    "post.html": """{% extends "base.html" %}
{% block title %}Post by {{ post.author_handle }}{% endblock %}
{% block main %}
{% include "card.html" %}
{% endblock %}
""",
    "profile.html": """{% extends "base.html" %}
{% block title %}{{ profile.name or profile.handle }}{% endblock %}
{% block main %}
<h1>{{ profile.name or profile.handle }}</h1>
<p class="meta"><a href="{{ profile.url }}">{{ profile.handle }}</a></p>
{% if profile.hidden %}<p class="note">{{ hidden }}</p>
{% else %}
{% if profile.bio %}<p class="text">{{ profile.bio }}</p>{% endif %}
<h2>Recent posts</h2>
{% for post in profile.posts %}{% include "card.html" %}{% else %}<p>No posts yet.</p>{% endfor %}
{% endif %}
{% endblock %}
""",
    "missing.html": """{% extends "base.html" %}
{% block title %}Not found{% endblock %}
{% block main %}
<h1>Not found</h1>
<p>{{ message }}</p>
{% endblock %}
""",
}

_env = Environment(
    loader=DictLoader(_TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
)


@dataclass(frozen=True)
class PostCard:
    """One post as a page shows it; every URL is a path on this server."""

    url: str
    author_handle: str
    author_url: str
    text: str
    created_at: str
    author_name: str = ""
    edited_at: str = ""
    warning: str = ""  # Mastodon's content warning (spoiler text)
    reply: bool = False
    parent_url: str = ""  # empty for a post that is no reply, or whose parent is gone
    parent_label: str = ""
    hidden: bool = False  # the author shows posts to signed-in people only


@dataclass(frozen=True)
class ProfileCard:
    """An account and its recent posts, newest first."""

    handle: str
    url: str
    name: str = ""
    bio: str = ""
    posts: list[PostCard] = field(default_factory=list)
    hidden: bool = False


def segment(value: str) -> str:
    """``value`` as one path segment (handles, DIDs and ids stay readable)."""
    return quote(value, safe=":@.-_~")


def html_response(body: str, status: int = 200) -> Response:
    return Response(status, body.encode("utf-8"), "text/html; charset=utf-8", dict(HEADERS))


def _render(template: str, site: str, **values: object) -> str:
    return _env.get_template(template).render(
        site=site, style=Markup(STYLE), hidden=HIDDEN, **values
    )


def post_page(post: PostCard, *, site: str) -> Response:
    return html_response(_render("post.html", site, post=post))


def profile_page(profile: ProfileCard, *, site: str) -> Response:
    return html_response(_render("profile.html", site, profile=profile))


def not_found_page(message: str, *, site: str) -> Response:
    return html_response(_render("missing.html", site, message=message), 404)


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "PostCard",
    "ProfileCard",
    "html_response",
    "not_found_page",
    "post_page",
    "profile_page",
    "segment",
]
