"""The recap page: figures, threads and a timeline rendered from the transcript document."""

from .data import Recap, build_recap
from .document import Coverage, RecapExtras
from .render import content_security_policy, environment, render_recap, write_recap
from .sanitise import bluesky_html, mastodon_html, safe_url
from .svg import timeline_svg

__all__ = [
    "Coverage",
    "Recap",
    "RecapExtras",
    "bluesky_html",
    "build_recap",
    "content_security_policy",
    "environment",
    "mastodon_html",
    "render_recap",
    "safe_url",
    "timeline_svg",
    "write_recap",
]
