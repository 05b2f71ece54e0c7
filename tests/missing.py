"""One way to skip a test for something missing (a server, a browser, data), which CI fails.

A test that can't run here for want of PostgreSQL, Chromium, the reference network
or recorded data skips with a reason made by :func:`missing`. Under ``CI=true`` the
hook in ``tests/conftest.py`` turns every such skip into a failure with the same
reason, so a CI run that is green ran everything. Skips for any other reason (a
test that doesn't apply to SQLite, say) are unaffected.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

PREFIX = "missing: "


def missing(what: str) -> str:
    """The skip reason for ``what`` being unavailable, e.g. ``missing("$X is not set")``."""
    return f"{PREFIX}{what}"


def skip_missing(what: str) -> NoReturn:
    """Skip the running test because ``what`` is unavailable (a failure under ``CI=true``)."""
    pytest.skip(missing(what))


def is_missing(reason: str) -> bool:
    """Whether a skip reason (as pytest reports it) was made by :func:`missing`."""
    return reason.removeprefix("Skipped: ").startswith(PREFIX)


def in_ci() -> bool:
    """Whether this run is CI's, where nothing may be missing (``CI=true``, as ``.ci/run`` sets)."""
    return os.environ.get("CI") == "true"
