"""Where the real recorded API payloads live: ``tests/fixtures/real`` (see its SOURCES.md)."""

from pathlib import Path

import pytest

from tests.missing import missing

REAL_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real"

# The recordings are part of the checkout, so this never skips in a whole one; it
# stays for the tests that still carry it (a CI run fails it like any missing data).
needs_real_fixtures = pytest.mark.skipif(
    not REAL_FIXTURES.is_dir(), reason=missing(f"the real recordings at {REAL_FIXTURES}")
)
